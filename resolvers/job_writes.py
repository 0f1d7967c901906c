"""Writing jobs: posting one (`createJob`) and closing one (`closeJob`), declared writes, and
what the job's other writes share with them (`resolvers.job_update_writes`): the job error
codes, the checks of a posting's fields, who manages a job, the duplicate-posting rule.

Validation names each field; who may post or close where is checked before any SQL runs; both
run through `resolvers.writes` (one transaction, idempotent retries, closing at a version).
A job past its `validThrough` is EXPIRED to writes as to reads (`resolvers.job_lifecycle`).

The same employer may not post the same title (trimmed) in the same county twice within 30
days while the first is open (a draft, or published and not expired): DUPLICATE_POSTING on
`title`. Checks of one (employer, title, county) are serialized by an advisory lock held to
the end of the transaction, so two postings raced at once make one job.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Employer, Job
from db.models.base import table_of
from db.models.enums import EmploymentType, JobStatus, SalaryUnit
from resolvers.access import Role, Viewer
from resolvers.catalog import visible
from resolvers.divisions import writes_within
from resolvers.global_ids import GlobalId
from resolvers.job_lifecycle import current_status, published_now
from resolvers.jobs import JOB
from resolvers.pagination import readable_columns
from resolvers.write_checks import (
    CURRENT_REGIONS,
    INDUSTRIES,
    OCCUPATIONS,
    Vocabulary,
    amount_problem,
    given,
)
from resolvers.writes import (
    Outcome,
    Problem,
    Tx,
    Write,
    declare_write,
    decoded_key,
    described,
    done,
    failed,
    seen_row,
    serialized,
)


class JobErrorCode(Enum):
    """Why a job write changed nothing."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    STALE_VERSION = "stale_version"
    DUPLICATE_POSTING = "duplicate_posting"  # the same job posted again within 30 days
    INVALID_TRANSITION = "invalid_transition"  # not from the job's current status
    DUPLICATE = "duplicate"  # the same reporter reports the same job again


JobProblem = Problem[JobErrorCode]
JobOutcome = Outcome[RowMapping, JobErrorCode]

JOBS = table_of(Job)
MAX_HEADCOUNT = 100_000
CREATABLE_STATUSES = {JobStatus.DRAFT, JobStatus.PUBLISHED}
POSTING_ROLES = frozenset({Role.EMPLOYER, Role.STAFF, Role.PARTNER, Role.ADMIN})
MANAGING_ROLES = frozenset({Role.EMPLOYER, Role.STAFF, Role.ADMIN})
MANAGING_REFUSAL = "Only its employer, staff of its division and admins manage a job."
DUPLICATE_WINDOW = timedelta(days=30)
NO_SUCH_JOB = Problem(("jobId",), JobErrorCode.NOT_FOUND, "No such job.")


@dataclass(frozen=True, kw_only=True)
class NewJob:
    """A new job posting; codes stay codes, IDs are global IDs."""

    employer_id: GlobalId
    title: str
    description: str = ""
    occupation_code: str | None = None
    industry_code: str | None = None
    region_code: str = described("A current 6-digit division code.")
    salary_min: Decimal = described("Per `salaryUnit`, CNY.")
    salary_max: Decimal = described("Per `salaryUnit`, CNY; at least `salaryMin`.")
    salary_unit: SalaryUnit = described("What the salary figures are per.")
    headcount: int = described("How many people the employer hires.")
    employment_type: EmploymentType = described("Full-time, part-time, seasonal or gig.")
    lodging: bool = False
    board: bool = False
    status: JobStatus = described("DRAFT or PUBLISHED.", default=JobStatus.DRAFT)
    posted_at: datetime | None = described("Defaults to now.", default=None)
    valid_through: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class JobClosing:
    """Which job to close, at the version the client read."""

    job_id: GlobalId
    version: int = described("The job's version as read; another version is STALE_VERSION.")


def posting_field_problems(new: NewJob, posted_at: datetime) -> list[JobProblem]:
    """What is wrong with a posting's fields (a new one, or one with changes), without SQL."""
    problems: list[JobProblem] = []

    def invalid(field: str, message: str) -> None:
        problems.append(Problem((field,), JobErrorCode.INVALID, message))

    if not new.title.strip():
        invalid("title", "The title must not be blank.")
    elif len(new.title) > 128:
        invalid("title", "The title must be at most 128 characters.")
    if len(new.description) > 20_000:
        invalid("description", "The description must be at most 20,000 characters.")
    for vocabulary, field, code in codes_of(new.region_code, new.occupation_code,
                                            new.industry_code):
        problems += vocabulary.malformed(given(field, code), JobErrorCode.INVALID)
    for field, amount in (("salaryMin", new.salary_min), ("salaryMax", new.salary_max)):
        wrong = amount_problem(amount)
        if wrong is not None:
            invalid(field, wrong)
    amounts = amount_problem(new.salary_min) is None and amount_problem(new.salary_max) is None
    if amounts and new.salary_min > new.salary_max:
        invalid("salaryMax", "The maximum salary is below the minimum.")
    if not 1 <= new.headcount <= MAX_HEADCOUNT:
        invalid("headcount", f"Must be between 1 and {MAX_HEADCOUNT:,}.")
    if new.status not in CREATABLE_STATUSES:
        invalid("status", "A new job is DRAFT or PUBLISHED.")
    if new.valid_through is not None and new.valid_through <= posted_at:
        invalid("validThrough", "Must be after postedAt.")
    return problems


def posting_permission_problem(
    viewer: Viewer, employer_id: int, region_code: str
) -> JobProblem | None:
    """Where a viewer of a role that posts may post: an employer for itself; staff and
    partners within their regions."""
    if viewer.role is Role.EMPLOYER and employer_id != viewer.employer_id:
        return Problem(
            ("employerId",), JobErrorCode.NOT_ALLOWED, "Employers post only their own jobs."
        )
    if not writes_within(viewer, region_code):
        return Problem(("regionCode",), JobErrorCode.NOT_ALLOWED, "That region is outside yours.")
    return None


def codes_of(
    region_code: str | None, occupation_code: str | None, industry_code: str | None
) -> list[tuple[Vocabulary, str, str | None]]:
    """Each code of a posting: its vocabulary, its input field, the code (if given)."""
    return [
        (CURRENT_REGIONS, "regionCode", region_code),
        (OCCUPATIONS, "occupationCode", occupation_code),
        (INDUSTRIES, "industryCode", industry_code),
    ]


async def _missing_references(
    connection: AsyncConnection, viewer: Viewer, new: NewJob, employer_id: int
) -> list[JobProblem]:
    problems = []
    employers = table_of(Employer)
    employer = await connection.execute(
        select(employers.c.id).where(employers.c.id == employer_id, visible(viewer, employers))
    )
    if employer.first() is None:
        problems.append(Problem(("employerId",), JobErrorCode.NOT_FOUND, "No such employer."))
    return problems + await missing_codes(
        connection, new.region_code, new.occupation_code, new.industry_code
    )


async def missing_codes(
    connection: AsyncConnection,
    region_code: str | None,
    occupation_code: str | None,
    industry_code: str | None,
) -> list[JobProblem]:
    """The codes given (well formed by now) that the reference tables do not hold, each
    vocabulary looked up in one statement."""
    problems: list[JobProblem] = []
    for vocabulary, field, code in codes_of(region_code, occupation_code, industry_code):
        problems += await vocabulary.unknown(
            connection, given(field, code), JobErrorCode.NOT_FOUND
        )
    return problems


def _posting_problems(viewer: Viewer, new: NewJob) -> list[JobProblem]:
    """What is wrong with a posting before any SQL: its fields, then who may post it."""
    problems = posting_field_problems(new, new.posted_at or datetime.now(UTC))
    employer_id = decoded_key(new.employer_id, "Employer", "employerId", JobErrorCode.INVALID)
    if isinstance(employer_id, Problem):
        problems.append(employer_id)
    if problems:
        return problems
    assert isinstance(employer_id, int)
    denied = posting_permission_problem(viewer, employer_id, new.region_code)
    return [] if denied is None else [denied]


async def _post(tx: Tx, new: NewJob) -> JobOutcome:
    employer_id = decoded_key(new.employer_id, "Employer", "employerId", JobErrorCode.INVALID)
    assert isinstance(employer_id, int)
    missing = await _missing_references(tx.connection, tx.viewer, new, employer_id)
    if missing:
        return failed(*missing)
    duplicate = await duplicate_posting_problem(
        tx.connection, employer_id, new.title, new.region_code
    )
    if duplicate is not None:
        return failed(duplicate)
    posted_at = new.posted_at or datetime.now(UTC)
    return done(await _insert_job(tx.connection, new, employer_id, posted_at))


async def duplicate_posting_problem(
    connection: AsyncConnection,
    employer_id: int,
    title: str,
    region_code: str,
    job_id: int | None = None,
) -> JobProblem | None:
    """DUPLICATE_POSTING when the employer has another open job (a draft, or published and
    not expired) of this title in this county posted within 30 days. Holds the lock of
    (employer, title, county) to the end of the transaction."""
    title = title.strip()
    await serialized(connection, "jobPosting", employer_id, title, region_code)
    earlier = await connection.execute(
        select(JOBS.c.posted_at).where(
            JOBS.c.employer_id == employer_id,
            JOBS.c.title == title,
            JOBS.c.region_code == region_code,
            JOBS.c.posted_at > func.now() - DUPLICATE_WINDOW,
            or_(JOBS.c.status == JobStatus.DRAFT, published_now()),
            JOBS.c.id != (job_id or 0),
        ).limit(1)
    )
    found = earlier.first()
    if found is None:
        return None
    return Problem(
        ("title",), JobErrorCode.DUPLICATE_POSTING,
        f"This employer posted '{title}' in {region_code} on {found.posted_at:%Y-%m-%d} and "
        "it is still open; change that job instead, or close it first.",
    )


CREATE_JOB = declare_write(Write(
    "createJob", "Post a job (employers for themselves, staff in region).",
    NewJob, JOB, JobErrorCode, _post, _posting_problems,
    POSTING_ROLES, "Your role may not post jobs.", idempotent=True,
))


async def _insert_job(
    connection: AsyncConnection, new: NewJob, employer_id: int, posted_at: datetime
) -> RowMapping:
    values: dict[str, Any] = {
        name: value for name, value in asdict(new).items() if name != "employer_id"
    }
    values.update(
        employer_id=employer_id, posted_at=posted_at, title=new.title.strip(),
        last_verified_at=posted_at,
    )
    created = await connection.execute(
        insert(JOBS).values(**values).returning(*readable_columns(JOBS))
    )
    return created.mappings().one()


def managing_problem(viewer: Viewer, job: RowMapping) -> JobProblem | None:
    """Who may change a job they see: its employer, staff of its division, admins."""
    if viewer.role is Role.EMPLOYER and job["employer_id"] != viewer.employer_id:
        return Problem(
            ("jobId",), JobErrorCode.NOT_ALLOWED, "Employers change only their own jobs."
        )
    if viewer.role is Role.STAFF and not writes_within(viewer, job["region_code"]):
        return Problem(("jobId",), JobErrorCode.NOT_ALLOWED, "That job's region is outside yours.")
    return None


def status_now(job: RowMapping) -> JobStatus:
    return current_status(job["status"], job["valid_through"])


def transition_problem(job: RowMapping, allowed: set[JobStatus], change: str) -> JobProblem | None:
    """INVALID_TRANSITION unless the job's current status is one of `allowed`."""
    now = status_now(job)
    if now in allowed:
        return None
    return Problem(
        ("jobId",), JobErrorCode.INVALID_TRANSITION,
        f"The job is {now.name}; only a {' or '.join(sorted(s.name for s in allowed))} "
        f"job {change}.",
    )


def job_key_problems(_viewer: Viewer, request: Any) -> list[JobProblem]:
    """The check of a write to an existing job: its `job_id` is a job's ID."""
    job_id = decoded_key(request.job_id, "Job", "jobId", JobErrorCode.INVALID)
    return [job_id] if isinstance(job_id, Problem) else []


async def managed_job(tx: Tx, job_id: Any) -> RowMapping | JobProblem:
    """The job `job_id` (a checked global ID) locked for a change by this viewer, or why not."""
    key = decoded_key(job_id, "Job", "jobId", JobErrorCode.INVALID)
    assert isinstance(key, int)
    job = await seen_row(tx.connection, JOB, key, tx.viewer, lock=True)
    if job is None:
        return NO_SUCH_JOB
    return managing_problem(tx.viewer, job) or job


async def change_job(tx: Tx, job: RowMapping, version: int, values: dict[str, Any]) -> JobOutcome:
    """Set `values` on a job the viewer manages, at the version the client read."""
    return await tx.change(
        JOB, job["id"], version, values, NO_SUCH_JOB, JobErrorCode.STALE_VERSION
    )


async def _close(tx: Tx, closing: JobClosing) -> JobOutcome:
    """Close a draft or published job at the version the client read; its version goes up
    by one."""
    job = await managed_job(tx, closing.job_id)
    if isinstance(job, Problem):
        return failed(job)
    refused = transition_problem(job, CREATABLE_STATUSES, "closes")
    if refused is not None:
        return failed(refused)
    return await change_job(tx, job, closing.version, {"status": JobStatus.CLOSED})


CLOSE_JOB = declare_write(Write(
    "closeJob", "Close a job (its employer, staff of its division, admins).",
    JobClosing, JOB, JobErrorCode, _close, job_key_problems,
    MANAGING_ROLES, MANAGING_REFUSAL, idempotent=True,
))
