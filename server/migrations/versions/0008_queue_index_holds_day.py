"""queue index holds the day and issue time: positions and queue counts read the index alone

ix_tickets_queue lacked `day`, so counting the tickets ahead of one (the position in every 201
of POST /tickets) and the hub's per-service queue counts looked up every counted row in the
table: about 2 µs a ticket, milliseconds per request on long queues. With `day` among the
equality columns and `issued_at` at the end, both are counted from the index alone, and
call-next's head seeks are unchanged. ix_tickets_targeted gets the columns call-next reads from
it, so that it stays covering too: otherwise SQLite prefers to scan the wider queue index for
the tickets transferred to a counter.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_OLD = ["status", "service_code", "target_counter_id", "preferential", "front", "queued_at", "id"]
_NEW = ["status", "service_code", "target_counter_id", "day", "preferential", "front",
        "queued_at", "id", "issued_at"]
_TARGETED = "target_counter_id IS NOT NULL"
_OLD_TARGETED = ["target_counter_id", "status", "day"]
_NEW_TARGETED = ["target_counter_id", "status", "day", "service_code", "preferential", "front",
                 "queued_at"]


def _replace(name: str, columns: list[str], **where) -> None:
    op.drop_index(name, table_name="tickets", **where)
    op.create_index(name, "tickets", columns, unique=False, **where)


def upgrade() -> None:
    _replace("ix_tickets_queue", _NEW)
    _replace("ix_tickets_targeted", _NEW_TARGETED, sqlite_where=sa.text(_TARGETED),
             postgresql_where=sa.text(_TARGETED))


def downgrade() -> None:
    _replace("ix_tickets_queue", _OLD)
    _replace("ix_tickets_targeted", _OLD_TARGETED, sqlite_where=sa.text(_TARGETED),
             postgresql_where=sa.text(_TARGETED))
