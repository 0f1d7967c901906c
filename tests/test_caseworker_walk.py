"""A caseworker's day, over HTTP, as the mutations a user would paste: register an employer
and verify it, post and publish a job, register a worker who walks in and survey them, find
the job by a two-character keyword as the worker, apply, shortlist and hire. Afterwards the
placement exists and the job, its one opening filled, is closed."""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.codes import generate_credit_code
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, rows_removed_after
from tests.registering import CURRENT, worker_input

DIVISION = "440000"  # the caseworker's: Guangdong


async def act(client: GraphQLClient, mutation: str, given: dict[str, Any]) -> dict[str, Any]:
    """The payload of `mutation(input: given)`, which must have no user errors."""
    name = mutation[0].lower() + mutation[1:]
    selection = {
        "registerEmployer": "employer { id version verifiedAt }",
        "verifyEmployer": "employer { id version verifiedAt }",
        "createJob": "job { id version status }",
        "publishJob": "job { id version status }",
        "registerWorker": "worker { id maskedIdNumber }",
        "recordSkillSurvey": "skillSurvey { id }",
        "applyToJob": "application { id version status }",
        "reviewApplication": "application { id version status placements { id } }",
    }[name]
    data = await client.ok(
        f"""mutation ($input: {mutation}Input!) {{ {name}(input: $input) {{
            {selection} userErrors {{ field code message }} }} }}""",
        {"input": given},
    )
    payload = data[name]
    assert payload["userErrors"] == [], (name, payload["userErrors"])
    return dict(payload)


MADE = ("placements", "applications", "jobs", "employers")  # in the order they go


@pytest.fixture
async def walk_removed(
    engine: AsyncEngine, registered_workers_removed: None
) -> AsyncIterator[None]:
    """The rows the walk makes are deleted after it (the worker, with their survey, by
    `registered_workers_removed`), so no other test meets a hire made today."""
    async with rows_removed_after(engine, *MADE):
        yield


@pytest.mark.usefixtures("walk_removed")
async def test_a_caseworker_places_a_walk_in_worker_in_a_job_found_by_keyword(
    gql: GraphQLClient, settings: Settings
) -> None:
    caseworker = gql.as_(bearer(settings, "staff", region=DIVISION))
    tag = uuid.uuid4().hex[:6]

    employer = (await act(caseworker, "RegisterEmployer", {
        "name": f"深圳宝安精密电子厂{tag}", "regionCode": CURRENT, "industryCode": "C",
        "size": "MEDIUM", "creditCode": generate_credit_code(DIVISION, random.randrange(31**9)),
        "idempotencyKey": f"walk-employer-{tag}",
    }))["employer"]
    assert employer["verifiedAt"] is None
    employer = (await act(caseworker, "VerifyEmployer", {
        "employerId": employer["id"], "version": employer["version"],
    }))["employer"]
    assert employer["verifiedAt"] is not None

    title = f"普工（包吃住）{tag}"
    job = (await act(caseworker, "CreateJob", {
        "employerId": employer["id"], "title": title, "regionCode": CURRENT,
        "description": "长白班，五险一金，月休四天", "salaryMin": "5200", "salaryMax": "6800",
        "salaryUnit": "MONTH", "headcount": 1, "employmentType": "FULL_TIME",
        "lodging": True, "board": True, "idempotencyKey": f"walk-job-{tag}",
    }))["job"]
    assert job["status"] == "DRAFT"
    valid_through = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    job = (await act(caseworker, "PublishJob", {
        "jobId": job["id"], "version": job["version"], "validThrough": valid_through,
    }))["job"]
    assert job["status"] == "PUBLISHED"

    worker = (await act(caseworker, "RegisterWorker", worker_input(
        idempotencyKey=f"walk-worker-{tag}",
    )))["worker"]
    await act(caseworker, "RecordSkillSurvey", {
        "workerId": worker["id"], "skills": ["forklift"], "intendedRegionCodes": [CURRENT],
        "expectedSalary": "6000", "willingToRelocate": True, "servicePoint": "宝安区人力资源服务站",
    })

    as_worker = gql.as_(bearer(settings, "worker", worker_id=worker["id"]))
    search = await as_worker(
        """query ($filter: JobFilter) { jobs(first: 20, filter: $filter) {
             totalCount nodes { id title employer { name } } } }""",
        {"filter": {"keyword": "普工", "regionCode": CURRENT, "lodging": True}},
    )
    assert not search.errors, search.errors
    assert search.headers.get("x-read-path") == "compiled"
    found = [node for node in search.data["jobs"]["nodes"] if node["id"] == job["id"]]
    assert found == [{"id": job["id"], "title": title, "employer": {"name": employer_name(tag)}}]

    application = (await act(as_worker, "ApplyToJob", {
        "workerId": worker["id"], "jobId": job["id"], "idempotencyKey": f"walk-apply-{tag}",
    }))["application"]
    assert application["status"] == "SUBMITTED"
    as_employer = gql.as_(bearer(settings, "employer", employer_id=employer["id"]))
    application = (await act(as_employer, "ReviewApplication", {
        "applicationId": application["id"], "decision": "SHORTLIST",
        "version": application["version"],
    }))["application"]
    assert application["status"] == "SHORTLISTED"
    application = (await act(as_employer, "ReviewApplication", {
        "applicationId": application["id"], "decision": "HIRE",
        "version": application["version"],
    }))["application"]
    assert application["status"] == "HIRED"
    [placement] = application["placements"]

    after = await caseworker.ok(
        """query ($job: ID!, $placement: ID!) {
             job: node(id: $job) { ... on Job { status openingsLeft } }
             placement: node(id: $placement) { ... on Placement { worker { id } job { id } } }
           }""",
        {"job": job["id"], "placement": placement["id"]},
    )
    assert after["job"] == {"status": "CLOSED", "openingsLeft": 0}
    assert after["placement"] == {"worker": {"id": worker["id"]}, "job": {"id": job["id"]}}


def employer_name(tag: str) -> str:
    return f"深圳宝安精密电子厂{tag}"
