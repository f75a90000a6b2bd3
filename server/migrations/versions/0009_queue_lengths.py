"""queue lengths kept by triggers on SQLite: a ticket's position without counting its line

Every 201 of POST /tickets carries the ticket's place in line, which was a count of the
waiting tickets ahead of it: SQLite walks such a range entry by entry, so the count grew with
the line, and on long queues it cost more CPU than the rest of issuing the ticket. The
table `queue_lengths` holds, per service, day, class and front flag, how many untargeted
tickets wait; triggers keep it on every insert, update and delete of a ticket, so no code path
can skip it. A position is then those counts minus the few tickets queued after the one asked
about (server.services.views). PostgreSQL keeps counting (see server.models.queue_length).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# A ticket counts in the group of its service, day, class and front flag while it waits for
# the service as a whole (not sent to one counter).
_QUEUED = "{t}.status = 'waiting' AND {t}.target_counter_id IS NULL"
_SAME_GROUP = ("NEW.service_code = OLD.service_code AND NEW.day = OLD.day "
               "AND NEW.preferential = OLD.preferential AND NEW.front = OLD.front")
_MOVED = (f"NOT ({_QUEUED.format(t='OLD')} AND {_QUEUED.format(t='NEW')} AND {_SAME_GROUP})")
_COLUMNS = "status, service_code, day, preferential, front, target_counter_id"


def _join(row: str) -> str:
    return (
        "INSERT INTO queue_lengths (service_code, day, preferential, front, waiting) "
        f"VALUES ({row}.service_code, {row}.day, {row}.preferential, {row}.front, 1) "
        "ON CONFLICT (service_code, day, preferential, front) "
        "DO UPDATE SET waiting = waiting + 1;"
    )


def _leave(row: str) -> str:
    return (
        "UPDATE queue_lengths SET waiting = waiting - 1 "
        f"WHERE service_code = {row}.service_code AND day = {row}.day "
        f"AND preferential = {row}.preferential AND front = {row}.front;"
    )


_TRIGGERS = {
    "tickets_queue_insert": (
        f"AFTER INSERT ON tickets WHEN {_QUEUED.format(t='NEW')}", _join("NEW")),
    "tickets_queue_leave": (
        f"AFTER UPDATE OF {_COLUMNS} ON tickets WHEN {_QUEUED.format(t='OLD')} AND {_MOVED}",
        _leave("OLD")),
    "tickets_queue_join": (
        f"AFTER UPDATE OF {_COLUMNS} ON tickets WHEN {_QUEUED.format(t='NEW')} AND {_MOVED}",
        _join("NEW")),
    "tickets_queue_delete": (
        f"AFTER DELETE ON tickets WHEN {_QUEUED.format(t='OLD')}", _leave("OLD")),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_table(
        "queue_lengths",
        sa.Column("service_code", sa.String(40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("preferential", sa.Boolean(), nullable=False),
        sa.Column("front", sa.Boolean(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.CheckConstraint("waiting >= 0", name="ck_queue_lengths_waiting"),
        sa.PrimaryKeyConstraint("service_code", "day", "preferential", "front",
                                name="pk_queue_lengths"),
    )
    op.execute(
        "INSERT INTO queue_lengths (service_code, day, preferential, front, waiting) "
        "SELECT service_code, day, preferential, front, count(*) FROM tickets "
        f"WHERE {_QUEUED.format(t='tickets')} "
        "GROUP BY service_code, day, preferential, front"
    )
    for name, (when, action) in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {action} END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.drop_table("queue_lengths")
