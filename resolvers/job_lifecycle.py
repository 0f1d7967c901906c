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

from sqlalchemy import (
    ColumnElement,
    FromClause,
    String,
    and_,
    case,
    cast,
    func,
    not_,
    or_,
)

from db.models import Job, JobReport
from db.models.base import table_of
from db.models.enums import JobStatus
from resolvers.declarations import Condition, Derived, Rule
from resolvers.filters import bound_rule

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


def is_hidden(job: FromClause = JOBS) -> Condition:
    """Hidden by `HIDING_REPORTS` open reports: a column of the job, which a trigger on the
    reports keeps (migration 0011), so the public view costs no look at the reports."""
    return job.c.open_reports >= HIDING_REPORTS


def in_public_view(job: FromClause = JOBS) -> Condition:
    """Published now and not hidden by reports: the jobs every viewer sees."""
    return and_(published_now(job), not_(is_hidden(job)))


def _current_status_is(status: ColumnElement[Any]) -> Condition:
    """Jobs whose current status is `status` (a parameter): the stored status is `status`,
    or PUBLISHED when asking for EXPIRED (an IN the status index serves), and the current
    one is `status`."""
    wanted = cast(status, String)  # one type for the parameter wherever it is used
    widened = case((wanted == JobStatus.EXPIRED.value, JobStatus.PUBLISHED.value))
    return and_(
        JOBS.c.status.in_([wanted, widened]),
        cast(current_status_sql(JOBS), String) == wanted,
    )


STATUS_RULE: Rule = bound_rule(JOBS.c.status, _current_status_is)
"""The `status` filter, by the current status: PUBLISHED leaves out the expired jobs, EXPIRED
takes them in; the same SQL for every value, so one compiled plan serves them all."""

JOB_STATUS = Derived(
    lambda job, _viewer: current_status(job.status, job.valid_through),
    lambda row, _viewer: current_status_sql(row),
)
JOB_OPENINGS_LEFT = Derived(
    lambda job, _viewer: job.headcount - job.openings_filled,
    lambda row, _viewer: row.c.headcount - row.c.openings_filled,
)
