"""Job postings (schema.org JobPosting), the applications to them, and placements in them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import (
    UNREAD,
    Base,
    code_column,
    created_at_column,
    enum_column,
    id_column,
)
from db.models.enums import ApplicationStatus, EmploymentType, JobStatus, SalaryUnit


def monthly_pay(column: str) -> str:
    """The monthly figure of a salary bound, by unit (21.75 paid days a month, 8 hours each)."""
    return (
        f"CASE salary_unit WHEN 'month' THEN {column} "
        f"WHEN 'day' THEN round({column} * 21.75, 2) WHEN 'hour' THEN {column} * 174 END"
    )


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("salary_min >= 0 AND salary_max >= salary_min", name="salary_range"),
        CheckConstraint("headcount > 0", name="headcount_positive"),
        CheckConstraint("valid_through IS NULL OR valid_through > posted_at", name="validity"),
        CheckConstraint(
            "openings_filled >= 0 AND openings_filled <= headcount", name="openings_filled"
        ),
        CheckConstraint("open_reports >= 0", name="open_reports"),
        Index("ix_jobs_posted_at_id", "posted_at", "id"),
        Index("ix_jobs_employer_id_posted_at", "employer_id", "posted_at", "id"),
        Index("ix_jobs_salary_max_id", "salary_max", "id"),
        Index("ix_jobs_salary_min", "salary_min"),
        Index("ix_jobs_employment_type", "employment_type"),
        Index("ix_jobs_salary_unit", "salary_unit"),
        Index("ix_jobs_search_grams", "search_grams", postgresql_using="gin"),
        Index("ix_jobs_monthly_salary_max_id", "monthly_salary_max", "id"),
        Index("ix_jobs_monthly_salary_min", "monthly_salary_min"),
    )

    id: Mapped[int] = id_column()
    employer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("employers.id"))
    title: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, server_default="")
    occupation_code: Mapped[str | None] = mapped_column(
        code_column(10), ForeignKey("occupations.code"), index=True
    )
    industry_code: Mapped[str | None] = mapped_column(
        code_column(5), ForeignKey("industries.code"), index=True
    )
    region_code: Mapped[str] = mapped_column(
        code_column(6), ForeignKey("regions.code"), index=True
    )
    salary_min: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    salary_max: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    salary_unit: Mapped[SalaryUnit] = mapped_column(enum_column(SalaryUnit))
    headcount: Mapped[int] = mapped_column(Integer)
    employment_type: Mapped[EmploymentType] = mapped_column(enum_column(EmploymentType))
    lodging: Mapped[bool] = mapped_column(Boolean, server_default="false")
    board: Mapped[bool] = mapped_column(Boolean, server_default="false")
    # No index: most jobs are published, and an index of the status led the planner to AND
    # 39,000 published jobs into every public read (migration 0012).
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus))
    posted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    valid_through: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    # Openings filled by hiring through the hub (reviewApplication HIRE); at `headcount` the
    # job closes.
    openings_filled: Mapped[int] = mapped_column(Integer, server_default="0")
    # Its open reports (one per reporter at most), kept by a trigger on job_reports
    # (migration 0011), so the public view tests a column, not the reports.
    open_reports: Mapped[int] = mapped_column(Integer, server_default="0")
    # Pay per month whatever the unit (a day's pay times 21.75, an hour's times 174); none
    # for piece rates.
    monthly_salary_min: Mapped[Decimal | None] = mapped_column(
        Numeric, Computed(monthly_pay("salary_min"), persisted=True)
    )
    monthly_salary_max: Mapped[Decimal | None] = mapped_column(
        Numeric, Computed(monthly_pay("salary_max"), persisted=True)
    )
    # What `keyword` searches: title, description, employer's and occupation's names,
    # lowercased, and its one- and two-character grams (GIN-indexed), kept by triggers
    # (migration 0012). No read path returns them.
    search_text: Mapped[str] = mapped_column(
        Text, server_default="", info=UNREAD
    )
    search_grams: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default="{}", info=UNREAD
    )


class Application(Base):
    __tablename__ = "applications"
    __table_args__ = (
        UniqueConstraint("worker_id", "job_id"),
        Index("ix_applications_job_id_submitted_at", "job_id", "submitted_at", "id"),
    )

    id: Mapped[int] = id_column()
    worker_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("workers.id"))
    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("jobs.id"))
    status: Mapped[ApplicationStatus] = mapped_column(enum_column(ApplicationStatus), index=True)
    submitted_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    version: Mapped[int] = mapped_column(Integer, server_default="1")


class Placement(Base):
    """就业安置: a worker placed in a job, from an application or from outside one."""

    __tablename__ = "placements"
    __table_args__ = (
        CheckConstraint("ended_on IS NULL OR ended_on >= started_on", name="period"),
        CheckConstraint("monthly_wage >= 0", name="monthly_wage_non_negative"),
        Index("ix_placements_job_id_started_on_id", "job_id", "started_on", "id"),
        Index("ix_placements_worker_id_started_on_id", "worker_id", "started_on", "id"),
        Index("ix_placements_started_on_id", "started_on", "id"),
    )

    id: Mapped[int] = id_column()
    worker_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("workers.id"))
    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("jobs.id"))
    # NULL: placed without an application here (e.g. referred by a public employment office).
    application_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("applications.id"), unique=True
    )
    started_on: Mapped[date] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    monthly_wage: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = created_at_column()
