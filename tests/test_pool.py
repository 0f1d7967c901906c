"""Pooled connections survive requests that fail or are cancelled mid-flight.

Against a 1 ms statement timeout the server cancels statements at random points (BEGIN and
ROLLBACK included: a timeout that expires as one statement ends is raised by the next one),
and the client cancels requests at random points (as a disconnect, a timeout or a sibling
resolver's failure does). First mixed requests run through the app (queries, API-key and
persisted-query lookups, partner reads with their audit writes, cursor errors, bad keys,
readiness probes), a fifth of them cancelled; then short transactions on the app's pool, none
cancelled (SQLAlchemy drops the connection of a cancelled statement, stuck or not, which would
hide a stuck one). Afterwards every connection the pool holds must still run a transaction of
its own, and none may be left inside a transaction.

What went wrong before the pool's check-in test (db/session.py): asyncpg marks a connection as
inside a transaction before it sends BEGIN and never clears the mark when BEGIN fails, so every
later transaction on it sent SAVEPOINT outside any transaction block; and when ROLLBACK failed,
asyncpg and SQLAlchemy both forgot the transaction the server still had open, so every later
BEGIN was refused ("manually started transaction"). Either connection went back to the pool
and failed every request that got it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.types import Receive, Scope, Send

from db.pii import PersonalDataVault
from db.session import create_engine, sync_url
from server.app import create_app
from server.auth import create_api_key, mint_token
from server.settings import Settings

# Cancelled resolvers leave coroutines that were never awaited: expected here.
pytestmark = pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")

POOL_SIZE = 6
REQUEST_ROUNDS = 100
CONCURRENCY = 8
TRANSACTION_SECONDS = 5.0

BAD_CURSOR = '{ jobs(first: 2, after: "not-a-cursor") { nodes { id } } }'
JOBS = "{ jobs(first: 5) { totalCount nodes { id title employer { name } region { code } } } }"
PARTNER_READ = "{ workers(first: 5) { nodes { id name } } jobs(first: 3) { nodes { id } } }"


@asynccontextmanager
async def statement_timeout(database_url: str, value: str) -> AsyncIterator[None]:
    """The database's default `statement_timeout` for connections made within the block."""
    observer = await asyncpg.connect(sync_url(database_url))
    try:
        name = await observer.fetchval("SELECT quote_ident(current_database())")
        await observer.execute(f"ALTER DATABASE {name} SET statement_timeout = '{value}'")
        try:
            yield
        finally:
            await observer.execute(f"ALTER DATABASE {name} RESET statement_timeout")
    finally:
        await observer.close()


@asynccontextmanager
async def app_and_engine(
    settings: Settings, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, AsyncEngine]]:
    """The real app over HTTP (no rate limits, the database's statement timeout), its engine."""
    app = create_app(
        dataclasses.replace(
            settings,
            db_pool_size=POOL_SIZE,
            db_max_overflow=0,
            statement_timeout_ms=0,
            rate_limit_per_minute=0,
        ),
        database_url,
    )
    async with app.router.lifespan_context(app) as state:
        assert state is not None

        async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
            scope["state"] = dict(state)
            await app(scope, receive, send)

        transport = httpx.ASGITransport(app=with_state)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http, state["engine"]


def random_request(
    http: httpx.AsyncClient, admin: str, partner_key: str, rng: random.Random
) -> Awaitable[httpx.Response]:
    bad_key = f"lh_{rng.getrandbits(32):08x}_{'x' * 43}"
    unknown = {"persistedQuery": {"version": 1, "sha256Hash": f"{rng.getrandbits(256):064x}"}}
    graphql: list[tuple[dict[str, object], dict[str, str]]] = [
        ({"query": JOBS}, {"authorization": admin}),
        ({"query": JOBS}, {"x-api-key": partner_key}),
        ({"query": PARTNER_READ}, {"x-api-key": partner_key}),
        ({"query": BAD_CURSOR}, {"authorization": admin}),
        ({"query": "{ __typename }"}, {"x-api-key": bad_key}),
        ({"extensions": unknown}, {}),
        ({"query": JOBS}, {}),
    ]
    choice = rng.randrange(len(graphql) + 1)
    if choice == len(graphql):
        return http.get("/readyz")
    body, headers = graphql[choice]
    return http.post("/graphql", json=body, headers=headers)


async def requests_cancelled_at_random(
    http: httpx.AsyncClient, settings: Settings, partner_key: str, rng: random.Random
) -> None:
    admin = f"Bearer {mint_token(settings, role='admin', subject='pool')}"
    for _ in range(REQUEST_ROUNDS):
        tasks = [
            asyncio.ensure_future(random_request(http, admin, partner_key, rng))
            for _ in range(CONCURRENCY)
        ]
        await asyncio.sleep(rng.uniform(0.0, 0.01))
        for task in tasks:
            await asyncio.sleep(rng.uniform(0.0, 0.002))
            if rng.random() < 0.2:
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def rows_per_millisecond(database_url: str) -> int:
    """How many rows of `generate_series` the server counts in a millisecond."""
    connection = await asyncpg.connect(sync_url(database_url))
    try:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            await connection.fetchval("SELECT count(*) FROM generate_series(1, 200000)")
            timings.append(time.perf_counter() - started)
    finally:
        await connection.close()
    return max(1, int(200_000 / (min(timings) * 1000)))


async def transactions_ending_near_the_timeout(
    engine: AsyncEngine, rows_per_ms: int, rng: random.Random
) -> None:
    """For a while, POOL_SIZE concurrent transactions whose statement takes 0.8 to 1 times the
    1 ms timeout: the timeout often expires as the statement ends, and ROLLBACK gets it."""

    async def one() -> None:
        opened = engine.begin() if rng.random() < 0.2 else engine.connect()
        async with opened as connection:
            rows = int(rows_per_ms * rng.uniform(0.8, 1.0))
            await connection.execute(text(f"SELECT count(*) FROM generate_series(1, {rows})"))

    deadline = time.monotonic() + TRANSACTION_SECONDS
    while time.monotonic() < deadline:
        await asyncio.gather(*(one() for _ in range(POOL_SIZE)), return_exceptions=True)


async def lift_statement_timeout(connection: AsyncConnection) -> None:
    """`SET statement_timeout = 0` on a connection made under the 1 ms default, outside any
    transaction, so the check below fails only for a stuck connection (retried: the SET may
    time out itself)."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert isinstance(driver, asyncpg.Connection)
    for _ in range(100):
        try:
            await driver.execute("SET statement_timeout = 0")
            return
        except asyncpg.QueryCanceledError:
            continue


async def pooled_connections_serve(engine: AsyncEngine, database_url: str) -> list[str]:
    """Problems of the connections the pool holds: each runs BEGIN; SELECT; COMMIT of its own,
    all checked out at once, and none is left inside a transaction afterwards."""
    problems: list[str] = []
    pids: list[int] = []
    async with AsyncExitStack() as stack:
        connections = [
            await stack.enter_async_context(engine.connect()) for _ in range(POOL_SIZE)
        ]
        for index, connection in enumerate(connections):
            try:
                await lift_statement_timeout(connection)
                async with connection.begin():
                    found = await connection.execute(text("SELECT pg_backend_pid()"))
                    pids.append(found.scalar_one())
            except Exception as exc:
                problems.append(f"connection {index}: {type(exc).__name__}: {exc}")
    observer = await asyncpg.connect(sync_url(database_url))
    try:
        rows = await observer.fetch(
            "SELECT pid, state, query FROM pg_stat_activity WHERE pid = any($1::int[])", pids
        )
    finally:
        await observer.close()
    return problems + [
        f"backend {row['pid']} left {row['state']!r} after {row['query']!r}"
        for row in rows
        if row["state"] != "idle"
    ]


async def test_failed_and_cancelled_requests_leave_no_stuck_connection(
    settings: Settings, database_url: str
) -> None:
    setup = create_engine(database_url)
    try:
        partner_key = await create_api_key(
            setup, PersonalDataVault(settings.master_key()), partner="pool-test-agency",
            scopes=["workers", "jobs"], regions=["440000"], fields=None, purpose="job-matching",
        )
    finally:
        await setup.dispose()
    async with app_and_engine(settings, database_url) as (http, engine):
        rng = random.Random(9)
        rows_per_ms = await rows_per_millisecond(database_url)
        async with statement_timeout(database_url, "1ms"):
            await requests_cancelled_at_random(http, settings, partner_key, rng)
            await transactions_ending_near_the_timeout(engine, rows_per_ms, rng)
        assert await pooled_connections_serve(engine, database_url) == []
