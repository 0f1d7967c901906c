"""DATABASE_READ_URL: queries read from a streaming replica, mutations write to the primary, a
client that sends back `Laborhub-Write-Position` reads its own writes, and reads go on from
the primary when the replica is down or does not answer.

A primary and a replica of the module's own (`tests.replica_server`: initdb, pg_basebackup -R),
on loopback ports. That a read came from the replica shows by pausing its replay
(`pg_wal_replay_pause()`) and changing a row on the primary behind the app's back: the
replica's answer is the old value.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import logging
import socket
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from db.pii import PersonalDataVault
from server.graphql_http.write_position import HEADER
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, migrate_and_seed, serving
from tests.replica_server import (
    StreamingPair,
    caught_up,
    missing_binaries,
    sql,
    start_replica,
    streaming_pair,
    wait_until_answers,
)

pytestmark = pytest.mark.skipif(
    bool(missing_binaries()),
    reason=f"no {', '.join(missing_binaries())} (the embedded PostgreSQL ships them) to make "
    "a primary and its streaming replica with",
)

WAIT_MS = 400
JOB = "query ($id: ID!) { node(id: $id) { ... on Job { id title } } }"
CREATE = """mutation ($input: CreateJobInput!) { createJob(input: $input) {
  job { id title employer { id } } userErrors { field code message } } }"""


@pytest.fixture(scope="module")
def pair(settings: Settings) -> Iterator[StreamingPair]:
    """The primary (migrated, `tiny` seeded) and its replica, streaming."""
    with streaming_pair() as pair:
        asyncio.run(sql(pair.primary.url("postgres"), "CREATE DATABASE laborhub"))
        asyncio.run(migrate_and_seed(pair.primary.url(), PersonalDataVault(settings.master_key())))
        start_replica(pair)
        yield pair


@pytest.fixture
async def replica(pair: StreamingPair) -> AsyncIterator[StreamingPair]:
    """The pair with the replica running, replaying and caught up, before and after."""
    await _replaying(pair)
    try:
        yield pair
    finally:
        await _replaying(pair)


async def _replaying(pair: StreamingPair) -> None:
    if not pair.replica.running:
        pair.replica.start()
    await wait_until_answers(pair.replica.url())
    await sql(pair.replica.url(), "SELECT pg_wal_replay_resume()")
    await caught_up(pair)


async def pause_replay(pair: StreamingPair) -> None:
    await sql(pair.replica.url(), "SELECT pg_wal_replay_pause()")


@asynccontextmanager
async def app_on(
    pair: StreamingPair, settings: Settings, **changes: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the pair: DATABASE_URL the primary, DATABASE_READ_URL the replica."""
    configured = dataclasses.replace(
        settings, database_read_url=pair.replica.url(), replica_wait_ms=WAIT_MS, **changes
    )
    async with serving(configured, pair.primary.url()) as http:
        yield http


def admin(http: httpx.AsyncClient, settings: Settings, **headers: str) -> GraphQLClient:
    return GraphQLClient(http, {**bearer(settings, "admin"), **headers})


def pk_of(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().split(":")[1])


async def a_job(client: GraphQLClient) -> tuple[str, str]:
    """(global ID, title) of a job."""
    node = (await client.ok("{ jobs(first: 1) { nodes { id title } } }"))["jobs"]["nodes"][0]
    return node["id"], node["title"]


async def retitle(pair: StreamingPair, global_id: str) -> str:
    """Give the job a new title on the primary, behind the app's back; the title."""
    title = f"改名-{uuid.uuid4().hex[:8]}"
    update = "UPDATE jobs SET title = $1 WHERE id = $2"
    await sql(pair.primary.url(), update, title, pk_of(global_id))
    return title


async def title_of(client: GraphQLClient, global_id: str) -> str | None:
    node = (await client.ok(JOB, {"id": global_id}))["node"]
    return None if node is None else str(node["title"])


async def job_input(client: GraphQLClient, title: str) -> dict[str, Any]:
    data = await client.ok("{ employers(first: 1) { nodes { id region { code } } } }")
    employer = data["employers"]["nodes"][0]
    return {
        "employerId": employer["id"], "title": title, "regionCode": employer["region"]["code"],
        "salaryMin": "5000", "salaryMax": "7000", "salaryUnit": "MONTH", "headcount": 3,
        "employmentType": "FULL_TIME",
    }


async def test_queries_read_from_the_replica(
    replica: StreamingPair, settings: Settings, read_path: str
) -> None:
    async with app_on(replica, settings, compiled_reads=read_path == "compiled") as http:
        client = admin(http, settings)
        job_id, title = await a_job(client)
        await pause_replay(replica)
        changed = await retitle(replica, job_id)

        result = await client(JOB, {"id": job_id})
        assert result.status == 200 and result.data["node"]["title"] == title, result.body
        assert result.headers["x-read-path"] == read_path

        await sql(replica.replica.url(), "SELECT pg_wal_replay_resume()")
        await caught_up(replica)
        assert await title_of(client, job_id) == changed


async def test_a_client_that_wrote_reads_its_writes(
    replica: StreamingPair, settings: Settings, read_path: str
) -> None:
    async with app_on(replica, settings, compiled_reads=read_path == "compiled") as http:
        client = admin(http, settings)
        title = f"副本测试-{uuid.uuid4().hex[:8]}"
        values = await job_input(client, title)
        await pause_replay(replica)

        created = await client(CREATE, {"input": values})
        assert created.status == 200 and not created.errors, created.body
        payload = created.data["createJob"]
        assert payload["userErrors"] == [] and payload["job"]["title"] == title
        position = created.headers[HEADER]
        count = "SELECT count(*) FROM jobs WHERE title = $1"
        assert await sql(replica.primary.url(), count, title) == 1  # written on the primary
        assert await sql(replica.replica.url(), count, title) == 0  # not replayed yet
        job_id = payload["job"]["id"]

        assert await title_of(client, job_id) is None  # the replica, without the position
        started = time.monotonic()
        with_position = admin(http, settings, **{HEADER: position})
        assert await title_of(with_position, job_id) == title  # waited, then the primary
        waited = time.monotonic() - started
        assert WAIT_MS / 1000 <= waited < WAIT_MS / 1000 + 3, waited

        # In a batch, what follows a mutation reads from the primary, with no position sent.
        other = {**values, "title": f"{title}-2"}
        batch = await http.post(
            "/graphql",
            json=[
                {"query": CREATE, "variables": {"input": other}},
                {"query": JOB, "variables": {"id": job_id}},
            ],
            headers=client.headers,
        )
        assert batch.status_code == 200, batch.text
        [made, read] = batch.json()
        assert made["data"]["createJob"]["userErrors"] == []
        assert read["data"]["node"]["title"] == title
        later = batch.headers[HEADER]
        assert _position(later) >= _position(position)

        # Once the replica has replayed past the position, it answers such reads itself.
        await sql(replica.replica.url(), "SELECT pg_wal_replay_resume()")
        await caught_up(replica)
        await pause_replay(replica)
        await retitle(replica, job_id)
        started = time.monotonic()
        assert await title_of(with_position, job_id) == title  # the replica's (older) title
        assert time.monotonic() - started < WAIT_MS / 1000


def _position(text: str) -> int:
    high, low = text.split("/")
    return int(high, 16) << 32 | int(low, 16)


async def test_reads_go_on_from_the_primary_while_the_replica_is_down(
    replica: StreamingPair, settings: Settings
) -> None:
    retry = 1.0
    async with app_on(replica, settings, replica_retry_seconds=retry) as http:
        client = admin(http, settings)
        job_id, _ = await a_job(client)
        replica.replica.stop()
        changed = await retitle(replica, job_id)  # only the primary can show it now

        for _ in range(5):
            started = time.monotonic()
            assert await title_of(client, job_id) == changed
            assert time.monotonic() - started < 1.0
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["replica"]["status"] == "unavailable"

        # A write, and its client's read, need no replica either (and don't wait for one).
        created = await client(CREATE, {"input": await job_input(client, "停机时写")})
        assert created.status == 200 and not created.errors, created.body
        started = time.monotonic()
        with_position = admin(http, settings, **{HEADER: created.headers[HEADER]})
        new_id = created.data["createJob"]["job"]["id"]
        assert await title_of(with_position, new_id) == "停机时写"
        assert time.monotonic() - started < WAIT_MS / 1000

        # Back up: once the breaker's time is over, queries read from the replica again.
        await _replaying(replica)
        await pause_replay(replica)
        await retitle(replica, job_id)
        deadline = time.monotonic() + retry + 5
        while (title := await title_of(client, job_id)) != changed:
            assert time.monotonic() < deadline, f"still read from the primary: {title}"
            await asyncio.sleep(0.1)
        ready = await http.get("/readyz")
        assert ready.json()["replica"]["status"] == "ok", ready.text
        assert ready.json()["replica"]["lagBytes"] > 0  # replay is paused behind a write


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a hung server)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


async def test_a_replica_that_does_not_answer_costs_one_timeout(
    settings: Settings, database_url: str, silent_port: int, read_path: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    timeout = 0.5
    configured = dataclasses.replace(
        settings,
        database_read_url=f"postgresql://postgres@127.0.0.1:{silent_port}/laborhub",
        replica_connect_timeout_seconds=timeout,
        replica_retry_seconds=60,
        compiled_reads=read_path == "compiled",
    )
    async with serving(configured, database_url) as http:
        client = admin(http, settings)
        with caplog.at_level(logging.WARNING, logger="laborhub.db"):
            started = time.monotonic()
            await a_job(client)  # tries the replica, gives up, reads from the primary
            first = time.monotonic() - started
            assert timeout <= first < timeout + 3, first
            for _ in range(5):
                started = time.monotonic()
                await a_job(client)
                assert time.monotonic() - started < timeout  # the breaker skips the replica
        down = [r for r in caplog.records if "replica is unavailable" in r.getMessage()]
        assert len(down) == 1, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize(
    "sent",
    ["nope", "", "0/", "/16B3748", "0/16B3748/1", "123456789/0", "0/-1", "0x1/2", "߀/1".encode()],
)
async def test_a_malformed_write_position_is_refused(
    gql: GraphQLClient, sent: str | bytes
) -> None:
    headers = {"accept": "application/graphql-response+json", **gql.headers}
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    response = await gql.http.post(
        "/graphql",
        json={"query": "{ jobs(first: 1) { totalCount } }"},
        headers=[*raw, (HEADER.encode(), sent if isinstance(sent, bytes) else sent.encode())],
    )
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert HEADER in error["message"] and error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in response.json()


async def test_a_write_position_without_a_replica_reads_the_primary(gql: GraphQLClient) -> None:
    result = await gql.as_({**gql.headers, HEADER: "FFFFFFFF/FFFFFFFF"})(
        "{ jobs(first: 1) { totalCount } }"
    )
    assert result.status == 200 and not result.errors, result.body


async def test_the_replicas_pools_are_in_the_metrics(
    replica: StreamingPair, settings: Settings
) -> None:
    async with app_on(replica, settings, compiled_reads=True) as http:
        await admin(http, settings).ok("{ jobs(first: 1) { nodes { id } } }")
        text = (await http.get("/metrics")).text
    for pool in ("engine", "statements", "replica_engine", "replica_statements"):
        assert f'laborhub_db_pool_waiting{{pool="{pool}"}} 0.0' in text, pool
    assert 'laborhub_db_pool_connections{pool="replica_statements",state="idle"} 1.0' in text
