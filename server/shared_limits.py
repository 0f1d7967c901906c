"""Rate limits that hold across processes: each process's token buckets (server.ratelimit)
synced through PostgreSQL (db.rate_buckets) every `LABORHUB_RATE_LIMIT_SYNC_SECONDS`, and at
once when a principal has spent half a burst in this process since the last sync.

A sync sends what this process took since the last one, for each limiter (operations per
principal, failed credentials per address), and adopts the shared balances it gets back. It
runs in the background, never in a request: a request costs no statement for its limit. A
sync writes a row per principal that took here and refreshes at most 1,000 more. When
the database cannot be reached the takes are kept for the next sync and each process goes on
limiting alone; at shutdown a last sync hands over what this process took.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from db.rate_buckets import exchange, forget_full
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
