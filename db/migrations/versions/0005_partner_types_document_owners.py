"""partner agreement types, persisted document owners

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 20:40:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('api_keys', sa.Column('types', postgresql.ARRAY(sa.String(length=64)), nullable=True))
    op.add_column('persisted_documents', sa.Column('stored_by', sa.String(length=160), nullable=True))
    op.create_index(op.f('ix_persisted_documents_stored_by'), 'persisted_documents', ['stored_by'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_persisted_documents_stored_by'), table_name='persisted_documents')
    op.drop_column('persisted_documents', 'stored_by')
    op.drop_column('api_keys', 'types')
