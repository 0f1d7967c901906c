"""The write mechanism itself (resolvers/writes.py) on the real database: one transaction that
keeps nothing of a failed write, idempotent retries, versioned updates, typed codes."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from enum import Enum

import pytest
from graphql import GraphQLEnumType
from sqlalchemy import func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

import schema
from db.models import AuditEvent, Employer, IdempotencyKey, Job
from db.models.base import table_of
from db.models.enums import EmploymentType, JobStatus, SalaryUnit
from db.pii import PersonalDataVault
from db.session import create_engine
from resolvers.access import ANONYMOUS, Role, Viewer
from resolvers.global_ids import GlobalId, encode_global_id
from resolvers.job_writes import CREATE_JOB, JobErrorCode, NewJob
from resolvers.jobs import JOB
from resolvers.privacy import PrivacyErrorCode
from resolvers.reference import REGION
from resolvers.writes import (
    Idempotency,
    Outcome,
    Problem,
    Retry,
    Tx,
    Unchanged,
    Write,
    decoded_key,
    done,
    failed,
    fingerprint,
    once,
    perform,
    transaction,
    versioned_update,
)
from schema.errors import error_type_of, user_errors

JOBS = table_of(Job)
KEYS = table_of(IdempotencyKey)
ADMIN = Viewer(Role.ADMIN, subject="test-writes")
VAULT = PersonalDataVault(bytes(32))  # createJob seals no personal data


class Code(Enum):
    INVALID = "invalid"
    REUSED = "reused"


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        await engine.dispose()


async def new_job(engine: AsyncEngine, status: JobStatus = JobStatus.PUBLISHED) -> RowMapping:
    """A job of its own for one test, posted through createJob's declared write."""
    employers = table_of(Employer)
    async with engine.connect() as connection:
        employer = (
            await connection.execute(select(employers.c.id, employers.c.region_code).limit(1))
        ).one()
    new = NewJob(
        employer_id=GlobalId(encode_global_id("Employer", employer.id)),
        title=f"焊工 {uuid.uuid4().hex[:8]}",
        description="",
        occupation_code=None, industry_code=None, region_code=employer.region_code,
        salary_min=Decimal(5000), salary_max=Decimal(6000), salary_unit=SalaryUnit.MONTH,
        headcount=1, employment_type=EmploymentType.FULL_TIME, lodging=False, board=False,
        status=status, posted_at=None, valid_through=None,
    )
    outcome = await perform(CREATE_JOB, engine, VAULT, ADMIN, new)
    assert outcome.row is not None, outcome.problems
    return outcome.row


async def keys_under(engine: AsyncEngine, principal: str) -> int:
    async with engine.connect() as connection:
        count = select(func.count()).select_from(KEYS).where(KEYS.c.principal == principal)
        return (await connection.execute(count)).scalar_one()


def a_key_row(principal: str) -> dict[str, object]:
    return {"principal": principal, "operation": "test", "key": "k", "request_sha256": "0" * 64,
            "result_id": 1}


async def test_a_write_that_reports_problems_or_raises_leaves_nothing(
    engine: AsyncEngine,
) -> None:
    principal = f"test-writes:{uuid.uuid4().hex}"

    async def write_then_fail(connection: AsyncConnection) -> Outcome[int, Code]:
        await connection.execute(insert(KEYS).values(**a_key_row(principal)))
        return failed(Problem((), Code.INVALID, "changed my mind"))

    async def write_then_raise(connection: AsyncConnection) -> Outcome[int, Code]:
        await connection.execute(insert(KEYS).values(**a_key_row(principal)))
        raise RuntimeError("a bug")

    async def write(connection: AsyncConnection) -> Outcome[int, Code]:
        await connection.execute(insert(KEYS).values(**a_key_row(principal)))
        return done(1)

    outcome = await transaction(engine, write_then_fail)
    assert outcome.problems and await keys_under(engine, principal) == 0
    with pytest.raises(RuntimeError, match="a bug"):
        await transaction(engine, write_then_raise)
    assert await keys_under(engine, principal) == 0
    assert (await transaction(engine, write)).row == 1
    assert await keys_under(engine, principal) == 1


async def test_once_does_the_work_once_per_key_and_refuses_another_request(
    engine: AsyncEngine,
) -> None:
    job = await new_job(engine)
    idempotency = Idempotency("testOnce", JOB, Code.INVALID, Code.REUSED)
    principal = f"test-writes:{uuid.uuid4().hex}"
    calls: list[str] = []

    async def work(connection: AsyncConnection) -> Outcome[RowMapping, Code]:
        calls.append("work")
        return done(job)

    async def failing(connection: AsyncConnection) -> Outcome[RowMapping, Code]:
        calls.append("failing")
        return failed(Problem(("x",), Code.INVALID, "no"))

    same = Retry(principal, "key-1", "a request")
    first = await transaction(engine, lambda c: once(c, idempotency, same, failing))
    assert first.problems and await keys_under(engine, principal) == 0  # no key for a failure
    second = await transaction(engine, lambda c: once(c, idempotency, same, work))
    third = await transaction(engine, lambda c: once(c, idempotency, same, work))
    assert second.row == third.row == job and calls == ["failing", "work"]
    other = Retry(principal, "key-1", "another request")
    reused = await transaction(engine, lambda c: once(c, idempotency, other, work))
    assert reused.row is None and calls == ["failing", "work"]
    assert reused.problems == (
        Problem(("idempotencyKey",), Code.REUSED,
                "This key was used for a different request; use a new key for new input."),
    )
    without_key = await transaction(engine, lambda c: once(c, idempotency, None, work))
    assert without_key.row == job and calls == ["failing", "work", "work"]
    assert await keys_under(engine, principal) == 1


def test_a_fingerprint_tells_requests_apart_and_is_keyed() -> None:
    job = NewJob(
        employer_id=GlobalId("x"), title="t", description="", occupation_code=None,
        industry_code=None,
        region_code="110000", salary_min=Decimal(1), salary_max=Decimal(2),
        salary_unit=SalaryUnit.MONTH, headcount=1, employment_type=EmploymentType.FULL_TIME,
        lodging=False, board=False, status=JobStatus.DRAFT, posted_at=None, valid_through=None,
    )
    assert fingerprint(job, VAULT) == fingerprint(dataclasses.replace(job), VAULT)
    assert fingerprint(job, VAULT) != fingerprint(dataclasses.replace(job, headcount=2), VAULT)
    # Keyed: a request may hold an ID number, which a plain hash would give away to a search.
    other_key = PersonalDataVault(bytes(range(32)))
    assert fingerprint(job, VAULT) != fingerprint(job, other_key)
    assert len(fingerprint(job, VAULT)) == 64


def test_keys_are_1_to_128_characters_with_the_domains_code() -> None:
    idempotency = Idempotency("testKeys", JOB, Code.INVALID, Code.REUSED)
    assert idempotency.key_problem(None) is None
    assert idempotency.key_problem("k" * 128) is None
    for key in ("", "k" * 129):
        assert idempotency.key_problem(key) == Problem(
            ("idempotencyKey",), Code.INVALID, "Must be 1–128 characters."
        )


async def test_a_versioned_update_tells_missing_from_stale(engine: AsyncEngine) -> None:
    job = await new_job(engine)
    async with engine.begin() as connection:
        changed = await versioned_update(
            connection, JOB, job["id"], 1, {"headcount": 7}, viewer=ADMIN
        )
        assert not isinstance(changed, Unchanged)
        assert (changed["version"], changed["headcount"]) == (2, 7)
        stale = await versioned_update(
            connection, JOB, job["id"], 1, {"headcount": 9}, viewer=ADMIN
        )
        assert stale is Unchanged.STALE
        missing = await versioned_update(
            connection, JOB, 2**62, 1, {"headcount": 9}, viewer=ADMIN
        )
        assert missing is Unchanged.MISSING
    async with engine.connect() as connection:
        row = (await connection.execute(select(JOBS).where(JOBS.c.id == job["id"]))).one()
    assert (row.version, row.headcount) == (2, 7)


async def test_a_row_the_viewer_may_not_see_is_missing_not_stale(engine: AsyncEngine) -> None:
    draft = await new_job(engine, JobStatus.DRAFT)
    async with engine.begin() as connection:
        for version in (1, 5):
            unseen = await versioned_update(
                connection, JOB, draft["id"], version, {"headcount": 3}, viewer=ANONYMOUS
            )
            assert unseen is Unchanged.MISSING, version
    async with engine.connect() as connection:
        row = (await connection.execute(select(JOBS).where(JOBS.c.id == draft["id"]))).one()
    assert (row.version, row.headcount) == (1, 1)


async def test_a_versioned_update_refuses_what_it_cannot_do(engine: AsyncEngine) -> None:
    job = await new_job(engine)
    async with engine.begin() as connection:
        with pytest.raises(ValueError, match="has no version column"):
            await versioned_update(
                connection, REGION, "110000", 1, {"name": "x"}, viewer=ADMIN
            )
        with pytest.raises(ValueError, match="leave it out of values"):
            await versioned_update(connection, JOB, job["id"], 1, {"version": 5}, viewer=ADMIN)


def test_an_outcome_has_a_row_or_problems() -> None:
    with pytest.raises(ValueError, match="either a row or problems"):
        Outcome(None, ())
    with pytest.raises(ValueError, match="either a row or problems"):
        Outcome(1, (Problem((), Code.INVALID, "x"),))


def test_a_malformed_global_id_is_the_domains_invalid_problem() -> None:
    worker = encode_global_id("Worker", 7)
    assert decoded_key(worker, "Worker", "workerId", PrivacyErrorCode.INVALID) == 7
    assert decoded_key(worker, "Employer", "employerId", JobErrorCode.INVALID) == Problem(
        ("employerId",), JobErrorCode.INVALID, "Not the ID of an employer."
    )
    assert decoded_key("junk", "Worker", "workerId", PrivacyErrorCode.INVALID) == Problem(
        ("workerId",), PrivacyErrorCode.INVALID, "Not the ID of a worker."
    )


def test_user_errors_carry_the_problems_own_code() -> None:
    problems = [
        Problem(("salaryMax",), JobErrorCode.INVALID, "too low"),
        Problem((), JobErrorCode.STALE_VERSION, "read again"),
    ]
    JobError = error_type_of(JobErrorCode)
    assert user_errors(JobError, problems) == [
        JobError(field=["input", "salaryMax"], message="too low", code=JobErrorCode.INVALID),
        JobError(field=None, message="read again", code=JobErrorCode.STALE_VERSION),
    ]


def test_the_code_enums_are_the_schemas() -> None:
    for codes in (JobErrorCode, PrivacyErrorCode):
        exposed = schema.schema._schema.type_map[codes.__name__]
        assert isinstance(exposed, GraphQLEnumType)
        assert list(exposed.values) == [member.name for member in codes]


@dataclasses.dataclass(frozen=True)
class Retitle:
    job_id: int
    title: str


async def test_a_write_of_personal_data_is_audited_in_its_own_transaction(
    engine: AsyncEngine,
) -> None:
    """`Write.audited`: a success appends one audit event naming the row and the fields; a
    write that reports problems appends none (its transaction keeps nothing)."""
    job = await new_job(engine)

    async def retitle(tx: Tx, request: Retitle) -> Outcome[RowMapping, JobErrorCode]:
        if not request.title:
            return failed(Problem(("title",), JobErrorCode.INVALID, "blank"))
        changed = await versioned_update(
            tx.connection, JOB, request.job_id, 1, {"title": request.title}, viewer=tx.viewer
        )
        assert not isinstance(changed, Unchanged)
        return done(changed)

    write = Write(
        "testRetitle", "a test", Retitle, JOB, JobErrorCode, retitle, audited=("title",)
    )
    operation = f"testRetitle-{uuid.uuid4().hex[:8]}"
    write = dataclasses.replace(write, name=operation)
    refused = await perform(write, engine, VAULT, ADMIN, Retitle(job["id"], ""))
    assert refused.problems and await audit_events(engine, operation) == []
    done_ = await perform(write, engine, VAULT, ADMIN, Retitle(job["id"], "电工"))
    assert done_.row is not None and done_.row["title"] == "电工"
    assert await audit_events(engine, operation) == [
        ([encode_global_id("Job", job["id"])], ["title"], ADMIN.principal)
    ]


def test_a_write_declares_the_codes_it_needs() -> None:
    class Bare(Enum):
        NOT_FOUND = "not_found"

    async def work(tx: Tx, request: Retitle) -> Outcome[RowMapping, Bare]:
        raise AssertionError("never run")

    with pytest.raises(TypeError, match="Bare lacks INVALID"):
        Write("x", "x", Retitle, JOB, Bare, work)
    with pytest.raises(TypeError, match="IDEMPOTENCY_KEY_REUSED"):
        Write("x", "x", Retitle, JOB, Code, work, idempotent=True)  # type: ignore[arg-type]


async def audit_events(engine: AsyncEngine, operation: str) -> list[tuple[object, ...]]:
    events = table_of(AuditEvent)
    async with engine.connect() as connection:
        found = await connection.execute(
            select(events.c.record_ids, events.c.sensitive_fields, events.c.actor)
            .where(events.c.operation == operation)
        )
        return [tuple(row) for row in found]
