"""placements

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 00:46:22.169020
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('placements',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('worker_id', sa.BigInteger(), nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('application_id', sa.BigInteger(), nullable=True),
    sa.Column('started_on', sa.Date(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('monthly_wage', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('ended_on IS NULL OR ended_on >= started_on', name=op.f('ck_placements_period')),
    sa.CheckConstraint('monthly_wage >= 0', name=op.f('ck_placements_monthly_wage_non_negative')),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_placements_application_id_applications')),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_placements_job_id_jobs')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_placements_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_placements')),
    sa.UniqueConstraint('application_id', name=op.f('uq_placements_application_id'))
    )
    op.create_index('ix_placements_job_id_started_on_id', 'placements', ['job_id', 'started_on', 'id'], unique=False)
    op.create_index('ix_placements_started_on_id', 'placements', ['started_on', 'id'], unique=False)
    op.create_index('ix_placements_worker_id_started_on_id', 'placements', ['worker_id', 'started_on', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_placements_worker_id_started_on_id', table_name='placements')
    op.drop_index('ix_placements_started_on_id', table_name='placements')
    op.drop_index('ix_placements_job_id_started_on_id', table_name='placements')
    op.drop_table('placements')
