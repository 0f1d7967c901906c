"""Rate limits that hold across processes: each process's buckets synced through the
`rate_buckets` table of the real database (server.shared_limits, db.rate_buckets).

Every test uses principals of its own (a fresh uuid), so buckets other tests left in the
shared table never meet these.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from server.auth import mint_token
from server.ratelimit import TokenBucketLimiter
from server.settings import Settings
from server.shared_limits import LimitSync, SharedLimit
from tests.conftest import serving

PER_MINUTE = 6  # a token every 10 s: refills hardly move the balances during a test
BURST = 5
QUERY = {"query": "{ __typename }"}


def limiter() -> TokenBucketLimiter:
    return TokenBucketLimiter(PER_MINUTE, BURST)


def process(engine: AsyncEngine, name: str, bucket: TokenBucketLimiter) -> LimitSync:
    """One process's view: its own buckets, synced with the table by `sync()`."""
    return LimitSync(engine, [SharedLimit(name, bucket)], interval=3600)


@dataclass(frozen=True)
class TwoProcesses:
    """Two processes' buckets of one fresh limiter, and a principal new to both."""

    principal: str
    a: TokenBucketLimiter
    b: TokenBucketLimiter
    sync_a: LimitSync
    sync_b: LimitSync

    @classmethod
    def on(cls, engine: AsyncEngine) -> TwoProcesses:
        name, a, b = fresh("test"), limiter(), limiter()
        return cls(fresh("worker"), a, b, process(engine, name, a), process(engine, name, b))


def fresh(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


async def test_a_principal_spending_in_one_process_is_refused_in_another(
    engine: AsyncEngine,
) -> None:
    two = TwoProcesses.on(engine)
    a, b, principal = two.a, two.b, two.principal
    assert b.take(principal) is None  # b knows the principal from now on
    await two.sync_b.sync()
    assert [a.take(principal) for _ in range(4)] == [None] * 4  # 5 - 1 - 4 = 0 left
    await two.sync_a.sync()
    await two.sync_b.sync()
    wait = b.take(principal)
    assert wait is not None and wait > 9, "b still had its own bucket's tokens"
    another = fresh("worker")  # the limit is per principal
    assert b.take(another) is None


async def test_what_processes_overspend_between_syncs_is_a_debt_all_of_them_repay(
    engine: AsyncEngine,
) -> None:
    two = TwoProcesses.on(engine)
    a, b, principal = two.a, two.b, two.principal
    # Both meet the principal first between syncs, so each spends a full bucket.
    assert [a.take(principal) for _ in range(BURST)] == [None] * BURST
    assert [b.take(principal) for _ in range(BURST)] == [None] * BURST
    await two.sync_a.sync()
    await two.sync_b.sync()
    await two.sync_a.sync()
    for bucket in (a, b):
        wait = bucket.take(principal)
        # 5 tokens owed and 1 wanted, at one token every 10 s: about a minute
        assert wait is not None and 55 < wait <= 60, wait
    balance = await shared_balance(engine, two.sync_a.limits[0].name, principal)
    assert -BURST - 0.5 < balance < -BURST + 0.5


async def test_takes_wait_for_the_next_sync_while_the_database_does_not_answer(
    engine: AsyncEngine,
) -> None:
    name, principal = fresh("test"), fresh("worker")
    bucket = limiter()
    dead = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:9/none")
    try:
        assert [bucket.take(principal) for _ in range(3)] == [None] * 3
        await process(dead, name, bucket).sync()  # fails, says so, raises nothing
        assert bucket.take(principal) is None  # still limiting alone: 1 left here
    finally:
        await dead.dispose()
    await process(engine, name, bucket).sync()  # the database is back: all 4 go out
    assert 0.5 < await shared_balance(engine, name, principal) < 1.5


async def test_apps_share_the_limit_and_hand_over_their_spending_at_shutdown(
    settings: Settings, database_url: str, engine: AsyncEngine
) -> None:
    """Two apps on one database (as two `serve --workers` processes): one that served a
    caller stops; the other, which had served the caller only once, refuses it next."""
    shared = replace(
        settings, rate_limit_per_minute=PER_MINUTE, rate_limit_burst=BURST,
        rate_limit_sync_seconds=0.05,
    )
    subject = fresh("limits")
    caller = {"authorization": f"Bearer {mint_token(settings, role='admin', subject=subject)}"}
    principal = f"admin:{subject}"
    async with serving(shared, database_url) as second:
        assert (await second.post("/graphql", json=QUERY, headers=caller)).status_code == 200
        async with serving(shared, database_url) as first:
            for _ in range(BURST - 1):
                response = await first.post("/graphql", json=QUERY, headers=caller)
                assert response.status_code == 200
        stopped = time.time()  # `first` has handed over its 4 at shutdown
        await synced_after(engine, principal, stopped)  # `second` sent its 1, took the rest
        assert await shared_balance(engine, "operations", principal) < 0.5
        refused = await second.post("/graphql", json=QUERY, headers=caller)
    assert refused.status_code == 429, "the second app still spent its own bucket"
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def shared_balance(engine: AsyncEngine, name: str, principal: str) -> float:
    async with engine.connect() as connection:
        tokens = await connection.scalar(
            text("SELECT tokens FROM rate_buckets WHERE limiter = :n AND principal = :p"),
            {"n": name, "p": principal},
        )
    assert tokens is not None, "no shared bucket"
    return float(tokens)


async def synced_after(engine: AsyncEngine, principal: str, moment: float) -> None:
    """Until a sync has touched the principal's shared bucket after `moment`."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with engine.connect() as connection:
            updated = await connection.scalar(
                text(
                    "SELECT extract(epoch FROM updated_at) FROM rate_buckets"
                    " WHERE limiter = 'operations' AND principal = :p"
                ),
                {"p": principal},
            )
        if updated is not None and float(updated) > moment + 0.01:
            return
        await asyncio.sleep(0.02)
    pytest.fail("the second app did not sync within 10 s")


async def test_half_a_burst_spent_in_a_process_syncs_it_at_once(engine: AsyncEngine) -> None:
    """A sync due only in an hour happens as soon as a principal has spent half a burst."""
    name, principal = fresh("test"), fresh("worker")
    bucket = limiter()
    sync = LimitSync(engine, [SharedLimit(name, bucket)], interval=3600)
    task = asyncio.create_task(sync.run())
    try:
        assert [bucket.take(principal) for _ in range(BURST // 2)] == [None] * (BURST // 2)
        await asyncio.sleep(0.2)
        assert sync.syncs == 0, "synced before half a burst was spent"
        assert bucket.take(principal) is None  # 3 of 5: past half
        deadline = time.monotonic() + 10
        while sync.syncs == 0:
            assert time.monotonic() < deadline, "no sync within 10 s of the pressure"
            await asyncio.sleep(0.02)
        assert 1.5 < await shared_balance(engine, name, principal) < 2.5
    finally:
        sync.stop()
        await asyncio.wait_for(task, 10)
