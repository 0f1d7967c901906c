"""Reporting a job (`reportJob`, any signed-in viewer) and reviewing its reports
(`reviewJobReports`, staff of its division and admins), declared writes.

A reporter has one open report per job: reporting again while it is open is DUPLICATE (a unique
index on the open reports makes that hold under races too). Three open reports take the job out
of the public view (resolvers.job_lifecycle); reviewing closes every open report of the job:
DISMISS puts it back, TAKE_DOWN closes the job.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert

from db.models.enums import JobReportReason, JobReportStatus, JobStatus
from resolvers.access import SIGNED_IN, Role, Viewer
from resolvers.global_ids import GlobalId
from resolvers.job_lifecycle import REPORTS
from resolvers.job_reports import JOB_REPORT
from resolvers.job_writes import (
    NO_SUCH_JOB,
    JobErrorCode,
    JobOutcome,
    JobProblem,
    change_job,
    managed_job,
)
from resolvers.jobs import JOB
from resolvers.pagination import readable_columns
from resolvers.writes import (
    Problem,
    Tx,
    Write,
    declare_write,
    decoded_key,
    described,
    done,
    failed,
    seen_row,
)

MAX_REPORT_TEXT = 2000
REVIEWING_ROLES = frozenset({Role.STAFF, Role.ADMIN})


class JobReportDecision(enum.Enum):
    """What staff decide about a job's open reports."""

    DISMISS = "dismiss"  # the job is fine: back in the public view
    TAKE_DOWN = "take_down"  # the job is closed


@dataclass(frozen=True, kw_only=True)
class JobReporting:
    """A report of a job: why, and what the reporter saw."""

    job_id: GlobalId
    reason: JobReportReason
    text: str = described(
        "What is wrong; required for OTHER. At most 2,000 characters.", default=""
    )


@dataclass(frozen=True, kw_only=True)
class ReportsReview:
    """Staff's decision on every open report of a job."""

    job_id: GlobalId
    decision: JobReportDecision
    version: int | None = described(
        "The job's version as read; when given, another version is STALE_VERSION.", default=None
    )


def _reporting_problems(viewer: Viewer, reporting: JobReporting) -> list[JobProblem]:
    problems: list[JobProblem] = []
    job_id = decoded_key(reporting.job_id, "Job", "jobId", JobErrorCode.INVALID)
    if isinstance(job_id, Problem):
        problems.append(job_id)
    if len(reporting.text) > MAX_REPORT_TEXT:
        problems.append(Problem(
            ("text",), JobErrorCode.INVALID, f"At most {MAX_REPORT_TEXT:,} characters."
        ))
    elif reporting.reason is JobReportReason.OTHER and not reporting.text.strip():
        problems.append(Problem(("text",), JobErrorCode.INVALID, "Say what is wrong."))
    return problems


async def _report(tx: Tx, reporting: JobReporting) -> JobOutcome:
    job_id = decoded_key(reporting.job_id, "Job", "jobId", JobErrorCode.INVALID)
    if await seen_row(tx.connection, JOB, job_id, tx.viewer) is None:
        return failed(NO_SUCH_JOB)
    made = await tx.connection.execute(
        insert(REPORTS)
        .values(
            job_id=job_id, reporter=tx.viewer.principal, reason=reporting.reason,
            text=reporting.text.strip(),
        )
        .on_conflict_do_nothing(
            index_elements=[REPORTS.c.job_id, REPORTS.c.reporter],
            index_where=REPORTS.c.status == JobReportStatus.OPEN,
        )
        .returning(*readable_columns(REPORTS))
    )
    report = made.mappings().first()
    if report is None:
        return failed(Problem(
            ("jobId",), JobErrorCode.DUPLICATE,
            "You reported this job already; staff have not reviewed it yet.",
        ))
    return done(report)


REPORT_JOB = declare_write(Write(
    "reportJob", "Report a job (any signed-in viewer, one open report per job); three open "
    "reports take it out of public view until staff review them.",
    JobReporting, JOB_REPORT, JobErrorCode, _report, _reporting_problems,
    SIGNED_IN, "Sign in to report a job.", idempotent=True,
))


def _review_problems(viewer: Viewer, review: ReportsReview) -> list[JobProblem]:
    job_id = decoded_key(review.job_id, "Job", "jobId", JobErrorCode.INVALID)
    return [job_id] if isinstance(job_id, Problem) else []


async def _review(tx: Tx, review: ReportsReview) -> JobOutcome:
    job = await managed_job(tx, review.job_id)
    if isinstance(job, Problem):
        return failed(job)
    take_down = review.decision is JobReportDecision.TAKE_DOWN
    closed = await tx.connection.execute(
        update(REPORTS)
        .where(REPORTS.c.job_id == job["id"], REPORTS.c.status == JobReportStatus.OPEN)
        .values(
            status=JobReportStatus.TAKEN_DOWN if take_down else JobReportStatus.DISMISSED,
            reviewed_at=func.now(), reviewed_by=tx.viewer.principal,
        )
        .returning(REPORTS.c.id)
    )
    if not closed.all():
        return failed(Problem(
            ("jobId",), JobErrorCode.INVALID_TRANSITION, "The job has no open reports."
        ))
    version = job["version"] if review.version is None else review.version
    values = {"status": JobStatus.CLOSED} if take_down else {}
    return await change_job(tx, job, version, values)


REVIEW_JOB_REPORTS = declare_write(Write(
    "reviewJobReports", "Decide a job's open reports (staff of its division, admins): DISMISS "
    "puts the job back in public view, TAKE_DOWN closes it.",
    ReportsReview, JOB, JobErrorCode, _review, _review_problems,
    REVIEWING_ROLES, "Only staff review reports.",
))

