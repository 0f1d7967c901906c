"""access, consent, audit, persisted documents

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 06:50:11.751572
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# The audit trail is append-only for everyone, the application's own role included.
APPEND_ONLY_AUDIT = [
    """CREATE FUNCTION audit_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()""",
    """CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()""",
]


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('partner', sa.String(length=128), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.LargeBinary(), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('regions', postgresql.ARRAY(sa.String(length=6, collation='C')), nullable=False),
    sa.Column('fields', postgresql.ARRAY(sa.String(length=128)), nullable=True),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    op.create_index(op.f('ix_api_keys_partner'), 'api_keys', ['partner'], unique=False)
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('actor', sa.String(length=160), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('record_ids', postgresql.ARRAY(sa.String(length=64)), nullable=False),
    sa.Column('sensitive_fields', postgresql.ARRAY(sa.String(length=128)), nullable=False),
    sa.Column('purpose', sa.String(length=256), nullable=True),
    sa.Column('client_address', sa.String(length=64), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_actor'), 'audit_events', ['actor'], unique=False)
    op.create_index('ix_audit_events_at_id', 'audit_events', ['at', 'id'], unique=False)
    op.create_index(op.f('ix_audit_events_operation'), 'audit_events', ['operation'], unique=False)
    op.create_table('persisted_documents',
    sa.Column('sha256', sa.String(length=64, collation='C'), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('trusted', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('name', sa.String(length=256), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_persisted_documents'))
    )
    op.create_table('consents',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('worker_id', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_consents_worker_id_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    op.create_index(op.f('ix_consents_worker_id'), 'consents', ['worker_id'], unique=False)
    op.create_index('uq_consents_live', 'consents', ['worker_id', 'purpose'], unique=True, postgresql_where=sa.text('withdrawn_at IS NULL'))
    for statement in APPEND_ONLY_AUDIT:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
    op.execute("DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION IF EXISTS audit_events_refuse_change()")
    op.drop_index('uq_consents_live', table_name='consents', postgresql_where=sa.text('withdrawn_at IS NULL'))
    op.drop_index(op.f('ix_consents_worker_id'), table_name='consents')
    op.drop_table('consents')
    op.drop_table('persisted_documents')
    op.drop_index(op.f('ix_audit_events_operation'), table_name='audit_events')
    op.drop_index('ix_audit_events_at_id', table_name='audit_events')
    op.drop_index(op.f('ix_audit_events_actor'), table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_index(op.f('ix_api_keys_partner'), table_name='api_keys')
    op.drop_table('api_keys')

