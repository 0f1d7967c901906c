"""Behind PgBouncer in transaction mode (`LABORHUB_DB_PGBOUNCER=1`): the core reads on both
read paths and a mutation, many at once over more app connections than PgBouncer has server
connections, so that each session's statements land on server connections other sessions
prepared on. They answer exactly as the app does straight on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, serving
from tests.pgbouncer import pgbouncer, pgbouncer_binary
from tests.test_create_job import CREATE, job_input

pytestmark = pytest.mark.skipif(
    pgbouncer_binary() is None, reason="no pgbouncer here (Debian: apt-get install pgbouncer)"
)

READS = [
    "{ jobs(first: 5) { totalCount nodes { id title salaryMin employer { id name } "
    "region { code } } } }",
    "{ employers(first: 3) { nodes { id name jobs(first: 2) { nodes { id title } } } } }",
    "{ workers(first: 3) { nodes { id name maskedPhone "
    "insuranceRecords(first: 2) { nodes { period } } } } }",
    "{ regions { code name } }",
    "{ trainings(first: 3) { nodes { id title } } }",
]


@pytest.fixture(scope="module")
def bouncer_url(database_url: str) -> Iterator[str]:
    with pgbouncer(database_url, server_connections=2) as url:
        yield url


async def answers(client: GraphQLClient) -> list[Any]:
    return [await client.ok(query) for query in READS]


@pytest.mark.parametrize("read_path", ["compiled", "resolvers"])
async def test_reads_through_pgbouncer_answer_as_straight_reads(
    bouncer_url: str, settings: Settings, gql: GraphQLClient, read_path: str
) -> None:
    admin = bearer(settings, "admin")
    expected = await answers(gql.as_(admin))
    bounced = dataclasses.replace(
        settings, db_pgbouncer=True, compiled_reads=read_path == "compiled", db_pool_size=6
    )
    async with serving(bounced, bouncer_url) as http:
        client = GraphQLClient(http, admin)
        rounds = await asyncio.gather(*(answers(client) for _ in range(12)))
    for found in rounds:
        assert found == expected


async def test_a_mutation_through_pgbouncer_writes_once_and_is_read_back(
    bouncer_url: str, settings: Settings, gql: GraphQLClient
) -> None:
    employer = (await gql.ok("{ employers(first: 1) { nodes { id region { code } } } }"))[
        "employers"
    ]["nodes"][0]
    as_employer = bearer(settings, "employer", employer_id=employer["id"])
    bounced = dataclasses.replace(settings, db_pgbouncer=True, db_pool_size=6)
    values = {"id": employer["id"], "region": employer["region"]["code"]}
    async with serving(bounced, bouncer_url) as http:
        client = GraphQLClient(http, as_employer)
        created = await asyncio.gather(
            *(
                client.ok(CREATE, {"input": job_input(values, title=f"经 PgBouncer 发布 {n}")})
                for n in range(6)
            )
        )
    ids = set()
    for payload in created:
        assert payload["createJob"]["userErrors"] == []
        ids.add(payload["createJob"]["job"]["id"])
    assert len(ids) == 6
    found = await gql.as_(as_employer).ok(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on Job { id title } } }",
        {"ids": sorted(ids)},
    )
    assert {node["id"] for node in found["nodes"]} == ids
