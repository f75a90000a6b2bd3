"""print jobs and printer states

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 20:23:56.734161
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('printer_states',
    sa.Column('printer_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('checked_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('online', 'paper_near_end', 'paper_out', 'offline', 'unknown')", name=op.f('ck_printer_states_status')),
    sa.PrimaryKeyConstraint('printer_id', name=op.f('pk_printer_states'))
    )
    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('printer_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('printed_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind = 'test' OR ticket_id IS NOT NULL", name=op.f('ck_print_jobs_ticket_job_has_ticket')),
    sa.CheckConstraint("kind IN ('ticket', 'test')", name=op.f('ck_print_jobs_kind')),
    sa.CheckConstraint("status IN ('queued', 'printing', 'printed', 'failed', 'cancelled')", name=op.f('ck_print_jobs_status')),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_print_jobs_attempts')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_print_jobs_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_print_jobs_due', ['status', 'next_attempt_at', 'id'], unique=False)
        batch_op.create_index('ix_print_jobs_printer', ['printer_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_print_jobs_printer')
        batch_op.drop_index('ix_print_jobs_due')

    op.drop_table('print_jobs')
    op.drop_table('printer_states')
