"""Indexes for the remaining job and training filters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

Low-cardinality flags (gender, lodging, subsidised, new employment form) stay unindexed: a
B-tree on two values is not used by the planner; they filter alongside indexed conditions.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_jobs_salary_min", "jobs", ["salary_min"]),
    ("ix_jobs_employment_type", "jobs", ["employment_type"]),
    ("ix_jobs_salary_unit", "jobs", ["salary_unit"]),
    ("ix_trainings_ends_on", "trainings", ["ends_on"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in INDEXES:
        op.drop_index(name, table_name=table)
