"""insurance_records: an index for a worker's history, newest first

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

A worker's contributions are read newest first, a page at a time (period, then id). The unique
key (worker_id, insurance_type, region_code, period) finds a worker's rows but not in that
order, so every partition's rows of the worker were read and sorted. On (worker_id, period, id)
each yearly partition's rows come out in order and, the partitions being ranges of period, the
newest partition is read first and the others only when the page needs more: a page costs the
same after 30 years of contributions as after one.

A national database would build it without blocking writers: `CREATE INDEX CONCURRENTLY` on
each partition, then `CREATE INDEX ... ON ONLY insurance_records` and `ALTER INDEX ... ATTACH
PARTITION` for each (PostgreSQL builds no index concurrently on a partitioned table).
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = "ix_insurance_records_worker_id_period_id"


def upgrade() -> None:
    op.create_index(NAME, "insurance_records", ["worker_id", "period", "id"])


def downgrade() -> None:
    op.drop_index(NAME, table_name="insurance_records")
