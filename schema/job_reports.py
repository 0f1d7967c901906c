"""Reports of job postings: what the reporter, staff of the job's division and admins read."""

from __future__ import annotations

from datetime import datetime

import strawberry

from db.models.enums import JobReportReason, JobReportStatus
from resolvers.job_report_writes import JobReportDecision
from resolvers.job_reports import JOB_REPORT, REPORT_JOB
from schema.fields import listed, to_one
from schema.node import Node

strawberry.enum(JobReportReason, description=JobReportReason.__doc__)
strawberry.enum(JobReportStatus, description=JobReportStatus.__doc__)
strawberry.enum(JobReportDecision, description=JobReportDecision.__doc__)


@strawberry.type(
    description="A report of a job posting. Seen by its reporter, staff of the job's division "
    "and admins; who reported is never shown."
)
class JobReport(Node):
    job_id: strawberry.Private[int]
    reporter: strawberry.Private[str]
    reviewed_by: strawberry.Private[str | None]
    reason: JobReportReason
    text: str
    status: JobReportStatus
    created_at: datetime
    reviewed_at: datetime | None = strawberry.field(description="When staff decided it.")
    job = to_one(REPORT_JOB, "Null when the viewer may not see the job.")


@strawberry.input(description="Narrows the list of job reports; all given conditions must hold.")
class JobReportFilter:
    job_id: strawberry.ID | None = None
    status: JobReportStatus | None = None
    reason: JobReportReason | None = None


@strawberry.type
class JobReportQuery:
    job_reports = listed(JOB_REPORT, JobReportFilter, "Reports of jobs, newest first by default.")
