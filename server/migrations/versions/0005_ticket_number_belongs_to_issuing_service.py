"""ticket numbers belong to the service that issued them, not the one a transfer moved to

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_service_code", sa.String(length=40), nullable=True))
    # The issue event says which service handed out each existing number.
    op.execute(
        "UPDATE tickets SET issued_service_code = COALESCE("
        "(SELECT events.service_code FROM events WHERE events.ticket_id = tickets.id "
        "AND events.type = 'ticket.issued'), service_code)"
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.alter_column("issued_service_code", existing_type=sa.String(length=40),
                              nullable=False)
        batch_op.create_foreign_key(op.f("fk_tickets_issued_service_code_services"),
                                    "services", ["issued_service_code"], ["code"])
        batch_op.drop_constraint("uq_tickets_number", type_="unique")
        batch_op.create_unique_constraint("uq_tickets_number",
                                          ["issued_service_code", "day", "sequence"])


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint("uq_tickets_number", type_="unique")
        batch_op.create_unique_constraint("uq_tickets_number", ["service_code", "day", "sequence"])
        batch_op.drop_constraint(op.f("fk_tickets_issued_service_code_services"),
                                 type_="foreignkey")
        batch_op.drop_column("issued_service_code")
