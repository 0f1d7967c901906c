"""Behind PgBouncer in transaction mode (`LABORHUB_DB_PGBOUNCER=1`): the core reads on both
read paths and a mutation, many at once over more app connections than PgBouncer has server
connections, so that each session's statements land on server connections other sessions
prepared on. They answer exactly as the app does straight on PostgreSQL. Live updates listen
on `DATABASE_DIRECT_URL`, straight on PostgreSQL, for what writes through PgBouncer send."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect

from server.app import create_app
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, serving
from tests.live_clients import PROTOCOL, SETTLE_SECONDS, message, next_data, subscribe_to
from tests.live_server import uvicorn_in_thread
from tests.pgbouncer import pgbouncer, pgbouncer_binary
from tests.postings import as_worker, key_of, post_job, seeded_employers, seeded_workers
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
    # A ranking: planned for its values in a transaction of its own (a savepoint in the
    # compiled path's, behind PgBouncer).
    '{ recommendedJobs(workerId: "V29ya2VyOjE=", first: 3) { recommendations { score reasons '
    "job { id } } userErrors { code } } }",
]


@pytest.fixture(scope="module")
def bouncer_url(database_url: str) -> Iterator[str]:
    with pgbouncer(database_url, server_connections=2) as url:
        yield url


async def answers(client: GraphQLClient) -> list[Any]:
    return [await client.ok(query) for query in READS]


@pytest.mark.parametrize("read_path", ["compiled", "resolvers"])
async def test_reads_through_pgbouncer_answer_as_straight_reads(
    bouncer_url: str, settings: Settings, gql: GraphQLClient, read_path: str,
    database_url: str,
) -> None:
    admin = bearer(settings, "admin")
    expected = await answers(gql.as_(admin))
    bounced = dataclasses.replace(
        settings, db_pgbouncer=True, compiled_reads=read_path == "compiled", db_pool_size=6,
        database_direct_url=database_url,
    )
    async with serving(bounced, bouncer_url) as http:
        client = GraphQLClient(http, admin)
        rounds = await asyncio.gather(*(answers(client) for _ in range(12)))
    for found in rounds:
        assert found == expected


async def test_a_mutation_through_pgbouncer_writes_once_and_is_read_back(
    bouncer_url: str, settings: Settings, gql: GraphQLClient, database_url: str
) -> None:
    employer = (await gql.ok("{ employers(first: 1) { nodes { id region { code } } } }"))[
        "employers"
    ]["nodes"][0]
    as_employer = bearer(settings, "employer", employer_id=employer["id"])
    bounced = dataclasses.replace(
        settings, db_pgbouncer=True, db_pool_size=6, database_direct_url=database_url
    )
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


async def test_live_updates_behind_pgbouncer_listen_straight_on_postgresql(
    bouncer_url: str, settings: Settings, gql: GraphQLClient, database_url: str,
    engine: AsyncEngine,
) -> None:
    """Writes go through PgBouncer; the events they send are listened for on
    DATABASE_DIRECT_URL (LISTEN can't cross transaction pooling) and reach a subscriber."""
    employer = (await seeded_employers(gql))[0]
    job = await post_job(gql, employer)
    worker = (await seeded_workers(gql, 1))[0]
    bounced = dataclasses.replace(
        settings, db_pgbouncer=True, db_pool_size=4, database_direct_url=database_url
    )
    token = bearer(settings, "employer", "bounced-employer", employer_id=employer.id)
    try:
        with uvicorn_in_thread(create_app(bounced, bouncer_url)) as url:
            socket_url = url.replace("http://", "ws://") + "/graphql"
            async with connect(socket_url, subprotocols=[PROTOCOL]) as socket:
                await socket.send(json.dumps({
                    "type": "connection_init",
                    "payload": {"Authorization": token["authorization"]},
                }))
                assert (await message(socket))["type"] == "connection_ack"
                await subscribe_to(socket, "bounced", SUBMITTED, {"job": job["id"]})
                await asyncio.sleep(SETTLE_SECONDS)
                async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                    client = GraphQLClient(http, as_worker(gql, settings, worker).headers)
                    applied = (await client.ok(APPLY, {"input": {
                        "workerId": worker, "jobId": job["id"],
                    }}))["applyToJob"]
                assert applied["userErrors"] == [], applied
                heard = await next_data(socket, "bounced")
        assert heard == {"applicationSubmitted": {"id": applied["application"]["id"]}}
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM applications WHERE job_id = :job"), {"job": key_of(job["id"])}
            )
            await connection.execute(
                text("DELETE FROM jobs WHERE id = :job"), {"job": key_of(job["id"])}
            )


SUBMITTED = "subscription ($job: ID) { applicationSubmitted(jobId: $job) { id } }"
APPLY = """mutation ($input: ApplyToJobInput!) { applyToJob(input: $input) {
  application { id } userErrors { field code message } } }"""
