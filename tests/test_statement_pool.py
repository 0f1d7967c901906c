"""The compiled reads' connection pool (db/statement_pool.py) against a real PostgreSQL: its
cap, its queue, and what it does with connections that failed, were cancelled or were lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.session import create_statement_pool, sync_url
from db.statement_pool import LOST, PoolClosed, PoolTimeout, StatementPool

UNREACHABLE_DB = "postgresql://nobody@127.0.0.1:1/nothing"


@pytest.fixture
async def observer(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(sync_url(database_url))
    yield connection
    await connection.close()


def named_pool(database_url: str, size: int) -> tuple[StatementPool, str]:
    """The app's statement pool, its connections under an application name of their own."""
    name = f"pool-test-{uuid.uuid4().hex[:12]}"
    return create_statement_pool(f"{database_url}?application_name={name}", size=size), name


async def backends(observer: asyncpg.Connection, name: str) -> int:
    return int(
        await observer.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name
        )
    )


async def backends_settle(observer: asyncpg.Connection, name: str, expected: int) -> bool:
    """Whether the pool's backends come to number `expected` within 5 s (ended sessions
    leave the server's view a moment after the client closes them)."""
    for _ in range(50):
        if await backends(observer, name) == expected:
            return True
        await asyncio.sleep(0.1)
    return await backends(observer, name) == expected


async def backend_pid(pool: StatementPool) -> int:
    async with pool.acquire() as connection:
        return int(await connection.fetchval("SELECT pg_backend_pid()"))


async def test_never_more_connections_than_its_size(
    database_url: str, observer: asyncpg.Connection
) -> None:
    pool, name = named_pool(database_url, 3)
    most = 0

    async def statement() -> int:
        nonlocal most
        async with pool.acquire() as connection:
            most = max(most, pool.open_connections)
            return int(await connection.fetchval("SELECT pg_backend_pid() FROM pg_sleep(0.01)"))

    pids = await asyncio.gather(*(statement() for _ in range(24)))
    assert most == 3
    assert len(set(pids)) == 3
    assert await backends(observer, name) == 3
    assert pool.idle_connections == 3
    await pool.close()
    assert await backends(observer, name) == 0


async def test_a_statement_error_keeps_the_connection(database_url: str) -> None:
    pool = create_statement_pool(database_url, size=1)
    before = await backend_pid(pool)
    with pytest.raises(asyncpg.DivisionByZeroError):
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT 1 / 0")
    assert await backend_pid(pool) == before
    await pool.close()


async def test_a_lost_connection_is_replaced(
    database_url: str, observer: asyncpg.Connection
) -> None:
    pool = create_statement_pool(database_url, size=1)
    lost = await backend_pid(pool)
    await observer.execute("SELECT pg_terminate_backend($1)", lost)
    with pytest.raises(LOST):  # the session's end, read in some form
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT 1")
    replaced = await backend_pid(pool)
    assert replaced != lost
    assert pool.open_connections == 1
    await pool.close()


async def test_a_read_survives_the_loss_of_every_pooled_connection(
    database_url: str, observer: asyncpg.Connection
) -> None:
    """As after a restart of the database: each idle connection is dead; the read retries
    once, on a new connection, and the dead ones are dropped with the first."""
    pool = create_statement_pool(database_url, size=3)
    taken = [await pool.take() for _ in range(3)]
    pids = [connection.get_server_pid() for connection in taken]
    for connection in taken:
        pool.give_back(connection)
    await observer.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) pid", pids)
    await asyncio.sleep(0.1)

    async def read(connection: asyncpg.Connection) -> int:
        return int(await connection.fetchval("SELECT pg_backend_pid()"))

    assert await pool.run(read) not in pids
    assert pool.open_connections == 1
    assert await pool.run(read) not in pids
    await pool.close()


async def test_a_refused_read_is_not_retried(database_url: str) -> None:
    pool = create_statement_pool(database_url, size=1)
    runs = 0

    async def read(connection: asyncpg.Connection) -> int:
        nonlocal runs
        runs += 1
        return int(await connection.fetchval("SELECT 1 / 0"))

    with pytest.raises(asyncpg.DivisionByZeroError):
        await pool.run(read)
    assert runs == 1
    assert pool.open_connections == 1
    await pool.close()


async def test_a_cancelled_statement_drops_its_connection(
    database_url: str, observer: asyncpg.Connection
) -> None:
    pool, name = named_pool(database_url, 1)

    async def slow() -> None:
        async with pool.acquire() as connection:
            await connection.fetchval("SELECT pg_sleep(30)")

    task = asyncio.ensure_future(slow())
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert pool.open_connections == 0
    async with asyncio.timeout(5):  # not queued behind the sleep
        assert await backend_pid(pool) > 0
    assert await backends_settle(observer, name, 1)  # the terminated backend goes away
    await pool.close()


async def test_a_cancelled_wait_leaves_no_hole(database_url: str) -> None:
    pool = create_statement_pool(database_url, size=1)
    holder = await pool.take()
    waiting = asyncio.ensure_future(pool.take())
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    next_in_line = asyncio.ensure_future(backend_pid(pool))
    await asyncio.sleep(0.05)
    assert not next_in_line.done()
    pool.give_back(holder)
    async with asyncio.timeout(5):
        assert await next_in_line > 0
    assert pool.open_connections == 1
    await pool.close()


async def test_waiters_are_served_in_turn(database_url: str) -> None:
    pool = create_statement_pool(database_url, size=1)
    holder = await pool.take()
    order: list[int] = []

    async def wait_then_note(index: int) -> None:
        async with pool.acquire():
            order.append(index)

    waiters = [asyncio.ensure_future(wait_then_note(index)) for index in range(5)]
    await asyncio.sleep(0.05)
    pool.give_back(holder)
    await asyncio.gather(*waiters)
    assert order == [0, 1, 2, 3, 4]
    await pool.close()


async def test_no_database_fails_fast_and_frees_its_place() -> None:
    pool = create_statement_pool(UNREACHABLE_DB, size=1)
    for _ in range(3):
        with pytest.raises(OSError):
            async with asyncio.timeout(5):
                await pool.take()
        assert pool.open_connections == 0
    await pool.close()


async def test_closed_pool_refuses_and_closes_what_comes_back(
    database_url: str, observer: asyncpg.Connection
) -> None:
    pool, name = named_pool(database_url, 2)
    kept = await pool.take()
    await backend_pid(pool)  # a second connection, idle
    assert await backends(observer, name) == 2
    waiting_pool, _ = named_pool(database_url, 1)
    held = await waiting_pool.take()
    waiter = asyncio.ensure_future(waiting_pool.take())
    await asyncio.sleep(0.05)

    await pool.close()
    await waiting_pool.close()
    with pytest.raises(PoolClosed):
        await pool.take()
    with pytest.raises(PoolClosed):
        await waiter
    pool.give_back(kept)
    waiting_pool.give_back(held)
    assert kept.is_closed() and held.is_closed()
    assert await backends_settle(observer, name, 0)
    assert pool.open_connections == 0


async def test_a_wait_past_the_timeout_fails_and_leaves_no_hole(database_url: str) -> None:
    pool = create_statement_pool(database_url, size=1, pool_timeout_seconds=0.2)
    try:
        held = await pool.take()
        with pytest.raises(PoolTimeout, match=r"within 0\.2 s"):
            await pool.take()
        assert pool.waiting == 0
        pool.give_back(held)
        async with pool.acquire() as connection:  # the connection came back to the pool
            assert connection is held
            assert await connection.fetchval("SELECT 1") == 1
    finally:
        await pool.close()
