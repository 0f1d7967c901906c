"""Skill surveys (摸底): recorded with every field checked and named, kept as history newest
first with the newest as `latestSurvey` on both read paths, shown by the row policy (never to
employers), listed and filtered, retried with one key, audited, at a fixed statement count.

Every test registers its own workers (tests/registering.py), removed after it, so each passes
alone and in any order and no other test meets them.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key
from tests.registering import CURRENT, codes, registered

pytestmark = pytest.mark.usefixtures("registered_workers_removed")

SURVEY_FIELDS = """id skillCodes intendedOccupationCodes intendedRegionCodes expectedSalary
  willingToRelocate trainingNeeds servicePoint surveyedAt worker { id }"""
RECORD = f"""mutation ($input: RecordSkillSurveyInput!) {{ recordSkillSurvey(input: $input) {{
  skillSurvey {{ {SURVEY_FIELDS} }} userErrors {{ field code message }} }} }}"""
HISTORY = f"""query ($id: ID!) {{ node(id: $id) {{ ... on Worker {{
  surveys(first: 10) {{ totalCount nodes {{ {SURVEY_FIELDS} }} }}
  latestSurvey {{ {SURVEY_FIELDS} }} }} }} }}"""
LIST = """query ($filter: SkillSurveyFilter, $order: SkillSurveyOrder) {
  skillSurveys(first: 100, filter: $filter, orderBy: $order) {
    totalCount nodes { id surveyedAt willingToRelocate worker { id } } } }"""
SURVEYS_OF_WORKERS = """query ($n: Int!) { workers(first: $n) { nodes {
  surveys(first: 3) { totalCount nodes { id surveyedAt } }
  latestSurvey { id skillCodes } } } }"""
AUDIT = """query ($id: ID!) {
  auditEvents(filter: {recordId: $id, operation: "recordSkillSurvey"}) {
    nodes { actor recordIds sensitiveFields } } }"""



def survey_input(worker: Any, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "workerId": worker["id"],
        "skills": ["welding", "electrician-cert"],
        "intendedOccupationCodes": ["6-18-02-04", "6-31-01-03"],
        "intendedRegionCodes": [CURRENT, "440300"],
        "expectedSalary": "6500.50",
        "willingToRelocate": True,
        "trainingNeeds": "想考低压电工证",
        "servicePoint": "新安街道就业服务站",
    }
    return {**values, **changes}


async def record(client: GraphQLClient, worker: Any, **changes: Any) -> Any:
    result = await client.ok(RECORD, {"input": survey_input(worker, **changes)})
    return result["recordSkillSurvey"]


async def recorded(client: GraphQLClient, worker: Any, **changes: Any) -> Any:
    result = await record(client, worker, **changes)
    assert result["userErrors"] == [] and result["skillSurvey"] is not None, result
    return result["skillSurvey"]


async def history(client: GraphQLClient, worker: Any) -> Any:
    return (await client.ok(HISTORY, {"id": worker["id"]}))["node"]


def instant(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).isoformat()


async def test_staff_record_a_survey_with_every_field(
    gql: GraphQLClient, settings: Settings
) -> None:
    worker = await registered(gql)
    staff = gql.as_(bearer(settings, "staff", region="440300"))
    survey = await recorded(staff, worker)
    assert survey["skillCodes"] == ["welding", "electrician-cert"]  # as given, in order
    assert survey["intendedOccupationCodes"] == ["6-18-02-04", "6-31-01-03"]
    assert survey["intendedRegionCodes"] == [CURRENT, "440300"]
    assert survey["expectedSalary"] == "6500.50" and survey["willingToRelocate"] is True
    assert survey["trainingNeeds"] == "想考低压电工证"
    assert survey["servicePoint"] == "新安街道就业服务站"
    assert survey["worker"] == {"id": worker["id"]}
    age = datetime.now(UTC) - datetime.fromisoformat(survey["surveyedAt"])
    assert timedelta(0) <= age < timedelta(minutes=1)
    again = await gql.ok(
        f"query ($id: ID!) {{ node(id: $id) {{ ... on SkillSurvey {{ {SURVEY_FIELDS} }} }} }}",
        {"id": survey["id"]},
    )
    assert again["node"] == survey


async def test_history_comes_newest_first_and_the_newest_is_the_latest_on_both_paths(
    gql: GraphQLClient, gql_on_path: GraphQLClient, read_path: str
) -> None:
    worker = await registered(gql)
    empty = await history(gql_on_path, worker)
    assert empty == {"surveys": {"totalCount": 0, "nodes": []}, "latestSurvey": None}
    # Recorded out of order: the order is when each was surveyed, not when it was recorded.
    middle = await recorded(gql, worker, surveyedAt=instant(30), expectedSalary="5000")
    newest = await recorded(gql, worker, surveyedAt=instant(1), skills=[])
    oldest = await recorded(gql, worker, surveyedAt=instant(400), expectedSalary=None)
    result = await gql_on_path(HISTORY, {"id": worker["id"]})
    assert not result.errors and result.headers["x-read-path"] == read_path
    found = result.data["node"]
    assert found["surveys"] == {"totalCount": 3, "nodes": [newest, middle, oldest]}
    assert found["latestSurvey"] == newest


async def test_the_latest_survey_is_the_newest_the_viewer_may_see(
    gql: GraphQLClient, settings: Settings
) -> None:
    """Employers see the applicants to their jobs, never their surveys: the latest is null."""
    data = await gql.ok(
        """{ skillSurveys(first: 100) { nodes { worker { id latestSurvey { id }
             applications(first: 1) { nodes { job { employer { id } } } } } } } }"""
    )
    employer, applicant = next(
        (worker["applications"]["nodes"][0]["job"]["employer"]["id"], worker)
        for worker in (survey["worker"] for survey in data["skillSurveys"]["nodes"])
        if worker["applications"]["nodes"]
    )
    as_employer = gql.as_(bearer(settings, "employer", employer_id=employer))
    seen = await history(as_employer, applicant)
    assert seen == {"surveys": {"totalCount": 0, "nodes": []}, "latestSurvey": None}
    listed = await as_employer.ok(LIST, {"filter": {"workerId": applicant["id"]}})
    assert listed["skillSurveys"] == {"totalCount": 0, "nodes": []}
    node = await as_employer.ok(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": applicant["latestSurvey"]["id"]}
    )
    assert node["node"] is None


async def test_each_invalid_field_is_named_and_nothing_is_written(gql: GraphQLClient) -> None:
    worker = await registered(gql)
    tomorrow = instant(-1)
    cases: list[tuple[dict[str, Any], tuple[str, ...], str]] = [
        ({"skills": ["welding", "no-such-skill"]}, ("skills", "1"), "NOT_FOUND"),
        ({"skills": ["Welding"]}, ("skills", "0"), "INVALID"),
        ({"skills": ["welding", "welding"]}, ("skills", "1"), "INVALID"),
        ({"skills": [f"s{n}" for n in range(21)]}, ("skills",), "INVALID"),
        ({"intendedOccupationCodes": ["6-18-02"]}, ("intendedOccupationCodes", "0"), "INVALID"),
        (
            {"intendedOccupationCodes": ["6-18-02-04", "8-99-99-99"]},
            ("intendedOccupationCodes", "1"), "NOT_FOUND",
        ),
        ({"intendedRegionCodes": ["4403"]}, ("intendedRegionCodes", "0"), "INVALID"),
        ({"intendedRegionCodes": [CURRENT, "999999"]}, ("intendedRegionCodes", "1"), "NOT_FOUND"),
        ({"expectedSalary": "-1"}, ("expectedSalary",), "INVALID"),
        ({"expectedSalary": "6500.505"}, ("expectedSalary",), "INVALID"),
        ({"expectedSalary": "10000000000"}, ("expectedSalary",), "INVALID"),
        ({"trainingNeeds": "  "}, ("trainingNeeds",), "INVALID"),
        ({"trainingNeeds": "电" * 1001}, ("trainingNeeds",), "INVALID"),
        ({"servicePoint": "站" * 129}, ("servicePoint",), "INVALID"),
        ({"surveyedAt": tomorrow}, ("surveyedAt",), "INVALID"),
        ({"workerId": "Sm9iOjE="}, ("workerId",), "INVALID"),  # a Job's ID
        ({"workerId": "V29ya2VyOjk5OTk5OTk5OQ=="}, ("workerId",), "NOT_FOUND"),
        ({"idempotencyKey": ""}, ("idempotencyKey",), "INVALID"),
    ]
    for changes, field, code in cases:
        result = await record(gql, worker, **changes)
        assert result["skillSurvey"] is None, changes
        assert (("input", *field), code) in codes(result), (changes, result["userErrors"])
    assert (await history(gql, worker))["surveys"]["totalCount"] == 0


async def test_who_may_record_a_survey(
    gql: GraphQLClient, anonymous: GraphQLClient, http: httpx.AsyncClient, settings: Settings,
    database_url: str,
) -> None:
    worker, other = await registered(gql), await registered(gql)
    self = gql.as_(bearer(settings, "worker", worker_id=worker["id"]))
    denied = {
        "anonymous": (anonymous, ()),
        "employer": (gql.as_(bearer(settings, "employer", employer_id="1")), ()),
        "another worker": (gql.as_(bearer(settings, "worker", worker_id=other["id"])),
                           ("input", "workerId")),
        "staff elsewhere": (gql.as_(bearer(settings, "staff", region="510000")),
                            ("input", "workerId")),
    }
    for who, (client, field) in denied.items():
        result = await record(client, worker)
        code = "NOT_FOUND" if who == "staff elsewhere" else "NOT_ALLOWED"
        assert result["skillSurvey"] is None and codes(result) == [(field, code)], who
    assert (await history(gql, worker))["surveys"]["totalCount"] == 0
    mine = await recorded(self, worker, servicePoint=None)  # filled in by the worker themself
    assert mine["servicePoint"] is None
    assert (await history(self, worker))["latestSurvey"] == mine
    hukou_staff = gql.as_(bearer(settings, "staff", region="411400"))
    assert (await record(hukou_staff, worker))["userErrors"] == []
    async with consented_partner_key(
        settings, database_url, partner="survey-test", scopes=["recordSkillSurvey"],
        regions=["440000"], types=["Worker"], consenting=False,
    ) as key:
        partner = GraphQLClient(http, {"x-api-key": key})
        without_consent = await record(partner, worker)
        assert codes(without_consent) == [(("input", "workerId"), "NOT_FOUND")]
    async with consented_partner_key(
        settings, database_url, partner="survey-test", scopes=["recordSkillSurvey"],
        regions=["440000"], types=["Worker"],
    ) as key:
        partner = GraphQLClient(http, {"x-api-key": key})
        assert (await record(partner, worker))["userErrors"] == []
    assert (await record(gql, worker))["userErrors"] == []  # admins
    assert (await history(gql, worker))["surveys"]["totalCount"] == 4


async def test_a_retry_with_one_key_records_one_survey(gql: GraphQLClient) -> None:
    worker = await registered(gql)
    key = uuid.uuid4().hex
    first, second = [await record(gql, worker, idempotencyKey=key) for _ in range(2)]
    assert first == second and first["userErrors"] == []
    racing = uuid.uuid4().hex
    results = await asyncio.gather(
        *(record(gql, worker, idempotencyKey=racing) for _ in range(4))
    )
    assert len({r["skillSurvey"]["id"] for r in results}) == 1
    reused = await record(gql, worker, idempotencyKey=key, willingToRelocate=False)
    assert codes(reused) == [(("input", "idempotencyKey"), "IDEMPOTENCY_KEY_REUSED")]
    assert (await history(gql, worker))["surveys"]["totalCount"] == 2


async def test_recording_is_audited(gql: GraphQLClient, settings: Settings) -> None:
    worker = await registered(gql)
    staff = gql.as_(bearer(settings, "staff", region="440000"))
    survey = await recorded(staff, worker)
    [event] = (await gql.ok(AUDIT, {"id": survey["id"]}))["auditEvents"]["nodes"]
    assert event["actor"] == "staff:test-staff" and event["recordIds"] == [survey["id"]]
    assert {"SkillSurvey.expectedSalary", "SkillSurvey.skillCodes"} <= set(
        event["sensitiveFields"]
    )


async def test_the_list_is_filtered_and_ordered(gql: GraphQLClient) -> None:
    worker = await registered(gql)
    old = await recorded(gql, worker, surveyedAt=instant(10), willingToRelocate=False)
    new = await recorded(gql, worker, surveyedAt=instant(2))
    mine = await gql(LIST, {"filter": {"workerId": worker["id"]}})
    assert mine.headers["x-read-path"] == "compiled"
    assert [n["id"] for n in mine.data["skillSurveys"]["nodes"]] == [new["id"], old["id"]]
    ascending = await gql.ok(
        LIST, {"filter": {"workerId": worker["id"]},
               "order": {"field": "SURVEYED_AT", "direction": "ASC"}},
    )
    assert [n["id"] for n in ascending["skillSurveys"]["nodes"]] == [old["id"], new["id"]]
    staying = await gql.ok(
        LIST, {"filter": {"workerId": worker["id"], "willingToRelocate": False}}
    )
    assert [n["id"] for n in staying["skillSurveys"]["nodes"]] == [old["id"]]
    recent = await gql.ok(
        LIST, {"filter": {"workerId": worker["id"], "surveyedAfter": instant(5)}}
    )
    assert [n["id"] for n in recent["skillSurveys"]["nodes"]] == [new["id"]]
    backwards = await gql(
        LIST, {"filter": {"surveyedAfter": instant(1), "surveyedBefore": instant(5)}}
    )
    assert backwards.errors[0]["extensions"]["argument"] == "filter.surveyedAfter"
    not_a_worker = await gql(LIST, {"filter": {"workerId": new["id"]}})  # a survey's ID
    assert not_a_worker.errors[0]["extensions"]["argument"] == "filter.workerId"


async def test_the_seed_surveys_some_workers_newest_first(gql_on_path: GraphQLClient) -> None:
    data = await gql_on_path.ok(SURVEYS_OF_WORKERS, {"n": 100})
    surveyed = [w for w in data["workers"]["nodes"] if w["surveys"]["totalCount"]]
    assert 0 < len(surveyed) < len(data["workers"]["nodes"])
    for worker in surveyed:
        times = [s["surveyedAt"] for s in worker["surveys"]["nodes"]]
        assert times == sorted(times, reverse=True)
        assert worker["latestSurvey"]["id"] == worker["surveys"]["nodes"][0]["id"]


@pytest.mark.parametrize("parents", [5, 100])
async def test_surveys_and_the_latest_cost_one_statement_per_relation(
    gql_on_path: GraphQLClient, read_path: str, parents: int
) -> None:
    result = await gql_on_path(SURVEYS_OF_WORKERS, {"n": parents})
    assert not result.errors and result.headers["x-read-path"] == read_path
    # Compiled: one statement. Resolvers: workers, the survey pages, their counts, and the
    # latest surveys (a page of one per worker), each batched over every worker.
    assert result.statements == (1 if read_path == "compiled" else 4)
