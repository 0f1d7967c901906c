"""Limits that hold across processes.

Rate limits: each process's token buckets (server.ratelimit)
synced through PostgreSQL (db.rate_buckets) every `LABORHUB_RATE_LIMIT_SYNC_SECONDS`, and at
once when a principal has spent half a burst in this process since the last sync.

A sync sends what this process took since the last one, for each limiter (operations per
principal, failed credentials per address), and adopts the shared balances it gets back. It
runs in the background, never in a request: a request costs no statement for its limit. A
sync writes a row per principal that took here and refreshes at most 1,000 more. When
the database cannot be reached the takes are kept for the next sync and each process goes on
limiting alone; at shutdown a last sync hands over what this process took.

Connections per principal (`ConnectionSlots`): a count of what is open now, not a rate, so
not a token bucket (which neither gives a place back when a socket closes nor notices a
process that died): each open WebSocket connection holds one of its principal's slots, a
session-level advisory lock, the same PostgreSQL locks the writes and the persisted-query
quota use, held on one connection per process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from db.rate_buckets import exchange, forget_full
from db.session import sync_url
from server.ratelimit import TokenBucketLimiter

log = logging.getLogger("laborhub.rate_limits")

SYNC_BATCH = 1_000  # principals per limiter and sync: all that took, then the most recent
FORGET_EVERY = 60  # syncs between deletions of shared buckets that are full again
FINAL_SYNC_SECONDS = 2.0
EARLIEST_RESYNC = 0.05  # seconds between two syncs however hard a limiter is pressed


@dataclass(frozen=True)
class SharedLimit:
    name: str  # the limiter's name in rate_buckets
    limiter: TokenBucketLimiter


class LimitSync:
    """Syncs `limits` with their shared buckets: `sync()` once, `run()` every `interval`."""

    def __init__(self, engine: AsyncEngine, limits: Sequence[SharedLimit], interval: float):
        self.engine = engine
        self.limits = tuple(limits)
        self.interval = interval
        self.syncs = 0
        self._failing = False
        self._wake = asyncio.Event()  # a limiter under pressure, or stopping
        self._stopping = False

    async def sync(self) -> None:
        for limit in self.limits:
            await self._sync(limit)
        self.syncs += 1
        if self.syncs % FORGET_EVERY == 0:
            for limit in self.limits:
                with suppress(Exception):
                    await forget_full(self.engine, limit.name, **_shape(limit.limiter))

    async def run(self) -> None:
        """Sync every `interval`, and at once when a limiter is under pressure (at most every
        `EARLIEST_RESYNC` seconds), until `stop()`, then once more: never cancelled in the
        middle of a sync, which would lose what it was sending."""
        for limit in self.limits:
            limit.limiter.on_pressure = self._wake.set
        try:
            while True:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.interval)
                self._wake.clear()
                await self.sync()
                if self._stopping:
                    return
                # While the database does not answer, pressure does not hurry the next try.
                await asyncio.sleep(self.interval if self._failing else EARLIEST_RESYNC)
        finally:
            for limit in self.limits:
                limit.limiter.on_pressure = None

    def stop(self) -> None:
        """Make `run()` sync once more and return."""
        self._stopping = True
        self._wake.set()

    async def _sync(self, limit: SharedLimit) -> None:
        taken = limit.limiter.take_unsynced(SYNC_BATCH)
        if not taken:
            return
        try:
            balances = await exchange(self.engine, limit.name, taken, **_shape(limit.limiter))
        except Exception as error:  # a background task must outlive any error
            limit.limiter.keep_unsynced(taken)
            if not self._failing:  # once per outage; the class only: no principal is logged
                log.warning(
                    "rate limits not synced (%s); each process limits alone until the "
                    "database answers", type(error).__name__,
                )
            self._failing = True
            return
        if self._failing:
            log.warning("rate limits synced again")
        self._failing = False
        limit.limiter.adopt(balances)


def _shape(limiter: TokenBucketLimiter) -> dict[str, float]:
    return {"capacity": limiter.capacity, "rate": limiter.rate}


@asynccontextmanager
async def shared_limits(
    engine: AsyncEngine, limits: Sequence[SharedLimit], interval: float
) -> AsyncIterator[LimitSync | None]:
    """Sync `limits` in the background while the block runs (`interval <= 0`: never)."""
    if interval <= 0 or not limits:
        yield None
        return
    sync = LimitSync(engine, limits, interval)
    task = asyncio.create_task(sync.run(), name="laborhub-rate-limit-sync")
    try:
        yield sync
    finally:
        sync.stop()  # the task's last sync hands over what this process took
        with suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, FINAL_SYNC_SECONDS)


# --- connections per principal ---------------------------------------------------------------

SLOTS_APPLICATION_NAME = "laborhub-connection-slots"  # in pg_stat_activity
SLOTS_CONNECT_TIMEOUT = 5.0
# One statement per slot tried: a single statement over all of them may evaluate the lock of
# more rows than it returns (a sort does), and a lock taken but not returned is never freed.
TAKE_SLOT = "SELECT pg_try_advisory_lock(hashtextextended($1::text || ':' || $2::int, 0))"
FREE_SLOT = "SELECT pg_advisory_unlock(hashtextextended($1::text || ':' || $2::int, 0))"


@dataclass(frozen=True)
class Lease:
    """A connection's place among its principal's: `slot` is the advisory lock it holds
    (None: counted in this process alone, while the database did not answer)."""

    principal: str
    slot: int | None


class ConnectionSlots:
    """At most `limit` connections per principal across every process and machine.

    Each principal has `limit` slots, each a session-level advisory lock
    (`laborhub-ws:<principal>:<n>`); a process holds the slots of its connections on one
    asyncpg connection of its own, so a process that dies frees them with its session, and
    closing a socket frees its slot at once. When the database does not answer, each process
    counts its own connections alone until it does. When the slot connection was lost, the
    slots still held are taken again at the next admission (one another process took meanwhile
    is logged: the principal is over its limit until a connection closes).
    """

    def __init__(self, dsn: str, limit: int) -> None:
        self.dsn = dsn
        self.limit = limit
        self.held: dict[str, set[int]] = {}  # principal -> the slots this process holds
        self.local: dict[str, int] = {}  # principal -> its connections in this process
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()  # one statement at a time on the slot connection
        self._failing = False

    async def take(self, principal: str) -> Lease | None:
        """A lease for one more connection of `principal`, or None when it has `limit`."""
        async with self._lock:
            try:
                slot = await self._free_slot(await self._connected(), principal)
            except Exception as error:  # the database: each process limits alone
                self._lost(error)
                if self.local.get(principal, 0) >= self.limit:
                    return None
                return self._count(Lease(principal, None))
            self._failing = False
            if slot is None:
                return None
            self.held.setdefault(principal, set()).add(slot)
            return self._count(Lease(principal, slot))

    async def release(self, lease: Lease) -> None:
        async with self._lock:
            count = self.local.get(lease.principal, 0) - 1
            if count > 0:
                self.local[lease.principal] = count
            else:
                self.local.pop(lease.principal, None)
            if lease.slot is None:
                return
            held = self.held.get(lease.principal, set())
            held.discard(lease.slot)
            if not held:
                self.held.pop(lease.principal, None)
            connection = self._connection
            if connection is None or connection.is_closed():
                return  # its session ended, and the lock with it
            try:
                await connection.fetchval(FREE_SLOT, _lock_name(lease.principal), lease.slot)
            except Exception as error:
                self._lost(error)

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                with suppress(Exception):
                    await self._connection.close(timeout=2)
                self._connection = None

    async def _free_slot(self, connection: asyncpg.Connection, principal: str) -> int | None:
        """The first of the principal's slots this process does not hold (a session takes its
        own lock again) whose lock it could take, now taken; None when all are taken."""
        held = self.held.get(principal, set())
        for slot in range(self.limit):
            if slot not in held and await connection.fetchval(
                TAKE_SLOT, _lock_name(principal), slot
            ):
                return slot
        return None

    def _count(self, lease: Lease) -> Lease:
        self.local[lease.principal] = self.local.get(lease.principal, 0) + 1
        return lease

    async def _connected(self) -> asyncpg.Connection:
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        self._connection = await asyncpg.connect(
            self.dsn, timeout=SLOTS_CONNECT_TIMEOUT,
            server_settings={"application_name": SLOTS_APPLICATION_NAME},
        )
        for principal, slots in self.held.items():
            for slot in slots:
                if not await self._connection.fetchval(TAKE_SLOT, _lock_name(principal), slot):
                    log.warning("a connection slot was taken elsewhere while ours was lost")
        return self._connection

    def _lost(self, error: Exception) -> None:
        if not self._failing:  # once per outage; the class only: no principal is logged
            log.warning(
                "connection slots not shared (%s); each process counts its own connections "
                "until the database answers", type(error).__name__,
            )
        self._failing = True


def _lock_name(principal: str) -> str:
    return f"laborhub-ws:{principal}"


@asynccontextmanager
async def connection_slots(database_url: str, limit: int) -> AsyncIterator[ConnectionSlots]:
    """`ConnectionSlots` for the block; its connection (opened at the first admission) is
    closed at the end, which frees every slot this process held."""
    slots = ConnectionSlots(sync_url(database_url), limit)
    try:
        yield slots
    finally:
        await slots.close()
