"""queue indexes: call-next and positions seek instead of scanning the day's tickets

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TARGETED = "target_counter_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_waiting")
        batch_op.create_index(
            "ix_tickets_queue",
            ["status", "service_code", "target_counter_id", "preferential", "front",
             "queued_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_tickets_targeted",
            ["target_counter_id", "status", "day"],
            unique=False,
            sqlite_where=sa.text(_TARGETED),
            postgresql_where=sa.text(_TARGETED),
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_targeted", sqlite_where=sa.text(_TARGETED),
                            postgresql_where=sa.text(_TARGETED))
        batch_op.drop_index("ix_tickets_queue")
        batch_op.create_index("ix_tickets_waiting",
                              ["status", "service_code", "front", "queued_at", "id"],
                              unique=False)
