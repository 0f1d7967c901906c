"""Replica: a streaming replica that answers queries, with a circuit breaker and a watch of
how far it has replayed the primary's write-ahead log.

- Write positions are the primary's WAL positions (`pg_lsn`, spelled `16/B374D848`): after a
  write commits, `write_position(primary)` is at or past its commit record, and once the
  replica's `pg_last_wal_replay_lsn()` has passed it, the replica shows the write.
- `replayed(position)` says whether the replica has got there, waiting at most
  `wait_seconds`: however many requests wait, one task polls the replica for them all.
- The breaker: a replica that could not be reached is skipped for `retry_seconds`; then one
  read tries it again (the others keep reading from the primary) and, when it answers, all
  reads go back to it. Each change is logged once, not per request.

Nothing here lives longer than the process or differs between processes in a way that matters:
the breaker and the last replay position seen are a cache of the replica's state; what a client
wrote is in the position it sends back.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
import time
from typing import Any

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.session import database_unavailable, reader_of
from db.statement_pool import PoolTimeout, StatementPool

log = logging.getLogger("laborhub.db")

_POSITION = re.compile(r"\A([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})\Z")
POLL_FIRST_SECONDS = 0.002
POLL_MAX_SECONDS = 0.05
STATUS_TIMEOUT_SECONDS = 2.0


class BadWritePosition(ValueError):
    """A write position that is not one the server hands out."""


def parse_position(value: str) -> int:
    """The WAL position `X/Y` (hexadecimal, as PostgreSQL spells a `pg_lsn`) as a number."""
    found = _POSITION.match(value.strip())
    if found is None:
        raise BadWritePosition(
            f"{value[:40]!r} is not a write position (two hexadecimal numbers like 0/16B3748)"
        )
    return int(found[1], 16) << 32 | int(found[2], 16)


def format_position(position: int) -> str:
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


async def write_position(engine: AsyncEngine) -> int:
    """The primary's WAL position now: at or past every commit made before this call."""
    async with reader_of(engine).connect() as connection:
        value = (await connection.execute(text("SELECT pg_current_wal_lsn()::text"))).scalar()
    return parse_position(str(value))


class Replica:
    """The replica's engine and statement pool (as the primary has them), its breaker and
    its replay watch (see the module)."""

    def __init__(
        self,
        engine: AsyncEngine,
        statements: StatementPool | None = None,
        *,
        wait_seconds: float = 0.5,
        retry_seconds: float = 5.0,
    ) -> None:
        self.engine = engine
        self.statements = statements
        self.wait_seconds = wait_seconds
        self.retry_seconds = retry_seconds
        self._down_until: float | None = None  # None: up; else skipped until then
        self._replayed = 0  # the furthest replay position seen
        self._waiters: list[tuple[int, asyncio.Future[bool]]] = []
        self._watch: asyncio.Task[None] | None = None

    # --- the breaker ----------------------------------------------------------------------

    @property
    def down(self) -> bool:
        return self._down_until is not None

    def available(self) -> bool:
        """Whether a read may try the replica now. Once the breaker's time is up, the caller
        that asks first tries it, and the others wait for that try's outcome."""
        if self._down_until is None:
            return True
        now = time.monotonic()
        if now < self._down_until:
            return False
        self._down_until = now + self.retry_seconds  # this caller tries; the others don't
        return True

    def failed(self, exc: BaseException) -> None:
        """The replica could not be reached: skip it for `retry_seconds`."""
        if self._down_until is None:
            log.warning(
                "The read replica is unavailable (%s); queries read from the primary, "
                "trying the replica again every %g s",
                describe(exc), self.retry_seconds,
            )
        self._down_until = time.monotonic() + self.retry_seconds

    def answered(self) -> None:
        """The replica answered: reads go to it again."""
        if self._down_until is not None:
            self._down_until = None
            log.info("The read replica answers again; queries read from it")

    # --- replay -----------------------------------------------------------------------------

    async def replayed(self, position: int) -> bool:
        """Whether the replica has replayed the WAL up to `position`, waiting for it at most
        `wait_seconds`; False also when it can't tell (it can't be reached, or is no longer a
        standby). The caller has asked `available()`."""
        if position <= self._replayed:
            return True
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiters.append((position, waiter))
        if self._watch is None or self._watch.done():
            # A context of its own: the polls are no statement of the request that started it.
            self._watch = asyncio.create_task(self._watch_replay(), context=contextvars.Context())
        try:
            async with asyncio.timeout(self.wait_seconds):
                return await waiter
        except TimeoutError:
            return False
        finally:
            if not waiter.done():
                waiter.cancel()

    async def _watch_replay(self) -> None:
        """Poll the replay position while requests wait for one, answering each waiter."""
        delay = POLL_FIRST_SECONDS
        try:
            while True:
                self._waiters = [(p, w) for p, w in self._waiters if not w.done()]
                if not self._waiters:
                    return
                replayed = await self._replay_position()
                self.answered()
                if replayed is None:  # not (or no longer) a standby: nothing to compare
                    self._settle(False)
                    return
                self._replayed = max(self._replayed, replayed)
                for position, waiter in self._waiters:
                    if position <= self._replayed and not waiter.done():
                        waiter.set_result(True)
                await asyncio.sleep(delay)
                delay = min(delay * 2, POLL_MAX_SECONDS)
        except Exception as exc:
            if database_unavailable(exc):
                self.failed(exc)
            else:
                log.warning("Could not read the replica's replay position", exc_info=exc)
            self._settle(False)

    def _settle(self, value: bool) -> None:
        waiters, self._waiters = self._waiters, []
        for _, waiter in waiters:
            if not waiter.done():
                waiter.set_result(value)

    async def _replay_position(self) -> int | None:
        sql = "SELECT pg_last_wal_replay_lsn()::text"
        if self.statements is not None:
            value = await self.statements.run(lambda connection: connection.fetchval(sql))
        else:
            async with reader_of(self.engine).connect() as connection:
                value = (await connection.execute(text(sql))).scalar()
        return None if value is None else parse_position(str(value))

    # --- state, for /readyz -----------------------------------------------------------------

    async def status(self, primary_position: int | None) -> dict[str, Any]:
        """`{"status": "ok", "replayPosition": ..., "lagBytes": ...}` (behind the primary's
        `primary_position`), or `{"status": "unavailable", "reason": ...}`; a probe, so it
        moves the breaker too."""
        try:
            async with asyncio.timeout(STATUS_TIMEOUT_SECONDS):
                replayed = await self._replay_position()
        except Exception as exc:
            if database_unavailable(exc) or isinstance(exc, TimeoutError):
                self.failed(exc)
            return {"status": "unavailable", "reason": describe(exc)}
        self.answered()
        if replayed is None:
            return {"status": "unavailable", "reason": "not a standby (not in recovery)"}
        self._replayed = max(self._replayed, replayed)
        state: dict[str, Any] = {"status": "ok", "replayPosition": format_position(replayed)}
        if primary_position is not None:
            state["lagBytes"] = max(0, primary_position - replayed)
        return state

    async def close(self) -> None:
        self._settle(False)
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        if self.statements is not None:
            await self.statements.close()
        await self.engine.dispose()


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the replica could not be reached (worth the breaker), not that its
    pool was busy for a moment (a read then goes to the primary, and the replica stays on)."""
    return database_unavailable(exc) and not _in_chain(exc, (PoolTimeout, sa_exc.TimeoutError))


RECOVERY_CONFLICT = {"40001", "40P01"}
"""SQLSTATEs a standby cancels a query with when replay needs what it reads
("canceling statement due to conflict with recovery"): the primary can answer it."""


def recovery_conflict(exc: BaseException) -> bool:
    return any(
        getattr(error, "sqlstate", None) in RECOVERY_CONFLICT for error in _chain(exc)
    ) or _in_chain(exc, (asyncpg.SerializationError, asyncpg.DeadlockDetectedError))


def describe(exc: BaseException) -> str:
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message}"[:200] if message else type(exc).__name__


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not e for e in seen):
        seen.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else (
            current.__cause__ or current.__context__
        )
    return seen


def _in_chain(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    return any(isinstance(error, kinds) for error in _chain(exc))
