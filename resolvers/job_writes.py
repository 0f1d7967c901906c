"""Posting a job: validation that names each field, who may post where, idempotent retries.

Everything happens in one transaction: a failure of any kind leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.codes import is_division_code_format, is_industry_code_format, is_occupation_code_format
from db.models import Employer, IdempotencyKey, Industry, Job, Occupation, Region
from db.models.base import table_of
from db.models.enums import EmploymentType, JobStatus, SalaryUnit
from resolvers.access import Role, Viewer
from resolvers.catalog import visible
from resolvers.divisions import lies_within
from resolvers.errors import BadArgument, Problem
from resolvers.filters import MAX_AMOUNT, is_amount
from resolvers.global_ids import decode_int_id
from resolvers.pagination import readable_columns

JOBS = table_of(Job)
KEYS = table_of(IdempotencyKey)
MAX_HEADCOUNT = 100_000
CREATABLE_STATUSES = {JobStatus.DRAFT, JobStatus.PUBLISHED}
POSTING_ROLES = {Role.EMPLOYER, Role.STAFF, Role.PARTNER, Role.ADMIN}


@dataclass(frozen=True)
class NewJob:
    employer_id: str  # global ID
    title: str
    description: str
    occupation_code: str | None
    industry_code: str | None
    region_code: str
    salary_min: Decimal
    salary_max: Decimal
    salary_unit: SalaryUnit
    headcount: int
    employment_type: EmploymentType
    lodging: bool
    board: bool
    status: JobStatus
    posted_at: datetime | None
    valid_through: datetime | None

    def fingerprint(self) -> str:
        """The same request gives the same hash; a retry with other values does not."""
        return hashlib.sha256(json.dumps(asdict(self), default=str).encode()).hexdigest()


@dataclass(frozen=True)
class JobCreation:
    job: RowMapping | None
    problems: tuple[Problem, ...]


def _static_problems(new: NewJob, posted_at: datetime) -> list[Problem]:
    problems: list[Problem] = []

    def invalid(field: str, message: str) -> None:
        problems.append(Problem((field,), "INVALID", message))

    if not new.title.strip():
        invalid("title", "The title must not be blank.")
    elif len(new.title) > 128:
        invalid("title", "The title must be at most 128 characters.")
    if len(new.description) > 20_000:
        invalid("description", "The description must be at most 20,000 characters.")
    if not is_division_code_format(new.region_code):
        invalid("regionCode", f"'{new.region_code[:32]}' is not a 6-digit division code.")
    if new.occupation_code is not None and not is_occupation_code_format(new.occupation_code):
        invalid("occupationCode", "An occupation code looks like 4-02-07-10.")
    if new.industry_code is not None and not is_industry_code_format(new.industry_code):
        invalid("industryCode", "An industry code is a section letter A–T, optionally 2–4 digits.")
    for field, amount in (("salaryMin", new.salary_min), ("salaryMax", new.salary_max)):
        if not is_amount(amount):
            invalid(field, f"Must be an amount from 0 to {MAX_AMOUNT}.")
        elif amount != amount.quantize(Decimal("0.01")):
            invalid(field, "At most two decimal places (fen).")
    amounts = is_amount(new.salary_min) and is_amount(new.salary_max)
    if amounts and new.salary_min > new.salary_max:
        invalid("salaryMax", "The maximum salary is below the minimum.")
    if not 1 <= new.headcount <= MAX_HEADCOUNT:
        invalid("headcount", f"Must be between 1 and {MAX_HEADCOUNT:,}.")
    if new.status not in CREATABLE_STATUSES:
        invalid("status", "A new job is DRAFT or PUBLISHED.")
    if new.valid_through is not None and new.valid_through <= posted_at:
        invalid("validThrough", "Must be after postedAt.")
    return problems


def _employer_key(new: NewJob) -> int | Problem:
    try:
        return decode_int_id(new.employer_id, "Employer", "employerId")
    except BadArgument:
        return Problem(("employerId",), "INVALID", "Not the ID of an employer.")


def _permission_problem(viewer: Viewer, employer_id: int, region_code: str) -> Problem | None:
    """Who may post: an employer for itself; staff and partners within their regions."""
    if viewer.role not in POSTING_ROLES:
        return Problem((), "NOT_ALLOWED", "Your role may not post jobs.")
    if viewer.role is Role.EMPLOYER and employer_id != viewer.employer_id:
        return Problem(("employerId",), "NOT_ALLOWED", "Employers post only their own jobs.")
    divisions: tuple[str, ...] | None = None
    if viewer.role is Role.STAFF:
        divisions = (viewer.region_code,) if viewer.region_code else ()
    elif viewer.partner is not None:
        divisions = viewer.partner.regions
    if divisions is not None and not any(lies_within(region_code, d) for d in divisions):
        return Problem(("regionCode",), "NOT_ALLOWED", "That region is outside yours.")
    return None


async def _region_problem(connection: AsyncConnection, region_code: str) -> Problem | None:
    regions = table_of(Region)
    found = await connection.execute(
        select(regions.c.code).where(regions.c.code == region_code, regions.c.valid_to.is_(None))
    )
    if found.first() is None:
        return Problem(("regionCode",), "NOT_FOUND", f"No current region '{region_code}'.")
    return None


async def _missing_references(
    connection: AsyncConnection, viewer: Viewer, new: NewJob, employer_id: int
) -> list[Problem]:
    problems = []
    employers = table_of(Employer)
    employer = await connection.execute(
        select(employers.c.id).where(employers.c.id == employer_id, visible(viewer, employers))
    )
    if employer.first() is None:
        problems.append(Problem(("employerId",), "NOT_FOUND", "No such employer."))
    region = await _region_problem(connection, new.region_code)
    if region is not None:
        problems.append(region)
    for field, model, code in (
        ("occupationCode", Occupation, new.occupation_code),
        ("industryCode", Industry, new.industry_code),
    ):
        table = table_of(model)
        if code is not None and (
            await connection.execute(select(table.c.code).where(table.c.code == code))
        ).first() is None:
            problems.append(Problem((field,), "NOT_FOUND", f"Unknown code '{code}'."))
    return problems


async def _earlier_outcome(
    connection: AsyncConnection, viewer: Viewer, key: str, fingerprint: str
) -> JobCreation | None:
    """What a request with this idempotency key already did, if anything."""
    # Concurrent retries with one key wait here for each other rather than both inserting.
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"),
        {"lock": json.dumps(["createJob", viewer.principal, key])},
    )
    earlier = (
        await connection.execute(
            select(KEYS.c.request_sha256, KEYS.c.result_id).where(
                KEYS.c.principal == viewer.principal,
                KEYS.c.operation == "createJob",
                KEYS.c.key == key,
            )
        )
    ).first()
    if earlier is None:
        return None
    if earlier.request_sha256 != fingerprint:
        problem = Problem(
            ("idempotencyKey",), "IDEMPOTENCY_KEY_REUSED",
            "This key was used for a different request; use a new key for new input.",
        )
        return JobCreation(None, (problem,))
    same = select(*readable_columns(JOBS)).where(JOBS.c.id == earlier.result_id)
    job = (await connection.execute(same)).mappings().one()
    return JobCreation(job, ())


async def create_job(
    engine: AsyncEngine, viewer: Viewer, new: NewJob, idempotency_key: str | None
) -> JobCreation:
    posted_at = new.posted_at or datetime.now(UTC)
    problems = _static_problems(new, posted_at)
    employer_id = _employer_key(new)
    if isinstance(employer_id, Problem):
        problems.append(employer_id)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 128:
        problems.append(Problem(("idempotencyKey",), "INVALID", "Must be 1–128 characters."))
    if problems:
        return JobCreation(None, tuple(problems))
    assert isinstance(employer_id, int)
    denied = _permission_problem(viewer, employer_id, new.region_code)
    if denied is not None:
        return JobCreation(None, (denied,))
    async with engine.begin() as connection:
        if idempotency_key is not None:
            earlier = await _earlier_outcome(
                connection, viewer, idempotency_key, new.fingerprint()
            )
            if earlier is not None:
                return earlier
        missing = await _missing_references(connection, viewer, new, employer_id)
        if missing:
            return JobCreation(None, tuple(missing))
        job = await _insert_job(connection, new, employer_id, posted_at)
        if idempotency_key is not None:
            await connection.execute(
                insert(KEYS).values(
                    principal=viewer.principal, operation="createJob", key=idempotency_key,
                    request_sha256=new.fingerprint(), result_id=job["id"],
                )
            )
        return JobCreation(job, ())


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
