"""StatementPool: a few asyncpg connections for single statements in autocommit (the compiled
reads), checked out and in for next to nothing.

asyncpg's own pool does more than these statements need: a reset query or callback, an idle
timer armed and cancelled, a shielded release and timeouts on every checkout. On a one-row read
that was a third of the app's Python. What stays:

- at most `size` connections, each made on first need (the app starts without a database);
- the most recently used idle connection first (its caches are warm);
- a checkout beyond `size` waits, first come first served;
- a connection that failed in any way but a PostgreSQL error (the connection was lost, the
  statement's task was cancelled or timed out mid-flight), or that was closed, is dropped, and
  the next checkout connects anew: service resumes by itself when the database is back. A
  PostgreSQL error (a refused statement, a statement timeout) leaves the connection as it was:
  in autocommit no transaction stays open behind it;
- `run` retries a read once on a new connection when the one it got was lost, so a restart
  of the database costs the requests in flight at that moment, not one per pooled connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TypeVar

import asyncpg

log = logging.getLogger("laborhub.db")

Connect = Callable[[], Awaitable[asyncpg.Connection]]
T = TypeVar("T")


class PoolClosed(RuntimeError):
    """A checkout from a pool that was closed (the app is stopping)."""


class PoolTimeout(TimeoutError):
    """No connection came free within the pool's wait timeout."""


class StatementPool:
    def __init__(
        self,
        connect: Connect,
        size: int,
        *,
        wait_timeout: float | None = None,
        in_transactions: bool = False,
    ) -> None:
        if size < 1:
            raise ValueError(f"a statement pool needs at least one connection, not {size}")
        self._connect = connect
        self.size = size
        self.wait_timeout = wait_timeout  # None: wait as long as it takes
        self.in_transactions = in_transactions  # `run` in a read-only transaction
        self._idle: list[asyncpg.Connection] = []
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._open = 0  # connections made, or being made, and not yet dropped
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._open

    @property
    def idle_connections(self) -> int:
        return len(self._idle)

    @property
    def in_use(self) -> int:
        """Connections checked out (or being made for a checkout)."""
        return self._open - len(self._idle)

    @property
    def waiting(self) -> int:
        """Checkouts waiting for a connection to come back."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    def acquire(self) -> Checkout:
        """`async with pool.acquire() as connection:` one connection, for the block."""
        return Checkout(self)

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`work(connection)` on one of the pool's connections, and once more on a new
        connection when that one turns out lost (the database restarted, or ended the
        session): every idle connection is dropped then too, as likely lost the same way.
        Only for work that may run twice (reads)."""
        for attempt in (1, 2):
            connection = await self.take()
            try:
                if self.in_transactions:
                    async with connection.transaction(readonly=True):
                        result = await work(connection)
                else:
                    result = await work(connection)
            except BaseException as exc:
                lost = is_lost(connection, exc)
                self.give_back(connection, failed=lost or failed_by(exc))
                if lost and attempt == 1:
                    log.info("A statement connection was lost (%s); retrying", type(exc).__name__)
                    self._drop_idle()
                    continue
                raise
            self.give_back(connection)
            return result
        raise AssertionError("unreachable")

    async def take(self) -> asyncpg.Connection:
        """A connection for the caller alone until `give_back`."""
        while True:
            if self._closed:
                raise PoolClosed("the statement pool is closed")
            while self._idle:
                connection = self._idle.pop()
                if not connection.is_closed():
                    return connection
                self._open -= 1
            if self._open < self.size:
                return await self._new_connection()
            connection = await self._wait()
            if connection is not None:
                return connection
            # None: a connection was dropped, so there is room to connect; go round again.

    def give_back(self, connection: asyncpg.Connection, *, failed: bool = False) -> None:
        """Return a connection taken with `take`; `failed`: drop it (see the module)."""
        if failed or self._closed or connection.is_closed():
            self._drop(connection)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    async def close(self) -> None:
        """Close the idle connections; those checked out close as they come back."""
        self._closed = True
        idle, self._idle = self._idle, []
        self._open -= len(idle)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(PoolClosed("the statement pool is closed"))
        for connection in idle:
            try:
                await connection.close(timeout=2)
            except Exception:
                connection.terminate()

    async def _new_connection(self) -> asyncpg.Connection:
        self._open += 1
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._wake_one(None)
            raise

    async def _wait(self) -> asyncpg.Connection | None:
        waiter: asyncio.Future[asyncpg.Connection | None] = (
            asyncio.get_running_loop().create_future()
        )
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self.wait_timeout):
                return await waiter
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():  # handed over as the time ran out
                return waiter.result()
            with contextlib.suppress(ValueError):
                self._waiters.remove(waiter)
            raise PoolTimeout(
                f"no connection came free within {self.wait_timeout:g} s "
                f"(all {self.size} in use)"
            ) from None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                handed = waiter.result()  # handed over just as the wait was cancelled
                if handed is None:
                    self._wake_one(None)
                else:
                    self.give_back(handed)
            else:
                with contextlib.suppress(ValueError):  # already handed over
                    self._waiters.remove(waiter)
            raise

    def _drop_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            self._drop(connection)

    def _drop(self, connection: asyncpg.Connection) -> None:
        self._open -= 1
        if not connection.is_closed():
            connection.terminate()
        if not self._closed:
            self._wake_one(None)

    def _wake_one(self, value: asyncpg.Connection | None) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(value)
                return


class Checkout:
    """One connection from a `StatementPool` for an `async with` block."""

    __slots__ = ("_connection", "_pool")

    def __init__(self, pool: StatementPool) -> None:
        self._pool = pool
        self._connection: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        self._connection = await self._pool.take()
        return self._connection

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        connection, self._connection = self._connection, None
        assert connection is not None
        failed = exc is not None and (failed_by(exc) or is_lost(connection, exc))
        self._pool.give_back(connection, failed=failed)


def failed_by(exc: BaseException) -> bool:
    """Whether a connection that raised `exc` is in doubt: anything but a PostgreSQL error
    (a refused statement, a statement timeout) may have left it mid-protocol."""
    return not isinstance(exc, asyncpg.PostgresError)


def is_lost(connection: asyncpg.Connection, exc: BaseException) -> bool:
    """Whether `exc` says the connection itself is gone (not the statement refused)."""
    return connection.is_closed() or isinstance(exc, LOST)


LOST = (
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.AdminShutdownError,  # the server ended the session (pg_terminate_backend)
    asyncpg.CannotConnectNowError,  # it is shutting down or starting up
    asyncpg.exceptions.InternalClientError,  # its last words came while the session was idle
    ConnectionError,
)
