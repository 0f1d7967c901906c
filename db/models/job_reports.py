"""Reports of job postings by the people who read them (fees charged, fake, discrimination...)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, created_at_column, enum_column, id_column
from db.models.enums import JobReportReason, JobReportStatus


class JobReport(Base):
    """One user's report of one job. A job with three open reports (one per reporter at most)
    leaves the public view until staff review them."""

    __tablename__ = "job_reports"
    __table_args__ = (
        # One open report per reporter and job; and what the hidden-job rule counts.
        Index(
            "uq_job_reports_open_job_id_reporter", "job_id", "reporter", unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_job_reports_job_id_created_at_id", "job_id", "created_at", "id"),
        Index("ix_job_reports_created_at_id", "created_at", "id"),
        Index("ix_job_reports_reporter", "reporter"),
    )

    id: Mapped[int] = id_column()
    job_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("jobs.id"))
    # The reporter's principal (`worker:<sub>`, `key:<id>`...): never shown by the API.
    reporter: Mapped[str] = mapped_column(String(160))
    reason: Mapped[JobReportReason] = mapped_column(enum_column(JobReportReason))
    text: Mapped[str] = mapped_column(String(2000), server_default="")
    status: Mapped[JobReportStatus] = mapped_column(
        enum_column(JobReportStatus), server_default="open"
    )
    created_at: Mapped[datetime] = created_at_column()
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(160))
