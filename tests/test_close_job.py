"""closeJob: who may close, at which version, retried with one key, nothing changed on failure.

Every test posts its own job first (createJob), so each passes alone and in any order.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key

CREATE = """mutation ($input: CreateJobInput!) { createJob(input: $input) {
  job { id status version } userErrors { field code message } } }"""
CLOSE = """mutation ($input: CloseJobInput!) { closeJob(input: $input) {
  job { id status version } userErrors { field code message } } }"""
READ = "query ($id: ID!) { node(id: $id) { ... on Job { id status version } } }"


@dataclass(frozen=True)
class Employer:
    id: str
    region: str  # a prefecture or county code


@pytest.fixture(scope="module")
async def employers(gql: GraphQLClient) -> list[Employer]:
    """Two employers in different provinces."""
    data = await gql.ok("{ employers(first: 50) { nodes { id region { code } } } }")
    found = [Employer(n["id"], n["region"]["code"]) for n in data["employers"]["nodes"]]
    first = found[0]
    second = next(e for e in found if e.region[:2] != first.region[:2])
    return [first, second]


def province(code: str) -> str:
    return code[:2] + "0000"


async def post_job(gql: GraphQLClient, employer: Employer, status: str = "PUBLISHED") -> Any:
    """A new job of `employer` (posted by an admin): {id, status, version}."""
    values = {
        "employerId": employer.id, "title": f"电工 {uuid.uuid4().hex[:8]}",
        "regionCode": employer.region,
        "salaryMin": "6000", "salaryMax": "8000", "salaryUnit": "MONTH", "headcount": 2,
        "employmentType": "FULL_TIME", "status": status,
    }
    created = (await gql.ok(CREATE, {"input": values}))["createJob"]
    assert created["userErrors"] == [] and created["job"]["version"] == 1, created
    return created["job"]


async def close(client: GraphQLClient, job: Any, **changes: Any) -> Any:
    values = {"jobId": job["id"], "version": job["version"], **changes}
    return (await client.ok(CLOSE, {"input": values}))["closeJob"]


async def read(gql: GraphQLClient, job: Any) -> Any:
    return (await gql.ok(READ, {"id": job["id"]}))["node"]


def codes(result: Any) -> list[tuple[tuple[str, ...], str]]:
    return [(tuple(e["field"] or ()), e["code"]) for e in result["userErrors"]]


async def test_the_employer_closes_its_job_and_the_version_goes_up(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    as_employer = gql.as_(bearer(settings, "employer", employer_id=employers[0].id))
    closed = await close(as_employer, job)
    assert closed["userErrors"] == []
    assert closed["job"] == {"id": job["id"], "status": "CLOSED", "version": 2}
    assert await read(gql, job) == closed["job"]


async def test_staff_close_within_their_division_and_admins_anywhere(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0], status="DRAFT")
    staff = gql.as_(bearer(settings, "staff", region=province(employers[0].region)))
    assert (await close(staff, job))["job"]["status"] == "CLOSED"
    other = await post_job(gql, employers[1])
    assert (await close(gql, other))["job"] == {**other, "status": "CLOSED", "version": 2}


async def test_a_stale_version_changes_nothing(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    for version in (0, 2, 99):
        stale = await close(gql, job, version=version)
        assert stale["job"] is None
        assert codes(stale) == [(("input", "version"), "STALE_VERSION")], version
    assert await read(gql, job) == job


async def test_an_ended_job_does_not_close_again(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    closed = (await close(gql, job))["job"]
    again = await close(gql, closed)
    assert again["job"] is None and codes(again) == [(("input", "jobId"), "INVALID_TRANSITION")]
    assert "The job is CLOSED" in again["userErrors"][0]["message"]
    assert await read(gql, job) == closed


async def test_a_retry_with_one_key_returns_the_same_job(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    key = uuid.uuid4().hex
    first = await close(gql, job, idempotencyKey=key)
    second = await close(gql, job, idempotencyKey=key)
    assert first["userErrors"] == second["userErrors"] == []
    assert first["job"] == second["job"] == {**job, "status": "CLOSED", "version": 2}
    assert await read(gql, job) == first["job"]


async def test_one_key_for_another_request_is_refused_and_changes_nothing(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    job, other = await post_job(gql, employers[0]), await post_job(gql, employers[0])
    key = uuid.uuid4().hex
    assert (await close(gql, job, idempotencyKey=key))["userErrors"] == []
    reused = await close(gql, other, idempotencyKey=key)
    assert reused["job"] is None
    assert codes(reused) == [(("input", "idempotencyKey"), "IDEMPOTENCY_KEY_REUSED")]
    assert await read(gql, other) == other


async def test_a_failed_close_records_no_key(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    key = uuid.uuid4().hex
    stale = await close(gql, job, version=5, idempotencyKey=key)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    # The key did nothing, so the corrected request may use it.
    closed = await close(gql, job, idempotencyKey=key)
    assert closed["userErrors"] == [] and closed["job"]["version"] == 2


async def test_another_employers_job_is_not_allowed_or_not_found(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    owner, stranger = employers
    published, draft = await post_job(gql, owner), await post_job(gql, owner, "DRAFT")
    as_stranger = gql.as_(bearer(settings, "employer", employer_id=stranger.id))
    # A published job is visible to every employer: refused. A draft is not: not found.
    refused = await close(as_stranger, published)
    assert refused["job"] is None and codes(refused) == [(("input", "jobId"), "NOT_ALLOWED")]
    hidden = await close(as_stranger, draft)
    assert hidden["job"] is None and codes(hidden) == [(("input", "jobId"), "NOT_FOUND")]
    missing = await close(as_stranger, {"id": "Sm9iOjk5OTk5OTk5OQ==", "version": 1})
    assert codes(missing) == codes(hidden)  # a job that does not exist looks the same
    assert [await read(gql, published), await read(gql, draft)] == [published, draft]


async def test_staff_elsewhere_are_not_allowed_or_find_nothing(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    published, draft = await post_job(gql, employers[0]), await post_job(gql, employers[0], "DRAFT")
    elsewhere = gql.as_(bearer(settings, "staff", region=province(employers[1].region)))
    assert codes(await close(elsewhere, published)) == [(("input", "jobId"), "NOT_ALLOWED")]
    assert codes(await close(elsewhere, draft)) == [(("input", "jobId"), "NOT_FOUND")]
    assert [await read(gql, published), await read(gql, draft)] == [published, draft]


async def test_workers_anonymous_callers_and_partners_are_not_allowed(
    gql: GraphQLClient,
    anonymous: GraphQLClient,
    http: httpx.AsyncClient,
    settings: Settings,
    database_url: str,
    employers: list[Employer],
) -> None:
    job = await post_job(gql, employers[0])
    async with consented_partner_key(
        settings, database_url, partner="close-test", scopes=["jobs", "closeJob"],
        regions=[province(employers[0].region)],
    ) as key:
        callers = {
            "worker": gql.as_(bearer(settings, "worker", worker_id="1")),
            "anonymous": anonymous,
            "partner": GraphQLClient(http, {"x-api-key": key}),
        }
        for who, client in callers.items():
            refused = await close(client, job)
            assert refused["job"] is None and codes(refused) == [((), "NOT_ALLOWED")], who
    assert await read(gql, job) == job


async def test_malformed_input_is_named(gql: GraphQLClient, employers: list[Employer]) -> None:
    job = await post_job(gql, employers[0])
    bad_id = await close(gql, {"id": "RW1wbG95ZXI6MQ==", "version": 1})  # an Employer's ID
    assert codes(bad_id) == [(("input", "jobId"), "INVALID")]
    for key in ("", "k" * 129):
        bad_key = await close(gql, job, idempotencyKey=key)
        assert codes(bad_key) == [(("input", "idempotencyKey"), "INVALID")]
    assert await read(gql, job) == job


async def test_concurrent_retries_with_one_key_close_once(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    key = uuid.uuid4().hex
    results = await asyncio.gather(*(close(gql, job, idempotencyKey=key) for _ in range(6)))
    assert all(r["userErrors"] == [] for r in results), results
    assert {(r["job"]["status"], r["job"]["version"]) for r in results} == {("CLOSED", 2)}
    assert (await read(gql, job))["version"] == 2


async def test_concurrent_closes_without_a_key_close_once(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    results = await asyncio.gather(*(close(gql, job) for _ in range(6)))
    closed = [r for r in results if r["job"] is not None]
    assert len(closed) == 1 and closed[0]["job"]["version"] == 2
    refusals = {code for r in results if r["job"] is None for _, code in codes(r)}
    assert refusals <= {"STALE_VERSION", "INVALID_TRANSITION"}, refusals
    assert (await read(gql, job))["version"] == 2
