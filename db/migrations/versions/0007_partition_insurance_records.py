"""insurance_records partitioned by period, one partition per calendar year

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

The table is rebuilt as `PARTITION BY RANGE (period)`, with a partition for every year that
has rows (`insurance_records_y2025` holds 2025-01 .. 2025-12); the rows are moved with their
ids, the id sequence is kept (new rows continue past the largest id), then the constraints and
indexes are made again under their old names. Later years get their partitions from
`laborhub maintain` or on demand (db/partitions.py); there is no DEFAULT partition.

Why a year per partition, not a month: nationally the table holds billions of rows, a few
billion a year, so a yearly partition is large but well within what one table takes, and
- a worker's history (the summary every front office shows) has no period bound, so it reads
  every partition's index: 10 years are 10 index probes, not 120, and a plan over them
  locks 10 partitions with their 7 indexes each, not 120 (past 16 relations a backend's
  locks leave the fast path for the shared lock table);
- the statistics are yearly (a province's year), which prunes to exactly one partition;
- planning grows with the partitions left after pruning, and queries without a period bound
  (by worker, by employer, by id) leave all of them.
Monthly partitions would pay off only for statistics of single months, or for dropping
months one by one; neither is needed here.

The primary key becomes (id, period): a unique index on a partitioned table must contain the
partition key. The unique key (worker_id, insurance_type, region_code, period) contains it,
so it holds across the partitions as before.

This copies the rows in the migration's transaction: right for the data sets here (1,000,000
rows in `large`). A national database would instead attach the old table as one partition
and move its rows out in batches.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TABLE = "insurance_records"
SEQUENCE = "insurance_records_id_seq"
COLUMNS = (
    "id, worker_id, employer_id, insurance_type, region_code, period,"
    " contribution_base, employer_amount, personal_amount, status"
)
UNIQUE = "uq_insurance_records_worker_id_insurance_type_region_co_d4c4"
FOREIGN_KEYS = (
    ("fk_insurance_records_worker_id_workers", "workers", "worker_id", "id"),
    ("fk_insurance_records_employer_id_employers", "employers", "employer_id", "id"),
    ("fk_insurance_records_region_code_regions", "regions", "region_code", "code"),
)
INDEXES = (
    ("ix_insurance_records_employer_id", ["employer_id"]),
    ("ix_insurance_records_insurance_type", ["insurance_type"]),
    ("ix_insurance_records_period_id", ["period", "id"]),
    ("ix_insurance_records_region_code", ["region_code"]),
    ("ix_insurance_records_status", ["status"]),
)


def _create_table(name: str, *, partitioned: bool) -> None:
    """The table as 0001 made it, under `name`, its ids from the existing sequence."""
    kind: dict[str, Any] = {"postgresql_partition_by": "RANGE (period)"} if partitioned else {}
    op.create_table(
        name,
        sa.Column(
            "id", sa.BigInteger(), nullable=False, autoincrement=False,
            server_default=sa.text(f"nextval('{SEQUENCE}'::regclass)"),
        ),
        sa.Column("worker_id", sa.BigInteger(), nullable=False),
        sa.Column("employer_id", sa.BigInteger(), nullable=True),
        sa.Column("insurance_type", sa.String(length=12), nullable=False),
        sa.Column("region_code", sa.String(length=6, collation="C"), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("contribution_base", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("employer_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("personal_amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=9), nullable=False),
        sa.CheckConstraint(
            "contribution_base >= 0 AND employer_amount >= 0 AND personal_amount >= 0",
            name=op.f("ck_insurance_records_amounts_non_negative"),
        ),
        sa.CheckConstraint(
            "status IN ('paid', 'arrears', 'back_paid')",
            name=op.f("ck_insurance_records_contributionstatus"),
        ),
        sa.CheckConstraint(
            "insurance_type IN ('pension', 'medical', 'unemployment', 'work_injury', 'maternity')",
            name=op.f("ck_insurance_records_insurancetype"),
        ),
        sa.CheckConstraint(
            "extract(day from period) = 1", name=op.f("ck_insurance_records_period_is_month")
        ),
        **kind,
    )


def _create_year_partitions(parent: str) -> None:
    """A partition of `parent` for every year that has rows in the table now."""
    years = op.get_bind().execute(
        sa.text(f"SELECT DISTINCT extract(year FROM period)::int FROM {TABLE} ORDER BY 1")
    )
    for (year,) in years:
        op.execute(
            f"CREATE TABLE {TABLE}_y{year:04d} PARTITION OF {parent}"
            f" FOR VALUES FROM ('{year:04d}-01-01') TO ('{year + 1:04d}-01-01')"
        )


def _rebuild(*, partitioned: bool) -> None:
    """Move the rows into a new table of the other kind, which then takes the old one's
    name, sequence, keys and indexes (made after the rows are in: faster than row by row)."""
    new = f"{TABLE}_rebuilt"
    _create_table(new, partitioned=partitioned)
    if partitioned:
        _create_year_partitions(new)
    op.execute(f"INSERT INTO {new} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}")
    op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY NONE")  # or DROP TABLE drops it
    op.drop_table(TABLE)
    op.rename_table(new, TABLE)
    op.execute(f"ALTER SEQUENCE {SEQUENCE} OWNED BY {TABLE}.id")
    # Ids given explicitly (the seed gives them) may have run past the sequence.
    op.execute(
        f"SELECT setval('{SEQUENCE}', max(id)) FROM {TABLE}"
        f" HAVING max(id) > (SELECT last_value FROM {SEQUENCE})"
    )
    key = ["id", "period"] if partitioned else ["id"]
    op.create_primary_key(op.f("pk_insurance_records"), TABLE, key)
    op.create_unique_constraint(
        UNIQUE, TABLE, ["worker_id", "insurance_type", "region_code", "period"]
    )
    for name, referred, local, remote in FOREIGN_KEYS:
        op.create_foreign_key(name, TABLE, referred, [local], [remote])
    for name, columns in INDEXES:
        op.create_index(name, TABLE, columns)
    # Fresh statistics for the planner now; autovacuum never analyzes a partitioned parent.
    op.execute(f"ANALYZE {TABLE}")


def upgrade() -> None:
    _rebuild(partitioned=True)


def downgrade() -> None:
    _rebuild(partitioned=False)
