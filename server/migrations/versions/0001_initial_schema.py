"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 19:47:10.571185
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.models.base

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('order', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'staff', 'kiosk', 'display')", name=op.f('ck_api_tokens_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('name', name=op.f('uq_api_tokens_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    op.create_table('sequences',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_sequences'))
    )
    op.create_table('counters',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('agency_id', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('regular_since_preferential', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint("state IN ('open', 'paused', 'closed')", name=op.f('ck_counters_state')),
    sa.CheckConstraint('regular_since_preferential IS NULL OR regular_since_preferential >= 0', name=op.f('ck_counters_streak')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_counters_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_counters'))
    )
    op.create_table('services',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('prefix', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_services_agency_id_agencies')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_services'))
    )
    op.create_table('daily_numbers',
    sa.Column('service_code', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_code'], ['services.code'], name=op.f('fk_daily_numbers_service_code_services')),
    sa.PrimaryKeyConstraint('service_code', 'day', name=op.f('pk_daily_numbers'))
    )
    op.create_table('tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('follow_token', sa.String(length=32), nullable=False),
    sa.Column('service_code', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=12), nullable=False),
    sa.Column('preferential', sa.Boolean(), nullable=False),
    sa.Column('preferential_reason', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('issued_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('queued_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('front', sa.Boolean(), nullable=False),
    sa.Column('target_counter_id', sa.String(length=40), nullable=True),
    sa.Column('counter_id', sa.String(length=40), nullable=True),
    sa.Column('first_called_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('called_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('recall_count', sa.Integer(), nullable=False),
    sa.Column('started_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', server.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=12), nullable=True),
    sa.Column('folio', sa.String(length=60), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('transfer_count', sa.Integer(), nullable=False),
    sa.Column('issued_by', sa.String(length=80), nullable=True),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('resolved', 'follow_up', 'rejected')", name=op.f('ck_tickets_outcome')),
    sa.CheckConstraint("preferential_reason IS NULL OR preferential_reason IN ('senior', 'pregnancy', 'disability')", name=op.f('ck_tickets_reason')),
    sa.CheckConstraint("status IN ('waiting', 'called', 'serving', 'completed', 'no_show', 'cancelled')", name=op.f('ck_tickets_status')),
    sa.CheckConstraint("status NOT IN ('called', 'serving') OR counter_id IS NOT NULL", name=op.f('ck_tickets_held')),
    sa.CheckConstraint('recall_count >= 0', name=op.f('ck_tickets_recalls')),
    sa.CheckConstraint('sequence >= 1', name=op.f('ck_tickets_sequence_positive')),
    sa.ForeignKeyConstraint(['counter_id'], ['counters.id'], name=op.f('fk_tickets_counter_id_counters')),
    sa.ForeignKeyConstraint(['service_code'], ['services.code'], name=op.f('fk_tickets_service_code_services')),
    sa.ForeignKeyConstraint(['target_counter_id'], ['counters.id'], name=op.f('fk_tickets_target_counter_id_counters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tickets')),
    sa.UniqueConstraint('follow_token', name=op.f('uq_tickets_follow_token')),
    sa.UniqueConstraint('service_code', 'day', 'sequence', name='uq_tickets_number')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_day', ['day', 'service_code'], unique=False)
        batch_op.create_index('ix_tickets_waiting', ['status', 'service_code', 'front', 'queued_at', 'id'], unique=False)
        batch_op.create_index('uq_tickets_active_counter', ['counter_id'], unique=True, sqlite_where=sa.text("status IN ('called', 'serving')"), postgresql_where=sa.text("status IN ('called', 'serving')"))

    op.create_table('events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('service_code', sa.String(length=40), nullable=True),
    sa.Column('counter_id', sa.String(length=40), nullable=True),
    sa.Column('actor', sa.String(length=80), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_events_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_events'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_ticket', ['ticket_id', 'seq'], unique=False)

    op.create_table('idempotency_keys',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('caller', sa.String(length=80), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('created_at', server.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_idempotency_keys_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('key', 'caller', name=op.f('pk_idempotency_keys'))
    )


def downgrade() -> None:
    op.drop_table('idempotency_keys')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_ticket')

    op.drop_table('events')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('uq_tickets_active_counter', sqlite_where=sa.text("status IN ('called', 'serving')"), postgresql_where=sa.text("status IN ('called', 'serving')"))
        batch_op.drop_index('ix_tickets_waiting')
        batch_op.drop_index('ix_tickets_day')

    op.drop_table('tickets')
    op.drop_table('daily_numbers')
    op.drop_table('services')
    op.drop_table('counters')
    op.drop_table('sequences')
    op.drop_table('api_tokens')
    op.drop_table('agencies')
