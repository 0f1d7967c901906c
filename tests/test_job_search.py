"""What a job seeker searches by: `keyword` in any text of a posting (title, description,
employer's and occupation's names) through the grams index, the terms filters (lodging, board,
validAt, employerVerified, monthly pay), and MONTHLY_SALARY, which has no value for piece
rates: they come last either way, and cursors page across them both ways. Each answer is
checked against SQL over the seeded rows, on both read paths."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.global_ids import decode_global_id
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer

IDS = """query ($f: JobFilter, $after: String) {
  jobs(first: 100, after: $after, filter: $f) {
    totalCount nodes { id } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def admin(gql_on_path: GraphQLClient, settings: Settings) -> GraphQLClient:
    return gql_on_path.as_(bearer(settings, "admin"))


async def job_ids(client: GraphQLClient, given: dict[str, Any]) -> set[int]:
    """The keys of every job the filter `given` finds, page by page."""
    found: list[int] = []
    after = None
    while True:
        data = (await client.ok(IDS, {"f": given, "after": after}))["jobs"]
        found += [key_of(node["id"]) for node in data["nodes"]]
        if not data["pageInfo"]["hasNextPage"]:
            assert data["totalCount"] == len(found)
            return set(found)
        after = data["pageInfo"]["endCursor"]


def key_of(global_id: str) -> int:
    return int(decode_global_id(global_id)[1])


async def rows(engine: AsyncEngine, sql: str, **values: Any) -> set[int]:
    async with engine.connect() as connection:
        return {row[0] for row in await connection.execute(text(sql), values)}


TEXTS = (
    "SELECT j.id FROM jobs j JOIN employers e ON e.id = j.employer_id "
    "LEFT JOIN occupations o ON o.code = j.occupation_code "
    "WHERE strpos(lower(j.title || ' ' || j.description || ' ' || e.name || ' ' "
    "|| coalesce(o.name, '')), lower(:term)) > 0"
)


@pytest.mark.parametrize("term", ["工", "普工", "包吃住", "五险一金", "日结", "有限公司", "电子"])
async def test_a_keyword_finds_every_posting_with_it_in_any_text(
    admin: GraphQLClient, engine: AsyncEngine, term: str
) -> None:
    expected = await rows(engine, TEXTS, term=term)
    assert expected, f"the seed has postings with {term}"
    assert await job_ids(admin, {"keyword": term}) == expected


async def test_the_texts_beyond_the_title_count(admin: GraphQLClient, engine: AsyncEngine) -> None:
    """A term found only in descriptions, employers' or occupations' names still finds."""
    for source in ("j.description", "e.name", "o.name"):
        only_there = await rows(
            engine,
            "SELECT j.id FROM jobs j JOIN employers e ON e.id = j.employer_id "
            "JOIN occupations o ON o.code = j.occupation_code "
            f"WHERE strpos({source}, '五险一金') > 0 OR strpos({source}, '公司') > 0 "
            f"OR strpos({source}, '员') > 0",
        )
        assert only_there, source
    # one employer's name, which no title holds, finds that employer's jobs
    async with engine.connect() as connection:
        employer_id, name = (await connection.execute(text(
            "SELECT e.id, e.name FROM employers e WHERE EXISTS "
            "(SELECT FROM jobs j WHERE j.employer_id = e.id) ORDER BY e.id LIMIT 1"
        ))).one()
    found = await job_ids(admin, {"keyword": name})
    assert found == await rows(engine, "SELECT id FROM jobs WHERE employer_id = :e", e=employer_id)


async def test_renaming_an_employer_renames_its_jobs_text(
    admin: GraphQLClient, engine: AsyncEngine
) -> None:
    marker = f"星{uuid.uuid4().hex[:8]}辰"
    async with engine.begin() as connection:
        employer_id, name = (await connection.execute(text(
            "SELECT e.id, e.name FROM employers e WHERE EXISTS "
            "(SELECT FROM jobs j WHERE j.employer_id = e.id) ORDER BY e.id DESC LIMIT 1"
        ))).one()
        await connection.execute(
            text("UPDATE employers SET name = :n WHERE id = :e"), {"n": marker, "e": employer_id}
        )
    try:
        jobs = await rows(engine, "SELECT id FROM jobs WHERE employer_id = :e", e=employer_id)
        assert await job_ids(admin, {"keyword": marker[1:5]}) == jobs
        # the old name stays where the postings wrote it (their descriptions), nowhere else
        assert await job_ids(admin, {"keyword": name}) == await rows(engine, TEXTS, term=name)
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE employers SET name = :n WHERE id = :e"), {"n": name, "e": employer_id}
            )
    assert await job_ids(admin, {"keyword": marker[1:5]}) == set()


async def test_letters_match_in_either_case(admin: GraphQLClient, engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        job_id = (await connection.execute(text(
            "UPDATE jobs SET description = description || ' CNC Operator' "
            "WHERE id = (SELECT min(id) FROM jobs) RETURNING id"
        ))).scalar_one()
    try:
        for term in ("cnc", "CNC", "Cnc operator", "c"):
            assert job_id in await job_ids(admin, {"keyword": term}), term
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(
                "UPDATE jobs SET description = replace(description, ' CNC Operator', '') "
                "WHERE id = :j"), {"j": job_id})


@pytest.mark.parametrize(
    ("keyword", "message"),
    [("  ", "must not be blank"), ("工" * 65, "at most 64 characters")],
)
async def test_a_bad_keyword_is_named(
    admin: GraphQLClient, keyword: str, message: str
) -> None:
    response = await admin(IDS, {"f": {"keyword": keyword}})
    assert response.data is None or response.data.get("jobs") is None
    assert any(
        "filter.keyword" in e["message"] and message in e["message"] for e in response.errors
    ), response.body


async def test_the_grams_index_serves_one_to_four_characters(engine: AsyncEngine) -> None:
    """The keyword's condition is answered from the GIN index whatever the term's length
    (the planner is kept off sequential scans: the tiny data would not need an index)."""
    for term in ("工", "普工", "包吃住", "五险一金"):
        async with engine.begin() as connection:
            await connection.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(row[0] for row in await connection.execute(text(
                "EXPLAIN SELECT id FROM jobs WHERE search_grams @> term_grams(lower(:t)) "
                "AND strpos(search_text, lower(:t)) > 0"), {"t": term}))
        assert "ix_jobs_search_grams" in plan, plan


async def test_terms_filters_match_sql(admin: GraphQLClient, engine: AsyncEngine) -> None:
    now = datetime.now(UTC)
    cases: list[tuple[dict[str, Any], str, dict[str, Any]]] = [
        ({"lodging": True}, "lodging", {}),
        ({"lodging": False}, "NOT lodging", {}),
        ({"board": True}, "board", {}),
        ({"validAt": now.isoformat()},
         "posted_at <= :t AND (valid_through IS NULL OR valid_through > :t)", {"t": now}),
        ({"employerVerified": True},
         "employer_id IN (SELECT id FROM employers WHERE verified_at IS NOT NULL)", {}),
        ({"employerVerified": False},
         "employer_id IN (SELECT id FROM employers WHERE verified_at IS NULL)", {}),
        ({"monthlySalaryMin": "6000"}, "monthly_salary_max >= 6000", {}),
        ({"monthlySalaryMax": "4000"}, "monthly_salary_min <= 4000", {}),
        ({"monthlySalaryMin": "3000", "monthlySalaryMax": "5000", "lodging": True},
         "monthly_salary_max >= 3000 AND monthly_salary_min <= 5000 AND lodging", {}),
    ]
    for given, where, values in cases:
        expected = await rows(engine, f"SELECT id FROM jobs WHERE {where}", **values)
        assert expected, given
        assert await job_ids(admin, given) == expected, given


async def test_monthly_pay_is_figured_per_unit(admin: GraphQLClient, engine: AsyncEngine) -> None:
    data = await admin.ok(
        "{ jobs(first: 100, orderBy: {field: POSTED_AT, direction: ASC}) { nodes { "
        "salaryMin salaryMax salaryUnit monthlySalaryMin monthlySalaryMax } } }"
    )
    factors = {"MONTH": Decimal(1), "DAY": Decimal("21.75"), "HOUR": Decimal(174)}
    units = set()
    for job in data["jobs"]["nodes"]:
        units.add(job["salaryUnit"])
        factor = factors.get(job["salaryUnit"])
        for bound in ("Min", "Max"):
            monthly = job[f"monthlySalary{bound}"]
            if factor is None:
                assert monthly is None
            else:
                figured = (Decimal(job[f"salary{bound}"]) * factor).quantize(Decimal("0.01"))
                assert Decimal(monthly) == figured
    assert units >= {"MONTH", "PIECE", "HOUR"}, units


PAGE = """query ($first: Int, $after: String, $last: Int, $before: String, $dir: OrderDirection!) {
  jobs(first: $first, after: $after, last: $last, before: $before,
       orderBy: {field: MONTHLY_SALARY, direction: $dir}) {
    edges { cursor node { id monthlySalaryMax } }
    pageInfo { hasNextPage hasPreviousPage }
  }
}"""


async def walk(client: GraphQLClient, direction: str, backward: bool) -> list[str]:
    """Every job's ID in the list's order, seven at a time, forward or backward."""
    seen: list[str] = []
    cursor = None
    while True:
        variables: dict[str, Any] = {"dir": direction}
        if backward:
            variables.update(last=7, before=cursor)
        else:
            variables.update(first=7, after=cursor)
        connection = (await client.ok(PAGE, variables))["jobs"]
        edges = connection["edges"]
        ids = [edge["node"]["id"] for edge in edges]
        seen = ids + seen if backward else seen + ids
        more = connection["pageInfo"]["hasPreviousPage" if backward else "hasNextPage"]
        if not more:
            return seen
        cursor = edges[0 if backward else -1]["cursor"]
        assert len(seen) < 1000


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_monthly_salary_pages_both_ways_with_piece_rates_last(
    admin: GraphQLClient, engine: AsyncEngine, direction: str
) -> None:
    async with engine.connect() as connection:
        expected = [(row[0], row[1]) for row in await connection.execute(text(
            f"SELECT id, monthly_salary_max FROM jobs "
            f"ORDER BY monthly_salary_max {direction} NULLS LAST, id {direction}"))]
    assert any(pay is None for _, pay in expected) and expected[-1][1] is None
    forward = await walk(admin, direction, backward=False)
    backward = await walk(admin, direction, backward=True)
    wanted = [job_id for job_id, _ in expected]
    assert [key_of(i) for i in forward] == wanted
    assert [key_of(i) for i in backward] == wanted
