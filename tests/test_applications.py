"""applyToJob, withdrawApplication, reviewApplication: who may, once per worker and job, the
moves an application may make, HIRE's placement and openings, and the last opening raced.

Each test posts jobs of its own; the workers are seeded ones (each signed in as a person of
their own)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.postings import (
    Employer,
    as_worker,
    codes,
    expired,
    key_of,
    post_job,
    read_job,
    seeded_employers,
)

APPLICATION = "id status version job { id } worker { id } placements { id startedOn monthlyWage }"
APPLY = f"""mutation ($input: ApplyToJobInput!) {{ applyToJob(input: $input) {{
  application {{ {APPLICATION} }} userErrors {{ field code message }} }} }}"""
WITHDRAW = f"""mutation ($input: WithdrawApplicationInput!) {{ withdrawApplication(input: $input) {{
  application {{ {APPLICATION} }} userErrors {{ field code message }} }} }}"""
REVIEW = f"""mutation ($input: ReviewApplicationInput!) {{ reviewApplication(input: $input) {{
  application {{ {APPLICATION} }} userErrors {{ field code message }} }} }}"""


@pytest.fixture(scope="module", autouse=True)
async def hires_removed(engine: AsyncEngine) -> AsyncIterator[None]:
    """The applications and placements of the module's jobs (every job posted after it
    starts) go when it ends: the seed's own checks read every placement and hired
    application, and hold them to what the seed makes (a start after the application, a
    wage in the job's range)."""
    async with engine.connect() as connection:
        last = (await connection.execute(text("SELECT max(id) FROM jobs"))).scalar_one()
    yield
    async with engine.begin() as connection:
        for table in ("placements", "applications"):
            await connection.execute(
                text(f"DELETE FROM {table} WHERE job_id > :last"), {"last": last}
            )


@pytest.fixture(scope="module")
async def employers(gql: GraphQLClient) -> list[Employer]:
    return await seeded_employers(gql)


@pytest.fixture(scope="module")
async def workers(gql: GraphQLClient, employers: list[Employer]) -> list[tuple[str, str]]:
    """Two workers (id, province) living in the first employer's province and registered
    outside the second's: staff of the one see them, staff of the other do not."""
    data = await gql.ok(
        "{ workers(first: 100) { nodes { id currentRegion { code } hukouRegion { code } } } }"
    )
    home, away = employers[0].province[:2], employers[1].province[:2]
    found = [
        (n["id"], home + "0000") for n in data["workers"]["nodes"]
        if (n["currentRegion"] or {}).get("code", "")[:2] == home
        and (n["hukouRegion"] or {}).get("code", "")[:2] != away
    ]
    assert len(found) >= 2, "the seed has too few workers in the first employer's province"
    return found


async def run(client: GraphQLClient, mutation: str, **values: Any) -> Any:
    data = await client.ok(mutation, {"input": values})
    return next(iter(data.values()))


async def apply(gql: GraphQLClient, settings: Settings, worker_id: str, job_id: str) -> Any:
    """The worker's own application (must succeed)."""
    made = await run(as_worker(gql, settings, worker_id), APPLY, workerId=worker_id, jobId=job_id)
    assert made["userErrors"] == [], made
    return made["application"]


def employer_of(gql: GraphQLClient, settings: Settings, employer: Employer) -> GraphQLClient:
    return gql.as_(bearer(settings, "employer", employer_id=employer.id))


async def test_a_worker_applies_once_and_the_write_is_audited(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    job = await post_job(gql, employers[0])
    worker_id = workers[0][0]
    me = as_worker(gql, settings, worker_id)
    made = await run(me, APPLY, workerId=worker_id, jobId=job["id"])
    assert made["userErrors"] == []
    application = made["application"]
    assert (application["status"], application["version"]) == ("SUBMITTED", 1)
    assert application["job"] == {"id": job["id"]} and application["placements"] == []
    again = await run(me, APPLY, workerId=worker_id, jobId=job["id"])
    assert codes(again) == [(("input", "jobId"), "DUPLICATE")]
    audit = await gql.ok(
        """query ($id: ID!) { auditEvents(filter: {recordId: $id, operation: "applyToJob"})
             { nodes { recordIds sensitiveFields } } }""", {"id": application["id"]},
    )
    assert audit["auditEvents"]["nodes"] == [
        {"recordIds": [application["id"]], "sensitiveFields": ["status"]}
    ]


async def test_applications_raced_or_retried_make_one(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    job = await post_job(gql, employers[0])
    worker_id = workers[0][0]
    me = as_worker(gql, settings, worker_id)
    raced = await asyncio.gather(
        *(run(me, APPLY, workerId=worker_id, jobId=job["id"]) for _ in range(4))
    )
    assert sum(r["application"] is not None for r in raced) == 1
    other = await post_job(gql, employers[0])
    key = uuid.uuid4().hex
    retried = [
        await run(me, APPLY, workerId=worker_id, jobId=other["id"], idempotencyKey=key)
        for _ in range(2)
    ]
    assert retried[0] == retried[1] and retried[0]["userErrors"] == []


async def test_who_may_apply(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings,
    employers: list[Employer], workers: list[tuple[str, str]],
) -> None:
    job = await post_job(gql, employers[0])
    (mine, home), (other, _) = workers[0], workers[1]
    refusals = {
        "for another worker": (
            as_worker(gql, settings, mine), other, (("input", "workerId"), "NOT_ALLOWED")
        ),
        "an employer": (employer_of(gql, settings, employers[0]), mine, ((), "NOT_ALLOWED")),
        "anonymous": (anonymous, mine, ((), "NOT_ALLOWED")),
        "staff elsewhere": (  # who do not see the worker
            gql.as_(bearer(settings, "staff", region=employers[1].province)), mine,
            (("input", "workerId"), "NOT_FOUND"),
        ),
    }
    for who, (client, worker_id, refusal) in refusals.items():
        refused = await run(client, APPLY, workerId=worker_id, jobId=job["id"])
        assert codes(refused) == [refusal], who
    staff = gql.as_(bearer(settings, "staff", region=home))
    on_behalf = await run(staff, APPLY, workerId=mine, jobId=job["id"])
    assert on_behalf["userErrors"] == [] and on_behalf["application"]["worker"] == {"id": mine}
    malformed = await run(staff, APPLY, workerId=job["id"], jobId=mine)
    assert codes(malformed) == [
        (("input", "workerId"), "INVALID"), (("input", "jobId"), "INVALID")
    ]


async def test_only_a_job_published_now_and_not_full_takes_applications(
    gql: GraphQLClient, settings: Settings, engine: AsyncEngine, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    worker_id, home = workers[0]
    me = as_worker(gql, settings, worker_id)
    staff = gql.as_(bearer(settings, "staff", region=employers[0].province))
    draft = await post_job(gql, employers[0], status="DRAFT")
    lapsed = await post_job(gql, employers[0])
    async with expired(engine, lapsed["id"]):
        closed = await post_job(gql, employers[0])
        close = "mutation ($input: CloseJobInput!) { closeJob(input: $input) { job { id } } }"
        await run(gql, close, jobId=closed["id"], version=1)
        for job in (draft, lapsed, closed):
            # The worker does not see them; staff of the job's division do, and are told why.
            assert codes(await run(me, APPLY, workerId=worker_id, jobId=job["id"])) == [
                (("input", "jobId"), "NOT_FOUND")
            ]
            assert home == employers[0].province  # so staff of the job's division see the worker
            refused = await run(staff, APPLY, workerId=worker_id, jobId=job["id"])
            assert codes(refused) == [(("input", "jobId"), "JOB_NOT_OPEN")]
        async with engine.begin() as connection:  # filled by hires made elsewhere
            full = await post_job(gql, employers[0], headcount=1)
            await connection.execute(
                text("UPDATE jobs SET openings_filled = headcount WHERE id = :id"),
                {"id": key_of(full["id"])},
            )
        assert codes(await run(me, APPLY, workerId=worker_id, jobId=full["id"])) == [
            (("input", "jobId"), "JOB_FULL")
        ]
    # hidden by three open reports (the count the reports' trigger keeps), until reviewed
    reported = await post_job(gql, employers[0])
    hide = "UPDATE jobs SET open_reports = :n WHERE id = :id"
    async with engine.begin() as connection:
        await connection.execute(text(hide), {"n": 3, "id": key_of(reported["id"])})
    try:
        assert codes(await run(me, APPLY, workerId=worker_id, jobId=reported["id"])) == [
            (("input", "jobId"), "NOT_FOUND")
        ]
        under_review = await run(staff, APPLY, workerId=worker_id, jobId=reported["id"])
        assert codes(under_review) == [(("input", "jobId"), "JOB_NOT_OPEN")]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(hide), {"n": 0, "id": key_of(reported["id"])})


async def test_a_worker_withdraws_a_live_application_once(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    job = await post_job(gql, employers[0])
    worker_id = workers[0][0]
    application = await apply(gql, settings, worker_id, job["id"])
    me = as_worker(gql, settings, worker_id)
    others = {
        "another worker": (as_worker(gql, settings, workers[1][0]),
                           (("input", "applicationId"), "NOT_FOUND")),
        "the employer": (employer_of(gql, settings, employers[0]), ((), "NOT_ALLOWED")),
    }
    for who, (client, refusal) in others.items():
        refused = await run(client, WITHDRAW, applicationId=application["id"], version=1)
        assert codes(refused) == [refusal], who
    stale = await run(me, WITHDRAW, applicationId=application["id"], version=2)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    withdrawn = await run(me, WITHDRAW, applicationId=application["id"], version=1)
    assert withdrawn["userErrors"] == []
    assert (withdrawn["application"]["status"], withdrawn["application"]["version"]) == (
        "WITHDRAWN", 2
    )
    again = await run(me, WITHDRAW, applicationId=application["id"], version=2)
    assert codes(again) == [(("input", "applicationId"), "INVALID_TRANSITION")]
    hire = await run(gql, REVIEW, applicationId=application["id"], decision="HIRE", version=2)
    assert codes(hire) == [(("input", "applicationId"), "INVALID_TRANSITION")]


async def test_the_moves_an_application_may_make(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    job = await post_job(gql, employers[0], headcount=3)
    owner = employer_of(gql, settings, employers[0])
    first, second = [await apply(gql, settings, w, job["id"]) for w, _ in workers[:2]]
    hire_early = await run(owner, REVIEW, applicationId=first["id"], decision="HIRE", version=1)
    assert codes(hire_early) == [(("input", "applicationId"), "INVALID_TRANSITION")]
    shortlisted = await run(
        owner, REVIEW, applicationId=first["id"], decision="SHORTLIST", version=1
    )
    assert shortlisted["application"]["status"] == "SHORTLISTED"
    twice = await run(owner, REVIEW, applicationId=first["id"], decision="SHORTLIST", version=2)
    assert codes(twice) == [(("input", "applicationId"), "INVALID_TRANSITION")]
    stale = await run(owner, REVIEW, applicationId=first["id"], decision="HIRE", version=1)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    rejected = await run(owner, REVIEW, applicationId=second["id"], decision="REJECT", version=1)
    assert rejected["application"]["status"] == "REJECTED"
    revived = await run(
        owner, REVIEW, applicationId=second["id"], decision="SHORTLIST", version=2
    )
    assert codes(revived) == [(("input", "applicationId"), "INVALID_TRANSITION")]
    hired = await run(
        owner, REVIEW, applicationId=first["id"], decision="HIRE", version=2,
        startedOn="2026-12-01", monthlyWage="7000",
    )
    assert hired["userErrors"] == []
    assert (hired["application"]["status"], hired["application"]["version"]) == ("HIRED", 3)
    (placement,) = hired["application"]["placements"]
    assert placement["startedOn"] == "2026-12-01" and placement["monthlyWage"] == "7000.00"
    me = as_worker(gql, settings, workers[0][0])
    withdraw = await run(me, WITHDRAW, applicationId=first["id"], version=3)
    assert codes(withdraw) == [(("input", "applicationId"), "INVALID_TRANSITION")]
    after = await read_job(gql, job["id"])
    assert (after["openingsFilled"], after["openingsLeft"], after["status"]) == (1, 2, "PUBLISHED")
    audit = await gql.ok(
        """query ($id: ID!) { auditEvents(filter: {recordId: $id, operation: "reviewApplication"})
             { nodes { recordIds } } }""", {"id": placement["id"]},
    )
    assert audit["auditEvents"]["nodes"] == [{"recordIds": [first["id"], placement["id"]]}]


async def test_who_may_review(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    job = await post_job(gql, employers[0])
    application = await apply(gql, settings, workers[0][0], job["id"])
    refusals = {
        "the worker": (as_worker(gql, settings, workers[0][0]), ((), "NOT_ALLOWED")),
        "another employer": (
            employer_of(gql, settings, employers[1]), (("input", "applicationId"), "NOT_FOUND")
        ),
        "staff elsewhere": (
            gql.as_(bearer(settings, "staff", region=employers[1].province)),
            (("input", "applicationId"), "NOT_FOUND"),
        ),
    }
    for who, (client, refusal) in refusals.items():
        refused = await run(
            client, REVIEW, applicationId=application["id"], decision="SHORTLIST", version=1
        )
        assert codes(refused) == [refusal], who
    not_hired = await run(
        gql, REVIEW, applicationId=application["id"], decision="REJECT", version=1,
        monthlyWage="5000",
    )
    assert codes(not_hired) == [(("input", "monthlyWage"), "INVALID")]
    staff = gql.as_(bearer(settings, "staff", region=employers[0].province))
    done = await run(
        staff, REVIEW, applicationId=application["id"], decision="SHORTLIST", version=1
    )
    assert done["application"]["status"] == "SHORTLISTED"


async def test_the_last_opening_hired_twice_at_once_goes_to_one(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    """The employer's HR and staff of the division hire two applicants for the last opening
    at the same time: one is hired, the other is JOB_FULL; one placement, the job closed."""
    for _ in range(3):  # the race is real each time
        job = await post_job(gql, employers[0], headcount=1)
        applications = [await apply(gql, settings, w, job["id"]) for w, _ in workers[:2]]
        for application in applications:
            shortlisted = await run(
                gql, REVIEW, applicationId=application["id"], decision="SHORTLIST", version=1
            )
            assert shortlisted["userErrors"] == []
        hirers = [
            employer_of(gql, settings, employers[0]),
            gql.as_(bearer(settings, "staff", region=employers[0].province)),
        ]
        results = await asyncio.gather(*(
            run(hirer, REVIEW, applicationId=application["id"], decision="HIRE", version=2)
            for hirer, application in zip(hirers, applications, strict=True)
        ))
        hired = [r for r in results if r["application"] is not None]
        lost = [codes(r) for r in results if r["application"] is None]
        assert len(hired) == 1 and lost == [[(("input", "applicationId"), "JOB_FULL")]]
        after = await read_job(gql, job["id"])
        assert (after["openingsFilled"], after["openingsLeft"], after["status"]) == (
            1, 0, "CLOSED"
        )
        placed = await gql.ok(
            "query ($id: ID!) { placements(filter: {jobId: $id}) { totalCount } }",
            {"id": job["id"]},
        )
        assert placed["placements"]["totalCount"] == 1
