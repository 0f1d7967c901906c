"""rate_buckets: rate limits shared by every process

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02

Each process keeps its buckets in memory and syncs them here about once a second
(`db.rate_buckets`), so a principal's limit holds across `serve --workers N` and across
instances. UNLOGGED: soft state, not worth the WAL, not needed on replicas.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("limiter", sa.String(length=32), nullable=False),
        sa.Column("principal", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("limiter", "principal", name=op.f("pk_rate_buckets")),
        prefixes=["UNLOGGED"],
    )
    op.create_index(op.f("ix_rate_buckets_updated_at"), "rate_buckets", ["updated_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rate_buckets_updated_at"), table_name="rate_buckets")
    op.drop_table("rate_buckets")
