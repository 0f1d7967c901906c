"""Where a job stands now, derived where it is read: expiry and the public view.

A published job whose `valid_through` has passed reads as EXPIRED everywhere (its `status`
field, the `status` filter, counts, `node`) from that moment on, with no background job: the
stored status stays PUBLISHED and every read derives the current one, in SQL on the compiled
path and in the row policies, in Python from a loaded row on the resolver path (`JOB_STATUS`,
a `Derived` with both forms). Writes read the same (`current_status`).

The public view of jobs, what anonymous callers see and every other viewer sees of the jobs
that are not theirs (README, "Who may see what"), is the jobs published now: stored PUBLISHED,
not expired, and not hidden by reports: a job with `HIDING_REPORTS` open reports (one per
reporter at most) leaves it until staff review them (`reviewJobReports`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, and_, case, func, not_, or_, select

from db.models import Job, JobReport
from db.models.base import table_of
from db.models.enums import JobReportStatus, JobStatus
from resolvers.declarations import Condition, Derived, Rule
from resolvers.filters import sync_rule

JOBS = table_of(Job)
REPORTS = table_of(JobReport)
HIDING_REPORTS = 3
"""Open reports (from as many reporters) that take a job out of the public view."""


def current_status(
    status: JobStatus, valid_through: datetime | None, now: datetime | None = None
) -> JobStatus:
    """The status a job has now: EXPIRED once a published job's `valid_through` has passed."""
    moment = now or datetime.now(UTC)
    past = valid_through is not None and valid_through <= moment
    return JobStatus.EXPIRED if status is JobStatus.PUBLISHED and past else status


def has_expired(job: FromClause) -> Condition:
    """A published job of `job` (the jobs table or an alias) whose validity has passed."""
    return and_(job.c.status == JobStatus.PUBLISHED, job.c.valid_through <= func.now())


def current_status_sql(job: FromClause) -> ColumnElement[Any]:
    return case((has_expired(job), JobStatus.EXPIRED.value), else_=job.c.status)


def published_now(job: FromClause = JOBS) -> Condition:
    """Published and not expired."""
    return and_(
        job.c.status == JobStatus.PUBLISHED,
        or_(job.c.valid_through.is_(None), job.c.valid_through > func.now()),
    )


def hidden_job_ids() -> Any:
    """The jobs with `HIDING_REPORTS` or more open reports: one scan of the open reports'
    partial index, whatever the number of jobs (the policy's `NOT IN` hashes it once)."""
    return (
        select(REPORTS.c.job_id)
        .where(REPORTS.c.status == JobReportStatus.OPEN)
        .group_by(REPORTS.c.job_id)
        .having(func.count() >= HIDING_REPORTS)
    )


def is_hidden(job: FromClause = JOBS) -> Condition:
    return job.c.id.in_(hidden_job_ids())


def in_public_view(job: FromClause = JOBS) -> Condition:
    """Published now and not hidden by reports: the jobs every viewer sees."""
    return and_(published_now(job), not_(is_hidden(job)))


def _status_condition(status: JobStatus, _argument: str) -> Condition:
    if status is JobStatus.PUBLISHED:
        return published_now()
    if status is JobStatus.EXPIRED:
        return or_(JOBS.c.status == JobStatus.EXPIRED, has_expired(JOBS))
    return JOBS.c.status == status


STATUS_RULE: Rule = sync_rule(JOBS.c.status, _status_condition)
"""The `status` filter, by the current status: PUBLISHED leaves out the expired ones,
EXPIRED takes them in (each value its own SQL, which the indexes serve)."""

JOB_STATUS = Derived(
    lambda job, _viewer: current_status(job.status, job.valid_through),
    lambda row, _viewer: current_status_sql(row),
)
JOB_OPENINGS_LEFT = Derived(
    lambda job, _viewer: job.headcount - job.openings_filled,
    lambda row, _viewer: row.c.headcount - row.c.openings_filled,
)
