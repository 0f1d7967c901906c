"""idempotency keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 07:24:28.142358
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('principal', sa.String(length=160), nullable=False),
    sa.Column('operation', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('request_sha256', sa.String(length=64, collation='C'), nullable=False),
    sa.Column('result_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_keys')),
    sa.UniqueConstraint('principal', 'operation', 'key', name=op.f('uq_idempotency_keys_principal_operation_key'))
    )


def downgrade() -> None:
    op.drop_table('idempotency_keys')
