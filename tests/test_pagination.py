"""Keyset connections: paging both ways, stable cursors, totalCount, ordering, bad arguments."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

from sqlalchemy import text

from db.session import create_engine
from resolvers.global_ids import encode_global_id
from tests.conftest import GraphQLClient

JOB_PAGE = """
query ($first: Int, $after: String, $last: Int, $before: String, $orderBy: JobOrder) {
  jobs(first: $first, after: $after, last: $last, before: $before, orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id title postedAt salaryMax } }
  }
}
"""


async def all_job_ids(database_url: str) -> list[str]:
    """Every job's global ID in the default order (newest posting first), read from the
    database: the admin's list must page through exactly these (other tests may add jobs)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            newest_first = text("SELECT id FROM jobs ORDER BY posted_at DESC, id DESC")
            ids = await connection.scalars(newest_first)
            return [encode_global_id("Job", key) for key in ids]
    finally:
        await engine.dispose()


async def test_forward_pages_cover_the_list_once_in_order(
    gql: GraphQLClient, database_url: str
) -> None:
    expected = await all_job_ids(database_url)
    seen: list[str] = []
    after = None
    while True:
        page = (await gql.ok(JOB_PAGE, {"first": 7, "after": after}))["jobs"]
        assert page["totalCount"] == len(expected)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
    assert seen == expected


async def test_backward_pages_cover_the_list_once_in_order(
    gql: GraphQLClient, database_url: str
) -> None:
    expected = await all_job_ids(database_url)
    seen: list[str] = []
    before = None
    while True:
        page = (await gql.ok(JOB_PAGE, {"last": 9, "before": before}))["jobs"]
        seen = [edge["node"]["id"] for edge in page["edges"]] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == expected


async def test_default_order_is_newest_first(gql: GraphQLClient) -> None:
    edges = (await gql.ok(JOB_PAGE, {"first": 50}))["jobs"]["edges"]
    posted = [edge["node"]["postedAt"] for edge in edges]
    assert len(set(posted)) > 1 and posted == sorted(posted, reverse=True)


async def test_order_by_salary_ascending(gql: GraphQLClient) -> None:
    order = {"field": "SALARY_MAX", "direction": "ASC"}
    first = (await gql.ok(JOB_PAGE, {"first": 10, "orderBy": order}))["jobs"]
    second = (
        await gql.ok(
            JOB_PAGE, {"first": 10, "orderBy": order, "after": first["pageInfo"]["endCursor"]}
        )
    )["jobs"]
    salaries = [Decimal(e["node"]["salaryMax"]) for e in first["edges"] + second["edges"]]
    assert salaries == sorted(salaries)
    assert len(set(e["node"]["id"] for e in first["edges"] + second["edges"])) == 20


async def test_cursor_is_stable_when_rows_are_inserted(
    gql: GraphQLClient, database_url: str
) -> None:
    first = (await gql.ok(JOB_PAGE, {"first": 5}))["jobs"]
    expected_next = (
        await gql.ok(JOB_PAGE, {"first": 5, "after": first["pageInfo"]["endCursor"]})
    )["jobs"]["edges"]
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            # A newer posting lands in front of the list while a client pages through it.
            new_id = (
                await connection.execute(
                    text(
                        "INSERT INTO jobs (employer_id, title, region_code, salary_min,"
                        " salary_max, salary_unit, headcount, employment_type, status, posted_at)"
                        " SELECT employer_id, 'inserted meanwhile', region_code, 1, 2, 'month',"
                        " 1, 'full_time', 'published', now() + interval '1 day'"
                        " FROM jobs LIMIT 1 RETURNING id"
                    )
                )
            ).scalar_one()
        after_insert = (
            await gql.ok(JOB_PAGE, {"first": 5, "after": first["pageInfo"]["endCursor"]})
        )["jobs"]["edges"]
        assert [e["node"]["id"] for e in after_insert] == [e["node"]["id"] for e in expected_next]
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM jobs WHERE id = :id"), {"id": new_id})
        await engine.dispose()


async def test_cursor_from_another_ordering_is_refused(gql: GraphQLClient) -> None:
    cursor = (await gql.ok(JOB_PAGE, {"first": 1}))["jobs"]["pageInfo"]["endCursor"]
    result = await gql(
        JOB_PAGE, {"first": 1, "after": cursor, "orderBy": {"field": "SALARY_MAX"}}
    )
    assert result.data is None
    assert "after" in result.errors[0]["message"]
    assert "different orderBy" in result.errors[0]["message"]


async def test_zero_first_gives_an_empty_page_with_a_count(gql: GraphQLClient) -> None:
    page = (await gql.ok(JOB_PAGE, {"first": 0}))["jobs"]
    assert page["edges"] == [] and page["totalCount"] > 0
    assert page["pageInfo"]["hasNextPage"] is True


async def test_default_page_size_is_twenty(gql: GraphQLClient) -> None:
    page = (await gql.ok(JOB_PAGE))["jobs"]
    assert len(page["edges"]) == 20


async def test_bad_page_arguments_name_the_argument(gql: GraphQLClient) -> None:
    cases: list[tuple[dict[str, int | str], str, str]] = [
        ({"first": 101}, "'first'", "between 0 and 100"),
        ({"first": -1}, "'first'", "between 0 and 100"),
        ({"last": -2147483648, "before": "junk"}, "'last'", "between 0 and 100"),
        ({"first": 5, "last": 5}, "'last'", "not both"),
        ({"first": 5, "after": "not-a-cursor"}, "'after'", "not a cursor"),
        ({"last": 5, "before": "eyJ4Ijog"}, "'before'", "not a cursor"),
        ({"first": 5, "after": "WyJwb3N0ZWRfYXQ6ZGVzYyIsICJ4IiwgMV0="}, "'after'", "not a cursor"),
    ]
    for variables, argument, problem in cases:
        result = await gql(JOB_PAGE, variables)
        assert result.status == 200, (variables, result.body)
        assert result.data is None, variables
        message = result.errors[0]["message"]
        assert argument in message and problem in message, (variables, message)
        assert result.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "Traceback" not in str(result.body)


def forged(*parts: object) -> str:
    """A cursor with these parts, made the way the API makes cursors."""
    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode()


async def test_cursor_parts_must_have_their_columns_types(gql: GraphQLClient) -> None:
    """Each was an internal error: the database or its driver refused the forged value."""
    cursor = (await gql.ok(JOB_PAGE, {"first": 1}))["jobs"]["pageInfo"]["endCursor"]
    name, posted_at, key = json.loads(base64.urlsafe_b64decode(cursor))
    salary = {"field": "SALARY_MAX", "direction": "ASC"}
    cases = [
        ({"after": forged(name, posted_at, 10**30)}, None),
        ({"after": forged(name, posted_at, 2**63)}, None),
        ({"after": forged(name, posted_at, True)}, None),
        ({"after": forged(name, posted_at, -1)}, None),
        ({"after": forged(name, posted_at, 1.5)}, None),
        ({"after": forged(name, posted_at, "1")}, None),
        ({"after": forged(name, "0001-01-01T00:00:00+14:00", key)}, None),
        ({"after": forged(name, "9999-12-31T23:59:59-01:00", key)}, None),
        ({"after": forged(name, "2026-01-01T00:00:00", key)}, None),
        ({"after": forged(name, "2026-01-01T00:00:00+08:00\ud800", key)}, None),
        ({"after": forged(name, 20260101, key)}, None),
        ({"after": forged(name, posted_at, key, "extra")}, None),
        ({"after": forged("salary_max:asc", "1e999999", key)}, salary),
        ({"after": forged("salary_max:asc", "NaN", key)}, salary),
        ({"after": forged("salary_max:asc", "Infinity", key)}, salary),
        ({"after": forged("salary_max:asc", "1e400", key)}, salary),
        ({"after": forged("salary_max:asc", "٥٠٠٠", key)}, salary),
        ({"after": cursor + "\n"}, None),
        ({"after": " " + cursor}, None),
    ]
    if cursor.endswith("="):
        cases.append(({"after": cursor.rstrip("=")}, None))
    for variables, order in cases:
        result = await gql(JOB_PAGE, {"first": 2, "orderBy": order, **variables})
        assert result.status == 200 and result.data is None, (variables, result.body)
        message = result.errors[0]["message"]
        assert "'after'" in message and "not a cursor of this list" in message, variables
        assert result.errors[0]["extensions"]["code"] == "BAD_USER_INPUT", variables


async def test_text_cursors_with_lone_surrogates_are_refused(gql: GraphQLClient) -> None:
    order = {"field": "NAME", "direction": "ASC"}
    page = """query ($after: String, $o: WorkerOrder) {
      workers(first: 2, after: $after, orderBy: $o) { nodes { id } } }"""
    assert (await gql.ok(page, {"o": order}))["workers"]["nodes"]
    for value in ("\ud800", "a\udfffb", "\x00"):
        forged_cursor = forged("name:asc", value, 1)
        result = await gql(page, {"o": order, "after": forged_cursor})
        assert result.status == 200, result.body
        assert result.errors[0]["extensions"]["code"] == "BAD_USER_INPUT", result.body
        assert "'after'" in result.errors[0]["message"]
