"""A partner's field allowlist covers what its filters, orderings and cursors read, not only
what it selects: filtering workers by name, or ordering them by name, needs `Worker.name`, and
a cursor, which carries its list's sort value, needs the field that shows it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
import pytest

from server.settings import Settings
from tests.conftest import GraphQLClient
from tests.partners import consented_partner_key

REGION = "440000"


@asynccontextmanager
async def partner_with(
    http: httpx.AsyncClient, settings: Settings, database_url: str, fields: Sequence[str] | None,
    consenting: bool = True,
) -> AsyncIterator[GraphQLClient]:
    """A partner reading workers and jobs in Guangdong, every worker consenting to its
    purpose (unless not `consenting`), with this field list."""
    async with consented_partner_key(
        settings, database_url, partner="argument-agency", scopes=["workers", "jobs"],
        regions=[REGION], fields=None if fields is None else list(fields),
        consenting=consenting,
    ) as key:
        yield GraphQLClient(http, {"x-api-key": key})


@pytest.fixture
async def gender_only(
    http: httpx.AsyncClient, settings: Settings, database_url: str
) -> AsyncIterator[GraphQLClient]:
    fields = ["Worker.gender", "Job.title"]
    async with partner_with(http, settings, database_url, fields) as client:
        yield client


@pytest.fixture
async def names_too(
    http: httpx.AsyncClient, settings: Settings, database_url: str
) -> AsyncIterator[GraphQLClient]:
    fields = ["Worker.gender", "Worker.name", "Worker.currentRegion", "Job.*"]
    async with partner_with(http, settings, database_url, fields) as client:
        yield client


async def a_name_and_place(gql: GraphQLClient) -> dict[str, str]:
    """A filter some worker of the partner's region meets: a character of their name and
    their current region."""
    data = await gql.ok(
        "query ($r: String!) { workers(first: 1, filter: {regionCode: $r}) "
        "{ nodes { name currentRegion { code } } } }",
        {"r": REGION},
    )
    worker = data["workers"]["nodes"][0]
    return {"keyword": worker["name"][0], "regionCode": worker["currentRegion"]["code"]}


def refusal(response: object) -> str:
    errors = response.errors  # type: ignore[attr-defined]
    assert response.data is None and errors, response.body  # type: ignore[attr-defined]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    return str(errors[0]["message"])


async def test_filters_and_orderings_on_allowed_fields_run(gender_only: GraphQLClient) -> None:
    female = await gender_only.ok(
        "{ workers(first: 100, filter: {gender: FEMALE}) { totalCount nodes { id gender } } }"
    )
    every = await gender_only.ok(
        "{ workers(orderBy: null, filter: null) { totalCount nodes { gender } } }"
    )
    genders = {node["gender"] for node in female["workers"]["nodes"]}
    assert genders == {"FEMALE"}, "the consenting women of its region, and only those"
    assert 0 < female["workers"]["totalCount"] < every["workers"]["totalCount"]


@pytest.mark.parametrize(
    ("query", "variables", "field", "argument"),
    [
        ('{ workers(filter: {keyword: "张"}) { nodes { gender } } }', {},
         "Worker.name", "filter.keyword"),
        ("query ($f: WorkerFilter) { workers(filter: $f) { nodes { gender } } }",
         {"f": {"keyword": "张"}}, "Worker.name", "filter.keyword"),
        ("{ workers(orderBy: {field: NAME}) { edges { cursor } } }", {},
         "Worker.name", "orderBy"),
        ('{ workers(filter: {regionCode: "440100"}) { totalCount } }', {},
         "Worker.currentRegion", "filter.regionCode"),
        ('{ jobs(filter: {keyword: "工"}) { nodes { title } } }', {},  # reads 4 texts
         "Job.description", "filter.keyword"),
        ('{ jobs(filter: {or: [{not: {keyword: "工"}}]}) '
         "{ nodes { title } } }", {}, "Job.description", "filter.or[0].not.keyword"),
        ("{ jobs(first: 1) { nodes { title } } }", {}, "Job.title", None),
        ('{ jobs(filter: {salaryMin: "5000"}) { nodes { title } } }', {},
         "Job.salaryMax", "filter.salaryMin"),
    ],
)
async def test_filters_and_orderings_need_the_fields_they_read(
    gender_only: GraphQLClient, query: str, variables: dict[str, object], field: str,
    argument: str | None,
) -> None:
    response = await gender_only(query, variables)
    if argument is None:  # Job.title is allowed
        assert not response.errors and response.data["jobs"]["nodes"], response.body
        return
    message = refusal(response)
    assert f"'{field}'" in message and argument in message


async def test_a_wider_allowlist_lets_the_same_arguments_run(
    names_too: GraphQLClient, gql: GraphQLClient
) -> None:
    query = "query ($f: WorkerFilter) { workers(filter: $f) { totalCount } }"
    near = await a_name_and_place(gql)
    seen = await names_too.ok(query, {"f": near})
    assert seen == await gql.ok(query, {"f": near}), "every worker of its region consents"
    assert seen["workers"]["totalCount"] > 0
    by_name = await names_too.ok("{ workers(orderBy: {field: NAME}) { edges { cursor } } }")
    assert by_name["workers"]["edges"]
    paying = await names_too.ok('{ jobs(filter: {salaryMin: "5000"}) { nodes { title } } }')
    assert paying["jobs"]["nodes"]
    searched = await names_too.ok('{ jobs(filter: {keyword: "工"}) { nodes { title } } }')
    assert searched["jobs"]["nodes"]
    still = await names_too('{ workers(filter: {hukouRegionCode: "440100"}) { totalCount } }')
    assert "'Worker.hukouRegion'" in refusal(still)


async def test_a_partner_without_a_field_allowlist_filters_freely(
    http: httpx.AsyncClient, settings: Settings, database_url: str, gql: GraphQLClient
) -> None:
    """It filters and orders by any field; what it finds is what its workers consented to."""
    query = """query ($f: WorkerFilter) {
      workers(filter: $f, orderBy: {field: NAME}) { totalCount } }"""
    near = {"keyword": (await a_name_and_place(gql))["keyword"]}
    found = {}
    for consenting in (True, False):
        async with partner_with(http, settings, database_url, None, consenting) as partner:
            found[consenting] = (await partner.ok(query, {"f": near}))["workers"]["totalCount"]
    assert found[True] > 0 == found[False], "only consented workers are found"


@pytest.mark.parametrize(
    "query",
    [
        "{ workers(first: 2) { edges { cursor node { gender } } } }",
        "{ workers(first: 2) { pageInfo { endCursor } nodes { gender } } }",
        "{ workers { ...Page } } fragment Page on WorkerConnection { edges { cursor } }",
        "{ workers { edges { ...Edge } } } fragment Edge on WorkerEdge { cursor }",
    ],
)
async def test_cursors_need_the_field_their_order_reads(
    names_too: GraphQLClient, query: str
) -> None:
    """The default order is by registration time: its cursors carry `createdAt`."""
    assert "'Worker.createdAt', which cursors carry" in refusal(await names_too(query))


async def test_cursors_of_an_allowed_order_and_lists_without_cursors_run(
    names_too: GraphQLClient,
) -> None:
    by_name = "{ workers(orderBy: {field: NAME}) { edges { cursor } pageInfo { endCursor } } }"
    assert (await names_too.ok(by_name))["workers"]["pageInfo"]["endCursor"]
    no_cursors = "{ workers(first: 2) { totalCount pageInfo { hasNextPage } nodes { name } } }"
    assert len((await names_too.ok(no_cursors))["workers"]["nodes"]) == 2
    jobs = await names_too.ok("{ jobs(first: 2) { edges { cursor } } }")  # Job.* is allowed
    assert len(jobs["jobs"]["edges"]) == 2
