"""The bench's side-by-side harness: its workloads return the same data on every server.

laborhub's document of each workload must answer what its hand-written asyncpg fetch reads,
once both are made plain; the PostGraphile documents must too, on PostGraphile 4 and 5, where
the bench's npm cache already holds them (this never runs npm: without the cache or a Node.js
those cases are skipped, saying so). The HTTP client the load loop uses is checked against a
small asyncio server: chunked answers, and kept-alive connections the server has closed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bench.catalog import WORKLOADS, bigrams, pg_search, search_sql
from bench.harness import Endpoint, sanity_check
from bench.http1 import Http1Pool
from bench.npm import installed
from bench.peers import NODE_IN_UNIT, NODE_UNIT, PEERS, PeerSpec, node_major, node_version
from bench.peers import peer_server as start_peer
from bench.same_data import first_difference, plain
from bench.workloads import (
    ASYNCPG,
    LABORHUB,
    CountingConnection,
    Subject,
    Workload,
    count_objects,
    find_subject,
)
from db.session import sync_url
from server.auth import mint_token
from server.settings import Settings
from tests.conftest import GraphQLClient


@pytest.fixture(scope="module")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    async with asyncpg.create_pool(sync_url(database_url), min_size=1, max_size=2) as pool:
        yield pool


@pytest.fixture(scope="module")
async def subject(pool: asyncpg.Pool) -> Subject:
    return await find_subject(pool)


@pytest.mark.parametrize("workload", WORKLOADS, ids=lambda w: w.name)
async def test_laborhub_answers_what_asyncpg_reads(
    workload: Workload, gql: GraphQLClient, pool: asyncpg.Pool, subject: Subject,
    settings: Settings,
) -> None:
    async with pool.acquire() as connection:
        reference = await workload.fetch(CountingConnection(connection), subject)
    if workload.asker is not None:  # asks as that worker or staff member, or anonymously
        claims = workload.asker(subject, 0)
        token = None if claims is None else mint_token(settings, **claims)
        gql = gql.as_({} if token is None else {"authorization": f"Bearer {token}"})
    if workload.reset is not None:  # `apply`: what the reference wrote, undone
        await workload.reset(pool, subject)
    try:
        data = await gql.ok(workload.query, workload.variables(subject, LABORHUB))
    finally:
        if workload.reset is not None:
            await workload.reset(pool, subject)
    expected = plain(reference, ASYNCPG)
    assert first_difference(expected, plain(data, LABORHUB)) is None
    # Not vacuous: every workload reads rows of the tiny data set (or counts some).
    assert count_objects(list(reference.values())) > 0 or counts_rows(reference)


def counts_rows(value: object) -> bool:
    """Whether a result holds a `totalCount` above 0 (a statistic selects no objects)."""
    if isinstance(value, dict):
        return value.get("totalCount", 0) > 0 or any(counts_rows(v) for v in value.values())
    return isinstance(value, list) and any(counts_rows(item) for item in value)


def cached_node(spec: PeerSpec) -> tuple[str, str]:
    """The Node.js the bench would run `spec` on, without installing anything."""
    home = installed(NODE_UNIT)
    node = str(home / NODE_IN_UNIT) if home else shutil.which("node")
    if node is None:
        pytest.skip("no Node.js: neither the bench's cached Node 22 nor a `node` on PATH")
    version = node_version(node)
    if node_major(version) < spec.minimum_node:
        pytest.skip(f"{spec.label} needs Node >= {spec.minimum_node}, found {version}")
    return node, version


@pytest.mark.parametrize("spec", PEERS, ids=lambda spec: spec.name)
async def test_postgraphile_answers_what_asyncpg_reads(
    spec: PeerSpec, database_url: str, pool: asyncpg.Pool, subject: Subject, tmp_path: Path
) -> None:
    home = installed(spec.unit)
    if home is None:
        pytest.skip(f"{spec.label} is not in the bench's npm cache (python -m bench installs it)")
    node, version = cached_node(spec)
    with start_peer(spec, node, version, home, database_url, tmp_path) as peer:
        connections = Http1Pool(peer.base_url, 1)
        endpoint = Endpoint(spec.name, connections, peer.pid)
        try:
            checks = [await sanity_check(w, subject, [endpoint], pool) for w in WORKLOADS]
        finally:
            await connections.close()
    assert [check.describe() for check in checks if not check.ok] == []


# --- the load loop's HTTP client -----------------------------------------------------------

BODY = json.dumps({"data": {"ok": True}}).encode()


async def answer_then_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One chunked answer, then the connection closed without a `Connection: close` (as a
    server does with a kept-alive connection that sat idle too long)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lengths = [
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    ]
    await reader.readexactly(lengths[0])
    half = len(BODY) // 2
    chunks = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (BODY[:half], BODY[half:])
    )
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks + b"0\r\n\r\n")
    await writer.drain()
    writer.close()


async def test_the_client_reads_chunks_and_replaces_closed_connections() -> None:
    server = await asyncio.start_server(answer_then_close, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connections = Http1Pool(f"http://127.0.0.1:{port}", 1)
    request = connections.request_bytes("/graphql", b'{"query": "{ ok }"}', {})
    try:
        # The second request goes out on the first one's connection, which the server closed.
        for _ in range(3):
            response = await connections.send(request)
            assert (response.status, response.content) == (200, BODY)
    finally:
        await connections.close()
        server.close()
        await server.wait_closed()


def test_the_client_refuses_what_it_cannot_reach() -> None:
    with pytest.raises(ValueError, match="base_url"):
        Http1Pool("https://127.0.0.1:443", 1)
    with pytest.raises(ValueError, match="size"):
        Http1Pool("http://127.0.0.1:80", 0)


def test_an_anonymous_request_leaves_out_the_pools_credentials() -> None:
    connections = Http1Pool("http://127.0.0.1:80", 1, {"Authorization": "Bearer admin"})
    request = connections.request_bytes("/graphql", b"{}", {"Authorization": None})
    assert b"Authorization" not in request and request.endswith(b"\r\n\r\n{}")


def test_search_matches_where_the_database_keeps_the_keyword(subject: Subject) -> None:
    """Before migration 0012 the title; after it `search_text` (narrowed by its bigrams), on
    the peers and in the SQL alike."""
    assert "title: {includesInsensitive" in pg_search(subject) or subject.search_text
    indexed = dataclasses.replace(subject, search_text=True, search_grams=True)
    assert "searchText: {includes: $keyword}" in pg_search(indexed)
    assert "search_grams @> $3::text[] AND search_text LIKE $2" in search_sql(indexed)
    assert bigrams("电工") == ["电工"] and bigrams("电工证") == ["电工", "工证"]
