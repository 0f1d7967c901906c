"""A job's life after it is posted: EXPIRED the moment its validity passes (on both read
paths, in filters and counts, to writes too), updateJob, publishJob, reverifyJob, and the
duplicate-posting rule. Each test posts jobs of its own (a title of its own each)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.postings import (
    CREATE,
    JOB_FIELDS,
    Employer,
    codes,
    expired,
    job_values,
    post_job,
    read_job,
    seeded_employers,
    unique_title,
)

LIST = f"""query ($filter: JobFilter) {{ jobs(first: 100, filter: $filter) {{
  totalCount nodes {{ {JOB_FIELDS} }} }} }}"""
UPDATE = f"""mutation ($input: UpdateJobInput!) {{ updateJob(input: $input) {{
  job {{ {JOB_FIELDS} salaryMin salaryMax region {{ code }} }}
  userErrors {{ field code message }} }} }}"""
PUBLISH = f"""mutation ($input: PublishJobInput!) {{ publishJob(input: $input) {{
  job {{ {JOB_FIELDS} }} userErrors {{ field code message }} }} }}"""
REVERIFY = f"""mutation ($input: ReverifyJobInput!) {{ reverifyJob(input: $input) {{
  job {{ {JOB_FIELDS} }} userErrors {{ field code message }} }} }}"""
CLOSE = """mutation ($input: CloseJobInput!) { closeJob(input: $input) {
  job { id status } userErrors { field code message } } }"""


@pytest.fixture(scope="module")
async def employers(gql: GraphQLClient) -> list[Employer]:
    return await seeded_employers(gql)


def future(days: int = 30) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def write(client: GraphQLClient, mutation: str, **values: Any) -> Any:
    data = await client.ok(mutation, {"input": values})
    return next(iter(data.values()))


# --- EXPIRED ------------------------------------------------------------------------------


async def test_a_job_past_its_validity_reads_expired_on_both_paths(
    gql: GraphQLClient, gql_resolvers: GraphQLClient, anonymous: GraphQLClient,
    engine: AsyncEngine, employers: list[Employer],
) -> None:
    employer = employers[0]
    job = await post_job(gql, employer, validThrough=future())
    mine = {"employerId": employer.id, "keyword": job["title"]}
    for client in (gql, gql_resolvers):
        assert (await read_job(client, job["id"]))["status"] == "PUBLISHED"
    async with expired(engine, job["id"]):
        for client in (gql, gql_resolvers):
            assert (await read_job(client, job["id"]))["status"] == "EXPIRED"
            found = await client(LIST, {"filter": {**mine, "status": "EXPIRED"}})
            assert found.data["jobs"]["totalCount"] == 1
            assert [n["status"] for n in found.data["jobs"]["nodes"]] == ["EXPIRED"]
            published = await client.ok(LIST, {"filter": {**mine, "status": "PUBLISHED"}})
            assert published["jobs"] == {"totalCount": 0, "nodes": []}
            every = await client.ok(LIST, {"filter": mine})
            assert [n["status"] for n in every["jobs"]["nodes"]] == ["EXPIRED"]
            path = "compiled" if client is gql else "resolvers"
            assert found.headers["x-read-path"] == path
        # Out of the public view: null and absent for anonymous callers, on either path.
        assert await read_job(anonymous, job["id"]) is None
        assert (await anonymous.ok(LIST, {"filter": mine}))["jobs"]["totalCount"] == 0


async def test_the_stored_expired_status_and_the_derived_one_filter_alike(
    gql: GraphQLClient, gql_resolvers: GraphQLClient, engine: AsyncEngine,
    employers: list[Employer],
) -> None:
    """EXPIRED counts jobs stored EXPIRED (the seed has some) and published ones past their
    validity; PUBLISHED counts neither. Both paths count the same."""
    counts = []
    for client in (gql, gql_resolvers):
        answer = await client.ok(
            "{ e: jobs(filter: {status: EXPIRED}) { totalCount } "
            "p: jobs(filter: {status: PUBLISHED}) { totalCount } all: jobs { totalCount } }"
        )
        counts.append({k: v["totalCount"] for k, v in answer.items()})
    assert counts[0] == counts[1] and counts[0]["e"] > 0
    job = await post_job(gql, employers[0], validThrough=future())
    async with expired(engine, job["id"]):
        after = await gql.ok(
            "{ e: jobs(filter: {status: EXPIRED}) { totalCount } "
            "p: jobs(filter: {status: PUBLISHED}) { totalCount } }"
        )
        assert after["e"]["totalCount"] == counts[0]["e"] + 1
        assert after["p"]["totalCount"] == counts[0]["p"]


async def test_writes_treat_an_expired_job_as_expired(
    gql: GraphQLClient, engine: AsyncEngine, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0], validThrough=future())
    async with expired(engine, job["id"]):
        closed = await write(gql, CLOSE, jobId=job["id"], version=1)
        assert codes(closed) == [(("input", "jobId"), "INVALID_TRANSITION")]
        assert "EXPIRED" in closed["userErrors"][0]["message"]
        reverified = await write(gql, REVERIFY, jobId=job["id"], version=1)
        assert codes(reverified) == [(("input", "jobId"), "INVALID_TRANSITION")]
        changed = await write(gql, UPDATE, jobId=job["id"], version=1, headcount=3)
        assert codes(changed) == [(("input", "jobId"), "INVALID_TRANSITION")]
        # Published again only with a validity in the future; it counts as posted now.
        again = await write(gql, PUBLISH, jobId=job["id"], version=1)
        assert codes(again) == [(("input", "validThrough"), "INVALID")]
        until = future(10)
        again = await write(gql, PUBLISH, jobId=job["id"], version=1, validThrough=until)
        assert again["userErrors"] == [] and again["job"]["status"] == "PUBLISHED"
        assert again["job"]["version"] == 2
        assert datetime.fromisoformat(again["job"]["postedAt"]) > datetime.now(UTC) - timedelta(
            minutes=1
        )


# --- publishJob, reverifyJob ---------------------------------------------------------------


async def test_a_draft_is_published_once_by_who_manages_it(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    owner, stranger = employers
    draft = await post_job(gql, owner, status="DRAFT")
    worker = gql.as_(bearer(settings, "worker", worker_id="1"))
    assert codes(await write(worker, PUBLISH, jobId=draft["id"], version=1)) == [
        ((), "NOT_ALLOWED")
    ]
    as_stranger = gql.as_(bearer(settings, "employer", employer_id=stranger.id))
    assert codes(await write(as_stranger, PUBLISH, jobId=draft["id"], version=1)) == [
        (("input", "jobId"), "NOT_FOUND")  # a draft is not theirs to see
    ]
    stale = await write(gql, PUBLISH, jobId=draft["id"], version=2)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    past = await write(
        gql, PUBLISH, jobId=draft["id"], version=1, validThrough="2020-01-01T00:00:00Z"
    )
    assert codes(past) == [(("input", "validThrough"), "INVALID")]
    as_owner = gql.as_(bearer(settings, "employer", employer_id=owner.id))
    published = await write(as_owner, PUBLISH, jobId=draft["id"], version=1)
    assert published["userErrors"] == []
    assert (published["job"]["status"], published["job"]["version"]) == ("PUBLISHED", 2)
    twice = await write(as_owner, PUBLISH, jobId=draft["id"], version=2)
    assert codes(twice) == [(("input", "jobId"), "INVALID_TRANSITION")]
    assert (await read_job(gql, draft["id"]))["version"] == 2


async def test_reverifying_sets_last_verified_and_may_extend_the_validity(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0], validThrough=future(5))
    staff = gql.as_(bearer(settings, "staff", region=employers[0].province))
    until = future(60)
    done = await write(staff, REVERIFY, jobId=job["id"], version=1, validThrough=until)
    assert done["userErrors"] == [] and done["job"]["version"] == 2
    assert done["job"]["lastVerifiedAt"] >= job["lastVerifiedAt"]
    assert datetime.fromisoformat(done["job"]["validThrough"]) == datetime.fromisoformat(until)
    elsewhere = gql.as_(bearer(settings, "staff", region=employers[1].province))
    assert codes(await write(elsewhere, REVERIFY, jobId=job["id"], version=2)) == [
        (("input", "jobId"), "NOT_ALLOWED")
    ]
    draft = await post_job(gql, employers[0], status="DRAFT")
    assert codes(await write(gql, REVERIFY, jobId=draft["id"], version=1)) == [
        (("input", "jobId"), "INVALID_TRANSITION")
    ]


# --- updateJob -----------------------------------------------------------------------------


async def test_a_job_changes_at_its_version_and_keeps_what_is_not_given(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    as_owner = gql.as_(bearer(settings, "employer", employer_id=employers[0].id))
    changed = await write(
        as_owner, UPDATE, jobId=job["id"], version=1, salaryMax="9000", title="  焊工（夜班）  "
    )
    assert changed["userErrors"] == []
    assert changed["job"]["salaryMax"] == "9000.00" and changed["job"]["salaryMin"] == "6000.00"
    assert changed["job"]["title"] == "焊工（夜班）" and changed["job"]["version"] == 2
    stale = await write(as_owner, UPDATE, jobId=job["id"], version=1, headcount=5)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    assert (await read_job(gql, job["id"]))["headcount"] == 2


async def test_each_invalid_change_is_named_and_nothing_changes(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    job = await post_job(gql, employers[0])
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"title": "  "}, "title", "INVALID"),
        ({"salaryMin": "9000"}, "salaryMax", "INVALID"),
        ({"salaryMax": "-1"}, "salaryMax", "INVALID"),
        ({"headcount": 0}, "headcount", "INVALID"),
        ({"regionCode": "12345"}, "regionCode", "INVALID"),
        ({"regionCode": "999999"}, "regionCode", "NOT_FOUND"),
        ({"occupationCode": "8-99-99-99"}, "occupationCode", "NOT_FOUND"),
        ({"industryCode": "Z"}, "industryCode", "INVALID"),
        ({"validThrough": "2020-01-01T00:00:00Z"}, "validThrough", "INVALID"),
    ]
    for changes, field, code in cases:
        result = await write(gql, UPDATE, jobId=job["id"], version=1, **changes)
        assert result["job"] is None, changes
        assert (("input", field), code) in codes(result), (changes, result["userErrors"])
    nothing = await write(gql, UPDATE, jobId=job["id"], version=1)
    assert codes(nothing) == [((), "INVALID")]
    not_a_job = await write(gql, UPDATE, jobId=employers[0].id, version=1, headcount=3)
    assert codes(not_a_job) == [(("input", "jobId"), "INVALID")]
    assert await read_job(gql, job["id"]) == job


async def test_who_may_change_a_job(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    owner, stranger = employers
    job = await post_job(gql, owner)
    refused = {
        "anonymous": (anonymous, ((), "NOT_ALLOWED")),
        "worker": (gql.as_(bearer(settings, "worker", worker_id="1")), ((), "NOT_ALLOWED")),
        "another employer": (
            gql.as_(bearer(settings, "employer", employer_id=stranger.id)),
            (("input", "jobId"), "NOT_ALLOWED"),
        ),
        "staff elsewhere": (
            gql.as_(bearer(settings, "staff", region=stranger.province)),
            (("input", "jobId"), "NOT_ALLOWED"),
        ),
    }
    for who, (client, refusal) in refused.items():
        assert codes(await write(client, UPDATE, jobId=job["id"], version=1, headcount=3)) == [
            refusal
        ], who
    staff = gql.as_(bearer(settings, "staff", region=owner.region))
    moved = await write(staff, UPDATE, jobId=job["id"], version=1, regionCode=stranger.region)
    assert codes(moved) == [(("input", "regionCode"), "NOT_ALLOWED")]
    assert await read_job(gql, job["id"]) == job
    closed = await write(gql, CLOSE, jobId=job["id"], version=1)
    assert closed["userErrors"] == []
    assert codes(await write(gql, UPDATE, jobId=job["id"], version=2, headcount=3)) == [
        (("input", "jobId"), "INVALID_TRANSITION")
    ]


# --- DUPLICATE_POSTING ---------------------------------------------------------------------


async def test_the_same_title_in_the_same_county_within_30_days_is_a_duplicate(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    employer, other = employers
    title = unique_title("电焊工")
    first = await post_job(gql, employer, title=title)
    count = "query ($f: JobFilter) { jobs(filter: $f) { totalCount } }"
    mine = {"employerId": employer.id, "keyword": title}
    for same in (title, f"  {title} "):
        again = (await gql.ok(CREATE, {"input": job_values(employer, title=same)}))["createJob"]
        assert again["job"] is None
        assert codes(again) == [(("input", "title"), "DUPLICATE_POSTING")]
    draft = await gql.ok(CREATE, {"input": job_values(employer, title=title, status="DRAFT")})
    assert codes(draft["createJob"]) == [(("input", "title"), "DUPLICATE_POSTING")]
    assert (await gql.ok(count, {"f": mine}))["jobs"]["totalCount"] == 1
    # Another county, another employer, or the first one closed: no duplicate.
    elsewhere = await post_job(gql, employer, title=title, regionCode=other.region)
    await post_job(gql, other, title=title)
    assert (await write(gql, CLOSE, jobId=first["id"], version=1))["userErrors"] == []
    await post_job(gql, employer, title=title)
    # Renaming a job into a duplicate is refused as well.
    renamed = await write(
        gql, UPDATE, jobId=elsewhere["id"], version=1, regionCode=employer.region
    )
    assert codes(renamed) == [(("input", "title"), "DUPLICATE_POSTING")]


async def test_the_same_posting_raced_makes_one_job(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    values = job_values(employers[0])
    results = await asyncio.gather(*(gql.ok(CREATE, {"input": values}) for _ in range(4)))
    made = [r["createJob"]["job"] for r in results if r["createJob"]["job"] is not None]
    refused = [codes(r["createJob"]) for r in results if r["createJob"]["job"] is None]
    assert len(made) == 1, results
    assert refused == [[(("input", "title"), "DUPLICATE_POSTING")]] * 3
