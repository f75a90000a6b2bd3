"""receipts: signed receipts of completed tickets; print jobs may be receipt slips

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("folio", sa.String(length=19), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counter_id", sa.String(length=40), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=True),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", server.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", server.models.base.UTCDateTime(timezone=True),
                  nullable=False),
        sa.Column("signed_at", server.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'signed', 'failed', 'expired')",
                           name=op.f("ck_receipts_status")),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_receipts_attempts")),
        sa.CheckConstraint("status != 'signed' OR sha256 IS NOT NULL",
                           name=op.f("ck_receipts_signed_has_hash")),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"],
                                name=op.f("fk_receipts_ticket_id_tickets")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("folio", name=op.f("uq_receipts_folio")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_receipts_ticket_id")),
    )
    op.create_index("ix_receipts_due", "receipts", ["status", "next_attempt_at", "id"])
    op.create_index("ix_receipts_day", "receipts", ["day", "id"])
    op.create_index("ix_receipts_counter", "receipts", ["counter_id", "id"])
    op.create_index("ix_receipts_created", "receipts", ["created_at"])
    # Print jobs: a short receipt slip (folio and QR) printed at a counter.
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_constraint(op.f("ck_print_jobs_kind"), type_="check")
        batch.create_check_constraint("kind", "kind IN ('ticket', 'test', 'slip')")


def downgrade() -> None:
    op.execute("DELETE FROM print_jobs WHERE kind = 'slip'")
    with op.batch_alter_table("print_jobs") as batch:
        batch.drop_constraint(op.f("ck_print_jobs_kind"), type_="check")
        batch.create_check_constraint("kind", "kind IN ('ticket', 'test')")
    op.drop_table("receipts")
