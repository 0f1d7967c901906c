"""Monthly social-insurance contributions, one per worker, type, pooling region and month.

The table is partitioned by `period`, one partition per calendar year (`db/partitions.py`
makes them; migration 0007 says why yearly). PostgreSQL wants the partition key in every
unique index of a partitioned table, so the primary key is (id, period): ids still come from
one sequence and stay unique in practice, and the unique key (worker, type, region, period)
holds across all partitions because it contains `period`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    PrimaryKeyConstraint,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, code_column, enum_column, id_column
from db.models.enums import ContributionStatus, InsuranceType


class InsuranceRecord(Base):
    __tablename__ = "insurance_records"
    __table_args__ = (
        PrimaryKeyConstraint("id", "period"),
        UniqueConstraint("worker_id", "insurance_type", "region_code", "period"),
        CheckConstraint("extract(day from period) = 1", name="period_is_month"),
        CheckConstraint(
            "contribution_base >= 0 AND employer_amount >= 0 AND personal_amount >= 0",
            name="amounts_non_negative",
        ),
        Index("ix_insurance_records_period_id", "period", "id"),
        # a worker's history newest first, read a page at a time (migration 0008)
        Index("ix_insurance_records_worker_id_period_id", "worker_id", "period", "id"),
        {"postgresql_partition_by": "RANGE (period)"},
    )

    id: Mapped[int] = id_column()
    worker_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("workers.id"))
    # NULL employer: flexible employment, the worker contributes alone.
    employer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("employers.id"), index=True
    )
    insurance_type: Mapped[InsuranceType] = mapped_column(enum_column(InsuranceType), index=True)
    region_code: Mapped[str] = mapped_column(
        code_column(6), ForeignKey("regions.code"), index=True
    )
    period: Mapped[date] = mapped_column(Date, primary_key=True)
    contribution_base: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    employer_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    personal_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    status: Mapped[ContributionStatus] = mapped_column(enum_column(ContributionStatus), index=True)
