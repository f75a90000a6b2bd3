"""display messages: the ticker line managers set per zone for the hall displays

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "display_messages",
        sa.Column("zone_id", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("set_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", server.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(text) BETWEEN 1 AND 280",
                           name=op.f("ck_display_messages_text_length")),
        sa.CheckConstraint("expires_at IS NULL OR expires_at > set_at",
                           name=op.f("ck_display_messages_expires_after_set")),
        sa.PrimaryKeyConstraint("zone_id", name=op.f("pk_display_messages")),
    )


def downgrade() -> None:
    op.drop_table("display_messages")
