"""A partner's field allowlist covers what its filters, orderings and cursors read, not only
what it selects: filtering workers by name, or ordering them by name, needs `Worker.name`, and
a cursor, which carries its list's sort value, needs the field that shows it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import httpx
import pytest

from db.pii import PersonalDataVault
from db.session import create_engine
from server.auth import create_api_key, revoke_api_key
from server.settings import Settings
from tests.conftest import GraphQLClient


async def partner_with(
    http: httpx.AsyncClient, settings: Settings, database_url: str, fields: Sequence[str] | None
) -> AsyncIterator[GraphQLClient]:
    engine = create_engine(database_url)
    try:
        key = await create_api_key(
            engine, PersonalDataVault(settings.master_key()), partner="argument-agency",
            scopes=["workers", "jobs"], regions=["440000"],
            fields=None if fields is None else list(fields), purpose="argument-checks",
        )
        try:
            yield GraphQLClient(http, {"x-api-key": key})
        finally:
            await revoke_api_key(engine, key[3:11])
    finally:
        await engine.dispose()


@pytest.fixture
async def gender_only(
    http: httpx.AsyncClient, settings: Settings, database_url: str
) -> AsyncIterator[GraphQLClient]:
    async for client in partner_with(http, settings, database_url, ["Worker.gender", "Job.title"]):
        yield client


@pytest.fixture
async def names_too(
    http: httpx.AsyncClient, settings: Settings, database_url: str
) -> AsyncIterator[GraphQLClient]:
    fields = ["Worker.gender", "Worker.name", "Worker.currentRegion", "Job.*"]
    async for client in partner_with(http, settings, database_url, fields):
        yield client


def refusal(response: object) -> str:
    errors = response.errors  # type: ignore[attr-defined]
    assert response.data is None and errors, response.body  # type: ignore[attr-defined]
    assert errors[0]["extensions"]["code"] == "FORBIDDEN"
    return str(errors[0]["message"])


async def test_filters_and_orderings_on_allowed_fields_run(gender_only: GraphQLClient) -> None:
    await gender_only.ok('{ workers(filter: {gender: FEMALE}) { nodes { id gender } } }')
    await gender_only.ok("{ workers(orderBy: null, filter: null) { nodes { gender } } }")


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
        ('{ jobs(filter: {keyword: "工"}) { nodes { title } } }', {}, "Job.title", None),
        ('{ jobs(filter: {salaryMin: "5000"}) { nodes { title } } }', {},
         "Job.salaryMax", "filter.salaryMin"),
    ],
)
async def test_filters_and_orderings_need_the_fields_they_read(
    gender_only: GraphQLClient, query: str, variables: dict[str, object], field: str,
    argument: str | None,
) -> None:
    response = await gender_only(query, variables)
    if argument is None:  # Job.title is allowed: its keyword filter runs
        assert not response.errors, response.body
        return
    message = refusal(response)
    assert f"'{field}'" in message and argument in message


async def test_a_wider_allowlist_lets_the_same_arguments_run(names_too: GraphQLClient) -> None:
    await names_too.ok('{ workers(filter: {keyword: "张", regionCode: "440100"}) { totalCount } }')
    await names_too.ok("{ workers(orderBy: {field: NAME}) { edges { cursor } } }")
    await names_too.ok('{ jobs(filter: {salaryMin: "5000"}) { nodes { title } } }')
    still = await names_too('{ workers(filter: {hukouRegionCode: "440100"}) { totalCount } }')
    assert "'Worker.hukouRegion'" in refusal(still)


async def test_a_partner_without_a_field_allowlist_filters_freely(
    http: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    async for partner in partner_with(http, settings, database_url, None):
        query = '{ workers(filter: {keyword: "张"}, orderBy: {field: NAME}) { totalCount } }'
        await partner.ok(query)


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
    await names_too.ok(by_name)
    no_cursors = "{ workers(first: 2) { totalCount pageInfo { hasNextPage } nodes { name } } }"
    await names_too.ok(no_cursors)
    await names_too.ok("{ jobs(first: 2) { edges { cursor } } }")  # Job.* is allowed
