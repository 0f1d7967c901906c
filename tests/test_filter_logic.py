"""`and`, `or` and `not` in every `<Type>Filter`, on both read paths, held to SQL truth on the
seeded data: the union of two regions, a negation that takes in the rows whose compared column
is NULL, nesting three deep, empty lists, the caps on a filter's size and depth, one statement
and one plan for a nested filter, and a partner's field list at any depth."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import (
    GraphQLInputObjectType,
    build_schema,
    find_breaking_changes,
    get_named_type,
    parse,
    print_schema,
)
from graphql.utilities import get_operation_ast
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.filters import MAX_FILTER_CONDITIONS, MAX_FILTER_DEPTH
from resolvers.global_ids import encode_global_id
from schema import schema
from server import compiled_reads
from server.limits import query_cost
from server.settings import Settings
from tests.conftest import GraphQLClient, answer, bearer
from tests.partners import consented_partner_key

COUNT_JOBS = "query ($f: JobFilter) { jobs(filter: $f) { totalCount } }"


async def sql_count(engine: AsyncEngine, where: str, values: dict[str, Any] | None = None) -> int:
    async with engine.connect() as connection:
        query = text(f"SELECT count(*) FROM jobs WHERE {where}")
        return int((await connection.execute(query, values or {})).scalar_one())


async def jobs_count(gql: GraphQLClient, filter: Any) -> int:
    data = await gql.ok(COUNT_JOBS, {"f": filter})
    return int(data["jobs"]["totalCount"])


async def test_the_admin_sees_every_job(gql_on_path: GraphQLClient, engine: AsyncEngine) -> None:
    """What the SQL truths below rest on: an admin's job list is the table."""
    assert await jobs_count(gql_on_path, None) == await sql_count(engine, "true")


async def test_or_of_two_regions_is_their_union(
    gql_on_path: GraphQLClient, engine: AsyncEngine
) -> None:
    either = {"or": [{"regionCode": "440000"}, {"regionCode": "110000"}]}
    union = await sql_count(engine, "region_code LIKE '44%' OR region_code LIKE '11%'")
    assert 0 < union < await sql_count(engine, "true")
    assert await jobs_count(gql_on_path, either) == union
    guangdong = await jobs_count(gql_on_path, {"regionCode": "440000"})
    beijing = await jobs_count(gql_on_path, {"regionCode": "110000"})
    assert guangdong + beijing == union and guangdong and beijing
    # The filter's own fields AND with its `or`.
    both = {"employmentType": "FULL_TIME", **either}
    assert await jobs_count(gql_on_path, both) == await sql_count(
        engine,
        "employment_type = 'full_time' AND (region_code LIKE '44%' OR region_code LIKE '11%')",
    )


async def test_not_takes_in_the_rows_whose_column_is_null(
    gql_on_path: GraphQLClient, engine: AsyncEngine
) -> None:
    """`not: {employerId: X}` is every insurance record that is not with X, those with no
    employer (a NULL `employer_id`) included: not(a) and a are every row between them."""
    async with engine.connect() as connection:
        top = (await connection.execute(text(
            "SELECT employer_id FROM insurance_records WHERE employer_id IS NOT NULL "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2"
        ))).scalars().all()

        async def truth(where: str) -> int:
            query = text(f"SELECT count(*) FROM insurance_records WHERE {where}")
            return int((await connection.execute(query, {"x": top[0], "y": top[1]})).scalar_one())

        every, nulls = await truth("true"), await truth("employer_id IS NULL")
        with_x = await truth("employer_id = :x")
        not_x = await truth("employer_id IS DISTINCT FROM :x")
        with_either = await truth("employer_id IN (:x, :y)")
    assert nulls > 0, "the seed has insurance records with no employer"
    x, y = (encode_global_id("Employer", key) for key in top)
    query = (
        "query ($f: InsuranceRecordFilter) "
        "{ insuranceRecords(filter: $f) { totalCount } }"
    )

    async def count(filter: Any) -> int:
        return int((await gql_on_path.ok(query, {"f": filter}))["insuranceRecords"]["totalCount"])

    assert await count(None) == every
    assert await count({"employerId": x}) == with_x > 0
    assert await count({"not": {"employerId": x}}) == not_x == every - with_x
    assert await count({"not": {"not": {"employerId": x}}}) == with_x
    either = {"or": [{"employerId": x}, {"employerId": y}]}
    assert await count(either) == with_either
    assert await count({"not": either}) == every - with_either
    inline = await gql_on_path.ok(
        f'{{ insuranceRecords(filter: {{not: {{employerId: "{x}"}}}}) {{ totalCount }} }}'
    )
    assert inline["insuranceRecords"]["totalCount"] == not_x


async def test_not_of_a_bound_rule_and_the_rule_are_every_row(
    gql_on_path: GraphQLClient, engine: AsyncEngine
) -> None:
    at_least = await jobs_count(gql_on_path, {"salaryMin": "5000"})
    below = await jobs_count(gql_on_path, {"not": {"salaryMin": "5000"}})
    assert below == await sql_count(engine, "NOT salary_max >= 5000")
    assert at_least + below == await sql_count(engine, "true") and at_least and below


NESTED = {
    "and": [
        {"or": [
            {"regionCode": "440000", "keyword": "工"},
            {"not": {"employmentType": "FULL_TIME"}},
        ]},
        {"not": {"or": [{"salaryMin": "8000"}, {"and": [{"keyword": "员"}]}]}},
    ],
}
NESTED_SQL = (
    "((region_code LIKE '44%' AND strpos(search_text, '工') > 0) "
    "OR NOT employment_type = 'full_time') "
    "AND NOT coalesce(salary_max >= 8000 OR strpos(search_text, '员') > 0, false)"
)


async def test_three_deep(gql_on_path: GraphQLClient, engine: AsyncEngine) -> None:
    expected = await sql_count(engine, NESTED_SQL)
    assert 0 < expected < await sql_count(engine, "true")
    assert await jobs_count(gql_on_path, NESTED) == expected


async def test_three_deep_inline_with_variables(
    gql_on_path: GraphQLClient, engine: AsyncEngine
) -> None:
    query = """
    query ($k: String, $type: EmploymentType, $pay: Decimal, $inner: [JobFilter!]) {
      jobs(filter: {and: [
        {or: [{regionCode: "440000", keyword: $k}, {not: {employmentType: $type}}]},
        {not: {or: [{salaryMin: $pay}, {and: $inner}]}}
      ]}) { totalCount }
    }"""
    variables = {"k": "工", "type": "FULL_TIME", "pay": "8000", "inner": [{"keyword": "员"}]}
    data = await gql_on_path.ok(query, variables)
    assert data["jobs"]["totalCount"] == await sql_count(engine, NESTED_SQL)


async def test_empty_lists(gql_on_path: GraphQLClient, engine: AsyncEngine) -> None:
    """An empty `or` holds for no row, an empty `and` for every row; so does an empty
    filter, and `not` of an empty filter for none."""
    every = await sql_count(engine, "true")
    assert await jobs_count(gql_on_path, {"or": []}) == 0
    assert await jobs_count(gql_on_path, {"and": []}) == every
    assert await jobs_count(gql_on_path, {"or": [{}]}) == every
    assert await jobs_count(gql_on_path, {"not": {}}) == 0
    assert await jobs_count(gql_on_path, {"not": {"or": []}}) == every
    assert await jobs_count(gql_on_path, {"and": [], "regionCode": "440000"}) == await sql_count(
        engine, "region_code LIKE '44%'"
    )
    inline = await gql_on_path.ok("{ a: jobs(filter: {or: []}) { totalCount } "
                                  "b: jobs(filter: {and: []}) { totalCount } }")
    assert (inline["a"]["totalCount"], inline["b"]["totalCount"]) == (0, every)


async def test_other_lists_take_logic_too(gql_on_path: GraphQLClient, engine: AsyncEngine) -> None:
    """The mechanism is every filter's: placements that ended or not are all of them."""
    data = await gql_on_path.ok(
        "{ all: placements { totalCount } "
        "either: placements(filter: {or: [{ended: true}, {ended: false}]}) { totalCount } "
        "neither: placements(filter: {not: {or: [{ended: true}, {ended: false}]}}) "
        "{ totalCount } }"
    )
    async with engine.connect() as connection:
        placements = (await connection.execute(text("SELECT count(*) FROM placements"))).scalar()
    assert data["all"]["totalCount"] == data["either"]["totalCount"] == placements
    assert data["neither"]["totalCount"] == 0


def bad_argument(response: Any) -> str:
    """The argument a refused filter's error names: one BAD_USER_INPUT error, with a 200
    (refused by a rule as it runs) or a 400 (refused by the checks before it runs, as the
    GraphQL-over-HTTP media type has it), never a 500."""
    assert response.status in (200, 400), response.body
    assert response.data is None or "jobs" in response.data, response.body
    [error] = response.errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "Traceback" not in str(error)
    return str(error["extensions"]["argument"])


async def test_a_nested_field_error_names_its_path(gql_on_path: GraphQLClient) -> None:
    refused = await gql_on_path(
        COUNT_JOBS, {"f": {"or": [{"regionCode": "440000"}, {"regionCode": "999999"}]}}
    )
    assert bad_argument(refused) == "filter.or[1].regionCode"
    assert "unknown region code '999999'" in refused.errors[0]["message"]
    ranged = await gql_on_path(
        COUNT_JOBS, {"f": {"not": {"and": [{"salaryMin": "9000", "salaryMax": "10"}]}}}
    )
    assert bad_argument(ranged) == "filter.not.and[0].salaryMin"
    blank = await gql_on_path(
        "{ jobs(filter: {and: [{keyword: \"x\"}, {or: [{keyword: \" \"}]}]}) { totalCount } }"
    )
    assert bad_argument(blank) == "filter.and[1].or[0].keyword"


async def test_too_many_conditions_are_refused(gql_on_path: GraphQLClient) -> None:
    at_most = {"or": [{"keyword": "工"}] * (MAX_FILTER_CONDITIONS // 2)}  # 1000 conditions
    assert await jobs_count(gql_on_path, at_most) >= 0
    too_many = {"or": [{"and": [{"keyword": "工"}]}] * 400}
    # filter.or[0] (1), its and[0] (2), its keyword (3); the 1001st is or[333].and[0]
    refused = await gql_on_path(COUNT_JOBS, {"f": too_many})
    assert bad_argument(refused) == "filter.or[333].and[0]"
    assert f"at most {MAX_FILTER_CONDITIONS} conditions" in refused.errors[0]["message"]
    fields = await gql_on_path(COUNT_JOBS, {"f": {"or": [{"keyword": "a", "salaryMin": "1"}]
                                                  * 400}})
    assert bad_argument(fields) == "filter.or[333].salaryMin"
    items = ", ".join(['{keyword: "a"}'] * 600)
    literal = f"{{ jobs(filter: {{or: [{items}]}}) {{ totalCount }} }}"
    assert bad_argument(await gql_on_path(literal)) == "filter.or[500]"


def nested(depth: int) -> dict[str, Any]:
    """A filter whose `not`s nest `depth` deep."""
    filter: dict[str, Any] = {"keyword": "工"}
    for _ in range(depth):
        filter = {"not": filter}
    return filter


async def test_too_deep_is_refused(gql_on_path: GraphQLClient) -> None:
    assert await jobs_count(gql_on_path, nested(MAX_FILTER_DEPTH)) >= 0
    refused = await gql_on_path(COUNT_JOBS, {"f": nested(MAX_FILTER_DEPTH + 1)})
    assert bad_argument(refused) == "filter" + ".not" * (MAX_FILTER_DEPTH + 1)
    assert f"at most {MAX_FILTER_DEPTH} deep" in refused.errors[0]["message"]
    mixed = {"and": [{"or": [nested(MAX_FILTER_DEPTH - 1)]}]}
    assert bad_argument(await gql_on_path(COUNT_JOBS, {"f": mixed})) == (
        "filter.and[0].or[0]" + ".not" * (MAX_FILTER_DEPTH - 1)
    )


@pytest.mark.parametrize("depth", [200, 900, 960, 990, 1_010, 2_000])
async def test_very_deep_filters_are_an_error_not_a_crash(
    gql_on_path: GraphQLClient, depth: int
) -> None:
    """Past any recursion limit, in the variables (JSON written by hand: Python's encoder
    would give up first) or in the document."""
    variables = '{"f": ' + '{"not": ' * depth + '{"keyword": "a"}' + "}" * depth + "}"
    inline = (
        "{ jobs(filter: " + "{not: " * depth + '{keyword: "a"}' + "}" * depth
        + ") { totalCount } }"
    )
    for body in (
        '{"query": ' + json.dumps(COUNT_JOBS) + ', "variables": ' + variables + "}",
        json.dumps({"query": inline}),
    ):
        response = await gql_on_path.http.post(
            "/graphql", content=body, headers={
                "content-type": "application/json",
                "accept": "application/graphql-response+json", **gql_on_path.headers,
            },
        )
        assert response.status_code in (200, 400), response.text
        refused = response.json()
        assert refused.get("data") is None and refused["errors"], refused
        assert "Traceback" not in response.text and "Recursion" not in response.text


def cost(query: str, variables: dict[str, Any] | None = None) -> int:
    document = parse(query)
    operation = get_operation_ast(document)
    assert operation is not None
    return query_cost(schema._schema, document, operation, variables or {})


def test_each_condition_costs_one() -> None:
    plain = cost("{ jobs(first: 10) { nodes { id } } }")
    assert cost("{ jobs(first: 10, filter: {keyword: \"a\"}) { nodes { id } } }") == plain + 1
    many = {"or": [{"keyword": "a", "salaryMin": "1"}] * 100}  # 100 objects, 200 fields
    assert cost(COUNT_JOBS.replace("jobs(", "jobs(first: 10, "), {"f": many}) == cost(
        COUNT_JOBS.replace("jobs(", "jobs(first: 10, ")
    ) + 300


async def test_a_nested_filter_is_one_statement(
    gql_on_path: GraphQLClient, read_path: str, engine: AsyncEngine
) -> None:
    query = (
        "query ($f: JobFilter) { jobs(first: 50, filter: $f) "
        "{ totalCount nodes { title employer { name } } } }"
    )
    bound = {"and": [
        {"or": [{"keyword": "工"}, {"not": {"employmentType": "FULL_TIME"}}]},
        {"not": {"or": [{"salaryMin": "8000"}, {"and": [{"keyword": "员"}]}]}},
    ]}
    truth = (
        "(strpos(search_text, '工') > 0 OR NOT employment_type = 'full_time') "
        "AND NOT coalesce(salary_max >= 8000 OR strpos(search_text, '员') > 0, false)"
    )
    result = await gql_on_path(query, {"f": bound})
    assert not result.errors, result.body
    assert result.data["jobs"]["totalCount"] == await sql_count(engine, truth)
    assert result.headers["x-read-path"] == read_path
    if read_path == "compiled":
        assert result.statements == 1
    else:  # the page, its count, the employers
        assert result.statements <= 3
    # A region, at any depth, is looked up (it must exist) besides.
    regional = await gql_on_path(query, {"f": {"not": {"or": [{"regionCode": "440300"}]}}})
    assert not regional.errors, regional.body
    assert regional.statements <= (2 if read_path == "compiled" else 4)


async def test_nested_variables_share_a_plan(
    http: httpx.AsyncClient, http_resolvers: httpx.AsyncClient, settings: Settings
) -> None:
    """Values variables give at any depth are parameters: one plan for every value, inline
    or in a whole filter; a refused value still gets the resolver path's error."""
    inline = (
        "query Deep($k: String, $pay: Decimal, $type: EmploymentType) { jobs(first: 5, "
        "filter: {or: [{keyword: $k}, {not: {and: [{salaryMin: $pay, employmentType: $type}]}}]}) "
        "{ totalCount nodes { id title } } }"
    )
    whole = (
        "query Whole($f: JobFilter) { jobs(first: 5, filter: $f) "
        "{ totalCount nodes { id title } } }"
    )
    headers = bearer(settings, "admin")
    compiled, resolved = GraphQLClient(http, headers), GraphQLClient(http_resolvers, headers)
    values = [("工", "3000", "FULL_TIME"), ("员", "9000", "PART_TIME"), ("有限", "0", "FULL_TIME")]
    for keyword, pay, kind in values:
        cases: list[tuple[str, dict[str, Any]]] = [
            (inline, {"k": keyword, "pay": pay, "type": kind}),
            (whole, {"f": {"or": [
                {"keyword": keyword},
                {"not": {"and": [{"salaryMin": pay, "employmentType": kind}]}},
            ]}}),
        ]
        for query, variables in cases:
            mine, theirs = await compiled(query, variables), await resolved(query, variables)
            assert mine.headers["x-read-path"] == "compiled", mine.body
            assert answer(mine.body) == answer(theirs.body), variables
    for query in (inline, whole):
        plans = [key for key in compiled_reads._plans
                 if isinstance(key, tuple) and key[0][0] == query]
        assert len(plans) == 1, query
    refused = await compiled(inline, {"k": " ", "pay": "1", "type": "FULL_TIME"})
    assert bad_argument(refused) == "filter.or[0].keyword"
    ranged = await compiled(
        whole, {"f": {"or": [{"keyword": "工"},
                             {"not": {"and": [{"salaryMin": "9", "salaryMax": "1"}]}}]}}
    )
    assert bad_argument(ranged) == "filter.or[1].not.and[0].salaryMin"


# --- a partner's field list ----------------------------------------------------------------


@pytest.fixture
async def gender_only(
    http: httpx.AsyncClient, settings: Settings, database_url: str
) -> AsyncIterator[GraphQLClient]:
    """A partner whose field list has workers' gender but not their name (which `keyword`
    reads)."""
    async with consented_partner_key(
        settings, database_url, partner="logic-agency", scopes=["workers", "jobs"],
        regions=["440000"], fields=["Worker.gender", "Job.title"],
    ) as key:
        yield GraphQLClient(http, {"x-api-key": key})


@pytest.mark.parametrize(
    ("filter", "argument"),
    [
        ("{keyword: \"张\"}", "filter.keyword"),
        ("{or: [{gender: FEMALE}, {keyword: \"张\"}]}", "filter.or[1].keyword"),
        ("{not: {keyword: \"张\"}}", "filter.not.keyword"),
        ("{and: [{or: [{not: {keyword: \"张\"}}]}]}", "filter.and[0].or[0].not.keyword"),
    ],
)
async def test_a_partner_cannot_reach_a_field_through_logic(
    gender_only: GraphQLClient, filter: str, argument: str
) -> None:
    refused = await gender_only(f"{{ workers(filter: {filter}) {{ totalCount }} }}")
    assert refused.data is None, refused.body
    [error] = refused.errors
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert f"'Worker.name', which {argument} reads" in error["message"]
    by_variable = await gender_only(
        "query ($f: WorkerFilter) { workers(filter: $f) { totalCount } }",
        {"f": {"or": [{"gender": "MALE"}, {"not": {"keyword": "张"}}]}},
    )
    assert "which filter.or[1].not.keyword reads" in by_variable.errors[0]["message"]


async def test_a_partner_filters_with_logic_on_its_fields(gender_only: GraphQLClient) -> None:
    data = await gender_only.ok(
        "{ all: workers { totalCount } "
        "either: workers(filter: {or: [{gender: FEMALE}, {not: {gender: FEMALE}}]}) "
        "{ totalCount nodes { gender } } }"
    )
    assert data["all"]["totalCount"] == data["either"]["totalCount"] > 0


# --- the schema -----------------------------------------------------------------------------


def test_every_filter_takes_and_or_not_of_itself() -> None:
    graphql = schema._schema
    assert graphql.query_type is not None
    filters = {
        get_named_type(field.args["filter"].type)
        for field in graphql.query_type.fields.values()
        if "filter" in field.args
    }
    assert len(filters) == 9
    for filter_type in filters:
        fields = filter_type.fields
        assert str(fields["and"].type) == f"[{filter_type.name}!]"
        assert str(fields["or"].type) == f"[{filter_type.name}!]"
        assert str(fields["not"].type) == filter_type.name
        assert "empty list holds for no row" in fields["or"].description
        assert "empty list holds for every row" in fields["and"].description


def test_adding_them_breaks_nothing() -> None:
    """Against the schema without `and`, `or` and `not` (as it was), no change is breaking."""
    graphql = schema._schema
    before = build_schema(print_schema(graphql))
    for named in before.type_map.values():
        if isinstance(named, GraphQLInputObjectType) and named.name.endswith("Filter"):
            for name in ("and", "or", "not"):
                named.fields.pop(name)
    assert find_breaking_changes(before, graphql) == []
