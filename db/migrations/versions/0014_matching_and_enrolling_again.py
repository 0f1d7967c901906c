"""matching: a worker's refusal of recommendations; enrolling again in a training after
dropping it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:10:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # PIPL art. 24: a worker may refuse automated recommendations; when they did, and since when.
    op.add_column('workers', sa.Column('recommendation_opt_out', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('workers', sa.Column('recommendation_preference_at', sa.DateTime(timezone=True), nullable=True))
    # One enrollment of a worker in a training that is not dropped: a dropped one no longer
    # keeps the worker from enrolling again.
    op.drop_constraint(op.f('uq_enrollments_worker_id_training_id'), 'enrollments', type_='unique')
    op.create_index(
        'uq_enrollments_worker_id_training_id_active', 'enrollments', ['worker_id', 'training_id'],
        unique=True, postgresql_where=sa.text("status <> 'dropped'"),
    )


def downgrade() -> None:
    op.drop_index('uq_enrollments_worker_id_training_id_active', table_name='enrollments')
    # Enrollments made again after a drop would break the old key: keep the newest of each.
    op.execute(
        "DELETE FROM enrollments e USING enrollments newer "
        "WHERE e.worker_id = newer.worker_id AND e.training_id = newer.training_id "
        "AND e.id < newer.id"
    )
    op.create_unique_constraint(
        op.f('uq_enrollments_worker_id_training_id'), 'enrollments', ['worker_id', 'training_id']
    )
    op.drop_column('workers', 'recommendation_preference_at')
    op.drop_column('workers', 'recommendation_opt_out')
