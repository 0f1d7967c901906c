"""skill_surveys: a worker's skill surveys (摸底), kept as history

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

One row per survey: the skills, intended occupations and regions (arrays of codes, checked
against their reference tables when written), expected monthly salary, willingness to
relocate, training needs, service point, when and by whom. The index (worker_id, surveyed_at,
id) serves a worker's history newest first and their latest survey; (surveyed_at, id) the
list of every survey.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "skill_surveys",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("worker_id", sa.BigInteger(), nullable=False),
        sa.Column("skill_codes", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column(
            "intended_occupation_codes", postgresql.ARRAY(sa.String(length=10)), nullable=False
        ),
        sa.Column("intended_region_codes", postgresql.ARRAY(sa.String(length=6)), nullable=False),
        sa.Column("expected_salary", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("willing_to_relocate", sa.Boolean(), nullable=False),
        sa.Column("training_needs", sa.String(length=1000), nullable=True),
        sa.Column("service_point", sa.String(length=128), nullable=True),
        sa.Column("surveyed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("surveyed_by", sa.String(length=160), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "expected_salary >= 0", name=op.f("ck_skill_surveys_expected_salary_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["workers.id"], name=op.f("fk_skill_surveys_worker_id_workers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skill_surveys")),
    )
    op.create_index(
        "ix_skill_surveys_worker_id_surveyed_at_id", "skill_surveys",
        ["worker_id", "surveyed_at", "id"],
    )
    op.create_index("ix_skill_surveys_surveyed_at_id", "skill_surveys", ["surveyed_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_skill_surveys_surveyed_at_id", table_name="skill_surveys")
    op.drop_index("ix_skill_surveys_worker_id_surveyed_at_id", table_name="skill_surveys")
    op.drop_table("skill_surveys")
