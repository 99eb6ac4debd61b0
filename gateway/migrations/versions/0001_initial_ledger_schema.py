"""Initial ledger schema: files, documents, events, dedup keys, control numbers, outbox, alerts, acks.

Revision ID: 0001
Revises:
Create Date: 2026-11-27 14:40:53.153635
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('acks_expected',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('partner_id', sa.String(length=100), nullable=False),
    sa.Column('isa13', sa.Text(), nullable=False),
    sa.Column('gs06', sa.Text(), nullable=False),
    sa.Column('st02', sa.Text(), nullable=False),
    sa.Column('document_id', sa.String(length=26), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acks_expected')),
    sa.UniqueConstraint('partner_id', 'isa13', 'gs06', 'st02', name=op.f('uq_acks_expected_partner_id_isa13_gs06_st02'))
    )
    op.create_index(op.f('ix_acks_expected_status_due_at'), 'acks_expected', ['status', 'due_at'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('partner_id', sa.String(length=100), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('dedup_key', sa.String(length=300), nullable=True),
    sa.Column('repeats', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('digest_id', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    op.create_index(op.f('ix_alerts_state_next_attempt_at'), 'alerts', ['state', 'next_attempt_at'], unique=False)
    op.create_index('uq_alerts_open_dedup_key', 'alerts', ['dedup_key'], unique=True, sqlite_where=sa.text("state != 'sent'"), postgresql_where=sa.text("state != 'sent'"))

    op.create_table('control_numbers',
    sa.Column('partner_id', sa.String(length=100), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('last_value', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('partner_id', 'direction', 'kind', name=op.f('pk_control_numbers'))
    )
    op.create_table('dedup_keys',
    sa.Column('partner_id', sa.String(length=100), nullable=False),
    sa.Column('layer', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=500), nullable=False),
    sa.Column('document_id', sa.String(length=26), nullable=True),
    sa.Column('file_id', sa.String(length=26), nullable=True),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('partner_id', 'layer', 'key', name=op.f('pk_dedup_keys'))
    )
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('file_id', sa.String(length=26), nullable=True),
    sa.Column('document_id', sa.String(length=26), nullable=True),
    sa.Column('outbox_id', sa.String(length=26), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state_from', sa.String(length=20), nullable=True),
    sa.Column('state_to', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events'))
    )
    op.create_index(op.f('ix_events_document_id'), 'events', ['document_id'], unique=False)
    op.create_index(op.f('ix_events_file_id'), 'events', ['file_id'], unique=False)
    op.create_index(op.f('ix_events_outbox_id'), 'events', ['outbox_id'], unique=False)

    op.create_table('files',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('transport', sa.String(length=16), nullable=False),
    sa.Column('transport_id', sa.String(length=1000), nullable=False),
    sa.Column('filename', sa.Text(), nullable=False),
    sa.Column('partner_hint', sa.String(length=100), nullable=True),
    sa.Column('partner_id', sa.String(length=100), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('landed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('parent_id', sa.String(length=26), nullable=True),
    sa.Column('metadata_json', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['files.id'], name=op.f('fk_files_parent_id_files')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_files')),
    sa.UniqueConstraint('transport', 'transport_id', name=op.f('uq_files_transport_transport_id'))
    )
    op.create_index(op.f('ix_files_partner_id_state'), 'files', ['partner_id', 'state'], unique=False)
    op.create_index(op.f('ix_files_sha256'), 'files', ['sha256'], unique=False)
    op.create_index(op.f('ix_files_state_claimed_until'), 'files', ['state', 'claimed_until'], unique=False)
    op.create_index(op.f('ix_files_state_next_attempt_at'), 'files', ['state', 'next_attempt_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('partner_id', sa.String(length=100), nullable=True),
    sa.Column('document_id', sa.String(length=26), nullable=True),
    sa.Column('destination', sa.Text(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=300), nullable=False),
    sa.Column('payload_sha256', sa.String(length=64), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_idempotency_key'))
    )
    op.create_index(op.f('ix_outbox_document_id'), 'outbox', ['document_id'], unique=False)
    op.create_index(op.f('ix_outbox_state_next_attempt_at'), 'outbox', ['state', 'next_attempt_at'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.String(length=26), nullable=False),
    sa.Column('file_id', sa.String(length=26), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('partner_id', sa.String(length=100), nullable=True),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('sender_id', sa.Text(), nullable=True),
    sa.Column('receiver_id', sa.Text(), nullable=True),
    sa.Column('isa13', sa.Text(), nullable=True),
    sa.Column('gs06', sa.Text(), nullable=True),
    sa.Column('st02', sa.Text(), nullable=True),
    sa.Column('gs01', sa.Text(), nullable=True),
    sa.Column('st01', sa.Text(), nullable=True),
    sa.Column('version', sa.Text(), nullable=True),
    sa.Column('business_key', sa.Text(), nullable=True),
    sa.Column('purpose_code', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=True),
    sa.Column('duplicate_of', sa.String(length=26), nullable=True),
    sa.Column('parent_id', sa.String(length=26), nullable=True),
    sa.Column('canonical_json', sa.Text(), nullable=True),
    sa.Column('issues_json', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of'], ['documents.id'], name=op.f('fk_documents_duplicate_of_documents')),
    sa.ForeignKeyConstraint(['file_id'], ['files.id'], name=op.f('fk_documents_file_id_files')),
    sa.ForeignKeyConstraint(['parent_id'], ['documents.id'], name=op.f('fk_documents_parent_id_documents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents')),
    sa.UniqueConstraint('file_id', 'seq', name=op.f('uq_documents_file_id_seq'))
    )
    op.create_index(op.f('ix_documents_kind_state'), 'documents', ['kind', 'state'], unique=False)
    op.create_index(op.f('ix_documents_partner_id_business_key'), 'documents', ['partner_id', 'business_key'], unique=False)
    op.create_index(op.f('ix_documents_partner_id_isa13_gs06_st02'), 'documents', ['partner_id', 'isa13', 'gs06', 'st02'], unique=False)
    op.create_index(op.f('ix_documents_partner_id_state'), 'documents', ['partner_id', 'state'], unique=False)
    op.create_index(op.f('ix_documents_state_next_attempt_at'), 'documents', ['state', 'next_attempt_at'], unique=False)



def downgrade() -> None:
    op.drop_index(op.f('ix_documents_state_next_attempt_at'), table_name='documents')
    op.drop_index(op.f('ix_documents_partner_id_state'), table_name='documents')
    op.drop_index(op.f('ix_documents_partner_id_isa13_gs06_st02'), table_name='documents')
    op.drop_index(op.f('ix_documents_partner_id_business_key'), table_name='documents')
    op.drop_index(op.f('ix_documents_kind_state'), table_name='documents')

    op.drop_table('documents')
    op.drop_index(op.f('ix_outbox_state_next_attempt_at'), table_name='outbox')
    op.drop_index(op.f('ix_outbox_document_id'), table_name='outbox')

    op.drop_table('outbox')
    op.drop_index(op.f('ix_files_state_next_attempt_at'), table_name='files')
    op.drop_index(op.f('ix_files_state_claimed_until'), table_name='files')
    op.drop_index(op.f('ix_files_sha256'), table_name='files')
    op.drop_index(op.f('ix_files_partner_id_state'), table_name='files')

    op.drop_table('files')
    op.drop_index(op.f('ix_events_outbox_id'), table_name='events')
    op.drop_index(op.f('ix_events_file_id'), table_name='events')
    op.drop_index(op.f('ix_events_document_id'), table_name='events')

    op.drop_table('events')
    op.drop_table('dedup_keys')
    op.drop_table('control_numbers')
    op.drop_index('uq_alerts_open_dedup_key', sqlite_where=sa.text("state != 'sent'"), postgresql_where=sa.text("state != 'sent'"), table_name='alerts')
    op.drop_index(op.f('ix_alerts_state_next_attempt_at'), table_name='alerts')

    op.drop_table('alerts')
    op.drop_index(op.f('ix_acks_expected_status_due_at'), table_name='acks_expected')

    op.drop_table('acks_expected')
