"""createJob: who may post, validation naming each field, nothing half-written, idempotency."""

from __future__ import annotations

import asyncio
import base64
import uuid
from typing import Any

import pytest

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.raw_json import post, refused
from tests.test_global_ids import ARABIC_INDIC

CREATE = """mutation ($input: CreateJobInput!) { createJob(input: $input) {
  job { id title status salaryMin salaryMax region { code } employer { id } }
  userErrors { field code message } } }"""
COUNT = "{ jobs(filter: {status: DRAFT}) { totalCount } }"


@pytest.fixture(scope="module")
async def employer(gql: GraphQLClient) -> dict[str, str]:
    data = await gql.ok("{ employers(first: 1) { nodes { id region { code } } } }")
    node = data["employers"]["nodes"][0]
    return {"id": node["id"], "region": node["region"]["code"]}


def job_input(employer: dict[str, str], **changes: Any) -> dict[str, Any]:
    """A valid posting of a title of its own (the same title in the same county within 30
    days would be DUPLICATE_POSTING)."""
    values: dict[str, Any] = {
        "employerId": employer["id"],
        "title": f"普工（包吃住）{uuid.uuid4().hex[:8]}",
        "regionCode": employer["region"],
        "salaryMin": "5000",
        "salaryMax": "7000.50",
        "salaryUnit": "MONTH",
        "headcount": 12,
        "employmentType": "FULL_TIME",
    }
    return {**values, **changes}


async def test_employer_posts_its_own_job(
    gql: GraphQLClient, settings: Settings, employer: dict[str, str]
) -> None:
    as_employer = gql.as_(bearer(settings, "employer", employer_id=employer["id"]))
    created = (await as_employer.ok(CREATE, {"input": job_input(employer)}))["createJob"]
    assert created["userErrors"] == []
    job = created["job"]
    assert job["status"] == "DRAFT" and job["employer"]["id"] == employer["id"]
    assert job["salaryMax"] == "7000.50"
    again = await as_employer.ok("query ($id: ID!) { node(id: $id) { id } }", {"id": job["id"]})
    assert again["node"] == {"id": job["id"]}


async def test_each_invalid_field_is_named_and_nothing_is_written(
    gql: GraphQLClient, employer: dict[str, str]
) -> None:
    before = (await gql.ok(COUNT))["jobs"]["totalCount"]
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"title": "  "}, "title", "INVALID"),
        ({"salaryMin": "9000"}, "salaryMax", "INVALID"),
        ({"salaryMax": "-1"}, "salaryMax", "INVALID"),
        ({"salaryMin": "1.005"}, "salaryMin", "INVALID"),
        ({"headcount": 0}, "headcount", "INVALID"),
        ({"status": "CLOSED"}, "status", "INVALID"),
        ({"regionCode": "12345"}, "regionCode", "INVALID"),
        ({"regionCode": "999999"}, "regionCode", "NOT_FOUND"),
        ({"occupationCode": "4-02-07"}, "occupationCode", "INVALID"),
        ({"occupationCode": "8-99-99-99"}, "occupationCode", "NOT_FOUND"),
        ({"industryCode": "Z"}, "industryCode", "INVALID"),
        ({"employerId": "Sm9iOjE="}, "employerId", "INVALID"),
        ({"employerId": "RW1wbG95ZXI6OTk5OTk5OQ=="}, "employerId", "NOT_FOUND"),
        (
            {"postedAt": "2026-03-01T00:00:00+08:00", "validThrough": "2026-02-01T00:00:00+08:00"},
            "validThrough",
            "INVALID",
        ),
    ]
    for changes, field, code in cases:
        result = (await gql.ok(CREATE, {"input": job_input(employer, **changes)}))["createJob"]
        assert result["job"] is None, changes
        errors = {(tuple(e["field"] or ()), e["code"]) for e in result["userErrors"]}
        assert (("input", field), code) in errors, (changes, result["userErrors"])
    assert (await gql.ok(COUNT))["jobs"]["totalCount"] == before


async def test_who_may_post(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings, employer: dict[str, str]
) -> None:
    others = await gql.ok("{ employers(first: 5) { nodes { id } } }")
    other = next(e["id"] for e in others["employers"]["nodes"] if e["id"] != employer["id"])
    far_away = "540000" if not employer["region"].startswith("54") else "650000"
    refused: dict[str, tuple[GraphQLClient, dict[str, Any]]] = {
        "anonymous": (anonymous, {}),
        "worker": (gql.as_(bearer(settings, "worker", worker_id="1")), {}),
        "another employer": (gql.as_(bearer(settings, "employer", employer_id=other)), {}),
        "staff elsewhere": (gql.as_(bearer(settings, "staff", region=far_away)), {}),
    }
    for who, (client, changes) in refused.items():
        result = (await client.ok(CREATE, {"input": job_input(employer, **changes)}))["createJob"]
        assert result["job"] is None and result["userErrors"][0]["code"] == "NOT_ALLOWED", who
    local_staff = gql.as_(bearer(settings, "staff", region=employer["region"][:2] + "0000"))
    posted = (await local_staff.ok(CREATE, {"input": job_input(employer)}))["createJob"]
    assert posted["userErrors"] == [] and posted["job"] is not None


async def test_retries_with_one_idempotency_key_create_one_job(
    gql: GraphQLClient, employer: dict[str, str]
) -> None:
    before = (await gql.ok(COUNT))["jobs"]["totalCount"]
    values = job_input(employer, idempotencyKey=uuid.uuid4().hex)
    first = (await gql.ok(CREATE, {"input": values}))
    second = (await gql.ok(CREATE, {"input": values}))
    assert first["createJob"]["job"]["id"] == second["createJob"]["job"]["id"]
    assert (await gql.ok(COUNT))["jobs"]["totalCount"] == before + 1
    changed = await gql.ok(CREATE, {"input": {**values, "headcount": 3}})
    assert changed["createJob"]["userErrors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert changed["createJob"]["userErrors"][0]["field"] == ["input", "idempotencyKey"]


async def test_concurrent_retries_create_one_job(
    gql: GraphQLClient, employer: dict[str, str]
) -> None:
    before = (await gql.ok(COUNT))["jobs"]["totalCount"]
    racing = job_input(employer, idempotencyKey=uuid.uuid4().hex)
    results = await asyncio.gather(*(gql.ok(CREATE, {"input": racing}) for _ in range(4)))
    assert len({r["createJob"]["job"]["id"] for r in results}) == 1
    assert (await gql.ok(COUNT))["jobs"]["totalCount"] == before + 1


async def test_malformed_ids_and_text_are_refused_not_internal_errors(
    gql: GraphQLClient, employer: dict[str, str]
) -> None:
    before = (await gql.ok(COUNT))["jobs"]["totalCount"]
    canonical_key = base64.b64decode(employer["id"]).decode().split(":")[1]
    for key in ("²", "¹", f"0{canonical_key}", canonical_key.translate(ARABIC_INDIC)):
        employer_id = base64.b64encode(f"Employer:{key}".encode()).decode()
        result = await gql.ok(CREATE, {"input": job_input(employer, employerId=employer_id)})
        assert result["createJob"]["job"] is None, key
        assert {"field": ["input", "employerId"], "code": "INVALID"} in [
            {"field": e["field"], "code": e["code"]} for e in result["createJob"]["userErrors"]
        ], key
    for field in ("title", "description", "regionCode", "idempotencyKey"):
        result = await post(gql, CREATE, {"input": job_input(employer, **{field: "普\ud800工"})})
        assert result.status == 400 and "data" not in result.body
        refused(result, f"variable '$input.{field}'", "lone surrogate")
    assert (await gql.ok(COUNT))["jobs"]["totalCount"] == before


async def test_date_times_need_an_offset_and_a_place_in_the_calendar(
    gql: GraphQLClient, employer: dict[str, str]
) -> None:
    before = (await gql.ok(COUNT))["jobs"]["totalCount"]
    cases = [
        ({"validThrough": "2026-06-01T00:00:00"}, "give a UTC offset"),
        ({"postedAt": "2026-03-01T00:00:00", "validThrough": "2026-06-01T00:00:00+08:00"},
         "give a UTC offset"),
        ({"validThrough": "9999-12-31T23:00:00-14:00"}, "out of range"),
        ({"postedAt": "0001-01-01T00:00:00+14:00"}, "out of range"),
    ]
    for changes, problem in cases:
        result = await gql(CREATE, {"input": job_input(employer, **changes)})
        assert result.status == 400 and "data" not in result.body, changes
        refused(result, "Variable '$input'", problem)
    fields = (
        f'employerId: "{employer["id"]}", title: "t", regionCode: "{employer["region"]}", '
        'salaryMin: "1", salaryMax: "2", salaryUnit: MONTH, headcount: 1, '
        'employmentType: FULL_TIME, validThrough: "2026-06-01T00:00:00"'
    )
    literal = await gql(f"mutation {{ createJob(input: {{{fields}}}) {{ job {{ id }} }} }}")
    refused(literal, "argument 'validThrough'", "give a UTC offset")
    assert (await gql.ok(COUNT))["jobs"]["totalCount"] == before
