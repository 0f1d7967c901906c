"""reportJob and reviewJobReports, and the rule they serve: a job with three open reports from
different reporters leaves the public view (anonymous callers, workers, partners) on both read
paths (node, lists, counts) until staff review them. Each test reports jobs of its own."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key
from tests.postings import (
    Employer,
    as_worker,
    codes,
    post_job,
    read_job,
    seeded_employers,
    seeded_workers,
)

REPORT = """mutation ($input: ReportJobInput!) { reportJob(input: $input) {
  jobReport { id reason text status job { id } } userErrors { field code message } } }"""
REVIEW = """mutation ($input: ReviewJobReportsInput!) { reviewJobReports(input: $input) {
  job { id status version } userErrors { field code message } } }"""
REPORTS = """query ($filter: JobReportFilter) { jobReports(first: 100, filter: $filter) {
  totalCount nodes { id reason status reviewedAt job { id } } } }"""
LIST = """query ($filter: JobFilter) { jobs(first: 100, filter: $filter) {
  totalCount nodes { id } } }"""


@pytest.fixture(scope="module")
async def employers(gql: GraphQLClient) -> list[Employer]:
    return await seeded_employers(gql)


@pytest.fixture(scope="module")
async def worker_ids(gql: GraphQLClient) -> list[str]:
    return await seeded_workers(gql, 5)


async def report(client: GraphQLClient, job_id: str, **values: Any) -> Any:
    given = {"jobId": job_id, "reason": "CHARGES_FEES", "text": "收押金", **values}
    return (await client.ok(REPORT, {"input": given}))["reportJob"]


async def review(client: GraphQLClient, job_id: str, decision: str, **values: Any) -> Any:
    given = {"jobId": job_id, "decision": decision, **values}
    return (await client.ok(REVIEW, {"input": given}))["reviewJobReports"]


async def sees(client: GraphQLClient, job: dict[str, Any], title_of: str) -> tuple[bool, int]:
    """Whether `client` finds the job by `node`, and how many of its list it counts."""
    node = await read_job(client, job["id"])
    listed = await client.ok(LIST, {"filter": {"keyword": title_of}})
    return node is not None, listed["jobs"]["totalCount"]


async def test_a_signed_in_viewer_reports_a_job_once_and_sees_the_report(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings,
    employers: list[Employer], worker_ids: list[str],
) -> None:
    job = await post_job(gql, employers[0])
    reporter = as_worker(gql, settings, worker_ids[0])
    made = await report(reporter, job["id"])
    assert made["userErrors"] == []
    assert made["jobReport"] == {
        "id": made["jobReport"]["id"], "reason": "CHARGES_FEES", "text": "收押金",
        "status": "OPEN", "job": {"id": job["id"]},
    }
    again = await report(reporter, job["id"], reason="FAKE")
    assert again["jobReport"] is None and codes(again) == [(("input", "jobId"), "DUPLICATE")]
    refused = await report(anonymous, job["id"])
    assert codes(refused) == [((), "NOT_ALLOWED")]
    mine = await reporter(REPORTS, {"filter": {"jobId": job["id"]}})
    assert mine.headers["x-read-path"] == "compiled"
    assert [r["id"] for r in mine.data["jobReports"]["nodes"]] == [made["jobReport"]["id"]]


async def test_who_sees_a_report(
    gql: GraphQLClient, gql_resolvers: GraphQLClient, anonymous: GraphQLClient,
    settings: Settings, employers: list[Employer], worker_ids: list[str],
) -> None:
    owner, elsewhere = employers
    job = await post_job(gql, owner)
    made = (await report(as_worker(gql, settings, worker_ids[0]), job["id"]))["jobReport"]
    viewers = {
        "another worker": (as_worker(gql, settings, worker_ids[1]), 0),
        "the job's employer": (gql.as_(bearer(settings, "employer", employer_id=owner.id)), 0),
        "staff of its division": (gql.as_(bearer(settings, "staff", region=owner.province)), 1),
        "staff elsewhere": (gql.as_(bearer(settings, "staff", region=elsewhere.province)), 0),
        "anonymous": (anonymous, 0),
        "admin": (gql, 1),
    }
    for who, (client, count) in viewers.items():
        for path in (client, GraphQLClient(gql_resolvers.http, client.headers)):
            found = await path.ok(REPORTS, {"filter": {"jobId": job["id"]}})
            assert found["jobReports"]["totalCount"] == count, who
            node = await path.ok(
                "query ($id: ID!) { node(id: $id) { id } }", {"id": made["id"]}
            )
            assert (node["node"] is not None) == (count == 1), who


async def test_a_report_names_its_faults(
    gql: GraphQLClient, settings: Settings, employers: list[Employer], worker_ids: list[str]
) -> None:
    job = await post_job(gql, employers[0])
    reporter = as_worker(gql, settings, worker_ids[0])
    cases: list[tuple[dict[str, Any], tuple[tuple[str, ...], str]]] = [
        ({"reason": "OTHER", "text": "  "}, (("input", "text"), "INVALID")),
        ({"text": "x" * 2001}, (("input", "text"), "INVALID")),
        ({"jobId": employers[0].id}, (("input", "jobId"), "INVALID")),
        ({"jobId": "Sm9iOjk5OTk5OTk5OQ=="}, (("input", "jobId"), "NOT_FOUND")),
        ({"idempotencyKey": ""}, (("input", "idempotencyKey"), "INVALID")),
    ]
    for changes, problem in cases:
        refused = await report(reporter, job["id"], **changes)
        assert refused["jobReport"] is None and problem in codes(refused), changes
    found = await gql.ok(REPORTS, {"filter": {"jobId": job["id"]}})
    assert found["jobReports"]["totalCount"] == 0


async def test_a_retried_report_is_one_report_and_a_raced_one_too(
    gql: GraphQLClient, settings: Settings, employers: list[Employer], worker_ids: list[str]
) -> None:
    job = await post_job(gql, employers[0])
    reporter = as_worker(gql, settings, worker_ids[0])
    key = uuid.uuid4().hex
    first, second = [await report(reporter, job["id"], idempotencyKey=key) for _ in range(2)]
    assert first == second and first["userErrors"] == []
    other = await post_job(gql, employers[0])
    racer = as_worker(gql, settings, worker_ids[1])
    raced = await asyncio.gather(*(report(racer, other["id"]) for _ in range(4)))
    assert sum(r["jobReport"] is not None for r in raced) == 1
    assert [codes(r) for r in raced if r["jobReport"] is None] == [
        [(("input", "jobId"), "DUPLICATE")]
    ] * 3


async def test_three_open_reports_hide_a_job_until_staff_dismiss_them(
    gql: GraphQLClient, gql_resolvers: GraphQLClient, anonymous: GraphQLClient,
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings,
    database_url: str, employers: list[Employer], worker_ids: list[str],
) -> None:
    owner = employers[0]
    job = await post_job(gql, owner)
    title = job["title"]
    reporters = [as_worker(gql, settings, worker_id) for worker_id in worker_ids[:3]]
    async with consented_partner_key(
        settings, database_url, partner="reports-test", scopes=["jobs", "node"],
        regions=[owner.province],
    ) as key:
        partners = [GraphQLClient(app, {"x-api-key": key}) for app in (http, http_resolvers)]
        public = [
            anonymous, GraphQLClient(http_resolvers),
            reporters[0], GraphQLClient(http_resolvers, reporters[0].headers),
            *partners,
        ]
        insiders = [
            gql, gql_resolvers,
            gql.as_(bearer(settings, "employer", employer_id=owner.id)),
            gql.as_(bearer(settings, "staff", region=owner.province)),
        ]
        for reporter in reporters[:2]:
            assert (await report(reporter, job["id"]))["userErrors"] == []
        for client in public + insiders:  # two reports hide nothing
            assert await sees(client, job, title) == (True, 1)
        assert (await report(reporters[2], job["id"], reason="FAKE"))["userErrors"] == []
        for client in public:
            assert await sees(client, job, title) == (False, 0), client.headers
        for client in insiders:
            assert await sees(client, job, title) == (True, 1), client.headers
        # A reporter can't report what it no longer sees; staff decide.
        late = as_worker(gql, settings, worker_ids[3])
        assert codes(await report(late, job["id"])) == [(("input", "jobId"), "NOT_FOUND")]
        staff = gql.as_(bearer(settings, "staff", region=owner.province))
        dismissed = await review(staff, job["id"], "DISMISS")
        assert dismissed["userErrors"] == []
        assert dismissed["job"] == {"id": job["id"], "status": "PUBLISHED", "version": 2}
        for client in public:
            assert await sees(client, job, title) == (True, 1), client.headers
        reviewed = await gql.ok(REPORTS, {"filter": {"jobId": job["id"]}})
        statuses = {r["status"] for r in reviewed["jobReports"]["nodes"]}
        assert statuses == {"DISMISSED"} and reviewed["jobReports"]["totalCount"] == 3
        nothing = await review(staff, job["id"], "DISMISS")
        assert codes(nothing) == [(("input", "jobId"), "INVALID_TRANSITION")]


async def test_taking_a_job_down_closes_it(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings,
    employers: list[Employer], worker_ids: list[str],
) -> None:
    owner, elsewhere = employers
    job = await post_job(gql, owner)
    await report(as_worker(gql, settings, worker_ids[0]), job["id"])
    refusals = {
        "a worker": (as_worker(gql, settings, worker_ids[1]), ((), "NOT_ALLOWED")),
        "the employer": (
            gql.as_(bearer(settings, "employer", employer_id=owner.id)), ((), "NOT_ALLOWED")
        ),
        "staff elsewhere": (
            gql.as_(bearer(settings, "staff", region=elsewhere.province)),
            (("input", "jobId"), "NOT_ALLOWED"),
        ),
    }
    for who, (client, refusal) in refusals.items():
        assert codes(await review(client, job["id"], "TAKE_DOWN")) == [refusal], who
    stale = await review(gql, job["id"], "TAKE_DOWN", version=7)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    taken = await review(gql, job["id"], "TAKE_DOWN", version=1)
    assert taken["job"] == {"id": job["id"], "status": "CLOSED", "version": 2}
    assert await read_job(anonymous, job["id"]) is None
    statuses = await gql.ok(REPORTS, {"filter": {"jobId": job["id"]}})
    assert [r["status"] for r in statuses["jobReports"]["nodes"]] == ["TAKEN_DOWN"]
    assert statuses["jobReports"]["nodes"][0]["reviewedAt"] is not None
