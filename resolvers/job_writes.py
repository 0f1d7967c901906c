"""Writing jobs: posting one (`createJob`) and closing one (`closeJob`), declared writes.

Validation names each field; who may post or close where is checked before any SQL runs; both
run through `resolvers.writes` (one transaction, idempotent retries, closing at a version).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Employer, Job
from db.models.base import table_of
from db.models.enums import EmploymentType, JobStatus, SalaryUnit
from resolvers.access import Role, Viewer
from resolvers.catalog import visible
from resolvers.divisions import writes_within
from resolvers.global_ids import GlobalId
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
    Unchanged,
    Write,
    declare_write,
    decoded_key,
    described,
    done,
    failed,
    versioned_update,
)


class JobErrorCode(Enum):
    """Why a job write changed nothing."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    STALE_VERSION = "stale_version"


JobProblem = Problem[JobErrorCode]
JobOutcome = Outcome[RowMapping, JobErrorCode]

JOBS = table_of(Job)
MAX_HEADCOUNT = 100_000
CREATABLE_STATUSES = {JobStatus.DRAFT, JobStatus.PUBLISHED}
ENDED_STATUSES = {JobStatus.CLOSED, JobStatus.EXPIRED}
POSTING_ROLES = {Role.EMPLOYER, Role.STAFF, Role.PARTNER, Role.ADMIN}
CLOSING_ROLES = {Role.EMPLOYER, Role.STAFF, Role.ADMIN}


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


def _static_problems(new: NewJob, posted_at: datetime) -> list[JobProblem]:
    problems: list[JobProblem] = []

    def invalid(field: str, message: str) -> None:
        problems.append(Problem((field,), JobErrorCode.INVALID, message))

    if not new.title.strip():
        invalid("title", "The title must not be blank.")
    elif len(new.title) > 128:
        invalid("title", "The title must be at most 128 characters.")
    if len(new.description) > 20_000:
        invalid("description", "The description must be at most 20,000 characters.")
    for vocabulary, field, code in _codes(new):
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


def _permission_problem(viewer: Viewer, employer_id: int, region_code: str) -> JobProblem | None:
    """Who may post: an employer for itself; staff and partners within their regions."""
    if viewer.role not in POSTING_ROLES:
        return Problem((), JobErrorCode.NOT_ALLOWED, "Your role may not post jobs.")
    if viewer.role is Role.EMPLOYER and employer_id != viewer.employer_id:
        return Problem(
            ("employerId",), JobErrorCode.NOT_ALLOWED, "Employers post only their own jobs."
        )
    if not writes_within(viewer, region_code):
        return Problem(("regionCode",), JobErrorCode.NOT_ALLOWED, "That region is outside yours.")
    return None


def _codes(new: NewJob) -> list[tuple[Vocabulary, str, str | None]]:
    """Each code of a posting: its vocabulary, its input field, the code (if given)."""
    return [
        (CURRENT_REGIONS, "regionCode", new.region_code),
        (OCCUPATIONS, "occupationCode", new.occupation_code),
        (INDUSTRIES, "industryCode", new.industry_code),
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
    for vocabulary, field, code in _codes(new):
        problems += await vocabulary.unknown(
            connection, given(field, code), JobErrorCode.NOT_FOUND
        )
    return problems


def _posting_problems(viewer: Viewer, new: NewJob) -> list[JobProblem]:
    """What is wrong with a posting before any SQL: its fields, then who may post it."""
    problems = _static_problems(new, new.posted_at or datetime.now(UTC))
    employer_id = decoded_key(new.employer_id, "Employer", "employerId", JobErrorCode.INVALID)
    if isinstance(employer_id, Problem):
        problems.append(employer_id)
    if problems:
        return problems
    assert isinstance(employer_id, int)
    denied = _permission_problem(viewer, employer_id, new.region_code)
    return [] if denied is None else [denied]


async def _post(tx: Tx, new: NewJob) -> JobOutcome:
    employer_id = decoded_key(new.employer_id, "Employer", "employerId", JobErrorCode.INVALID)
    assert isinstance(employer_id, int)
    missing = await _missing_references(tx.connection, tx.viewer, new, employer_id)
    if missing:
        return failed(*missing)
    posted_at = new.posted_at or datetime.now(UTC)
    return done(await _insert_job(tx.connection, new, employer_id, posted_at))


CREATE_JOB = declare_write(Write(
    "createJob", "Post a job (employers for themselves, staff in region).",
    NewJob, JOB, JobErrorCode, _post, _posting_problems, idempotent=True,
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


def _closing_problem(viewer: Viewer, job: RowMapping) -> JobProblem | None:
    """Who may close a job they see: its employer, staff of its division, admins; and only
    a job that has not ended."""
    if viewer.role is Role.EMPLOYER and job["employer_id"] != viewer.employer_id:
        return Problem(("jobId",), JobErrorCode.NOT_ALLOWED, "Employers close only their own jobs.")
    if viewer.role is Role.STAFF and not writes_within(viewer, job["region_code"]):
        return Problem(("jobId",), JobErrorCode.NOT_ALLOWED, "That job's region is outside yours.")
    if job["status"] in ENDED_STATUSES:
        return Problem(
            ("jobId",), JobErrorCode.INVALID,
            f"The job is already {job['status'].name}; only a draft or published job closes.",
        )
    return None


def _closing_problems(viewer: Viewer, closing: JobClosing) -> list[JobProblem]:
    job_id = decoded_key(closing.job_id, "Job", "jobId", JobErrorCode.INVALID)
    if isinstance(job_id, Problem):
        return [job_id]
    if viewer.role not in CLOSING_ROLES:
        return [Problem((), JobErrorCode.NOT_ALLOWED, "Your role may not close jobs.")]
    return []


async def _close(tx: Tx, closing: JobClosing) -> JobOutcome:
    """Close a job at the version the client read; its version goes up by one."""
    job_id = decoded_key(closing.job_id, "Job", "jobId", JobErrorCode.INVALID)
    viewer = tx.viewer
    no_such_job = Problem(("jobId",), JobErrorCode.NOT_FOUND, "No such job.")
    job = (
        await tx.connection.execute(
            select(*readable_columns(JOBS)).where(JOBS.c.id == job_id, visible(viewer, JOBS))
        )
    ).mappings().first()
    if job is None:
        return failed(no_such_job)
    refused = _closing_problem(viewer, job)
    if refused is not None:
        return failed(refused)
    closed = await versioned_update(
        tx.connection, JOB, job_id, closing.version, {"status": JobStatus.CLOSED}, viewer=viewer
    )
    if closed is Unchanged.MISSING:
        return failed(no_such_job)
    if closed is Unchanged.STALE:
        return failed(Problem(
            ("version",), JobErrorCode.STALE_VERSION,
            f"Version {closing.version} is not the job's current one; read it again.",
        ))
    return done(closed)


CLOSE_JOB = declare_write(Write(
    "closeJob", "Close a job (its employer, staff of its division, admins).",
    JobClosing, JOB, JobErrorCode, _close, _closing_problems, idempotent=True,
))
