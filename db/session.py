"""The async engine, the per-request SQL statement counter, and the pool's check-in test."""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary, WeakSet

import asyncpg
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from db.statement_pool import LOST, PoolClosed, StatementPool

log = logging.getLogger("laborhub.db")


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs (as libpq and pgserver give them) for asyncpg."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """The same database for tools that want a plain libpq-style URL (asyncpg.connect, psql)."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class StatementCount:
    """How many SQL statements the current request sent."""

    value: int = 0


_current_count: contextvars.ContextVar[StatementCount | None] = contextvars.ContextVar(
    "laborhub_statement_count", default=None
)


def start_counting() -> StatementCount:
    """Count the statements sent from this context (and tasks it spawns) from now on."""
    counter = StatementCount()
    _current_count.set(counter)
    return counter


def count_statement() -> None:
    """Count one statement sent past SQLAlchemy (straight on the driver's connection)."""
    _count_statement()


def _count_statement(*_args: Any, **_kwargs: Any) -> None:
    counter = _current_count.get()
    if counter is not None:
        counter.value += 1


def transaction_state_problem(dbapi_connection: Any) -> str | None:
    """Why a connection just rolled back by the pool is not known to be idle, or None.

    asyncpg marks its connection as inside a transaction before it sends BEGIN and does not
    clear the mark when BEGIN fails (a statement timeout or a cancel request can land on it):
    every later transaction then sends SAVEPOINT outside any transaction block. When ROLLBACK
    fails, asyncpg and SQLAlchemy both forget the transaction the server still has open, and
    every later BEGIN is refused. Either way the connection would fail every request it serves.
    """
    driver = getattr(dbapi_connection, "driver_connection", None)
    if driver is None or not hasattr(driver, "is_in_transaction"):
        return None  # not asyncpg: nothing known to check
    if driver.is_closed():
        return "the connection is closed"
    if driver.is_in_transaction():
        return "the server still has a transaction open (its ROLLBACK failed)"
    if getattr(driver, "_top_xact", None) is not None:
        return "asyncpg still counts a transaction (its BEGIN failed)"
    return None


def _drop_unless_idle(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    """Pool check-in, after the pool's rollback: a connection in any unknown state leaves."""
    if dbapi_connection is None:
        return  # already invalidated
    problem = transaction_state_problem(dbapi_connection)
    if problem is not None:
        log.warning("Dropping a pooled database connection: %s", problem)
        record.invalidate()


CONNECT_TIMEOUT_SECONDS = 5.0
POOL_TIMEOUT_SECONDS = 5.0
CLIENT_CHECK_MS = 1_000


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    statement_timeout_ms: int | None = None,
    pool_timeout_seconds: float = POOL_TIMEOUT_SECONDS,
    connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
    pgbouncer: bool = False,
) -> AsyncEngine:
    """The engine; `pgbouncer`: the URL is a PgBouncer in transaction mode (see
    `server_settings` and `_unique_statement_name`)."""
    connect_args: dict[str, Any] = {"timeout": connect_timeout_seconds}
    settings = server_settings(statement_timeout_ms, pgbouncer=pgbouncer)
    if settings:
        connect_args["server_settings"] = settings
    if pgbouncer:
        # Server connections change under a session and keep what it prepared: no cache, and
        # a name of its own for each statement SQLAlchemy prepares.
        connect_args["statement_cache_size"] = 0
        connect_args["prepared_statement_cache_size"] = 0
        connect_args["prepared_statement_name_func"] = _unique_statement_name
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout_seconds,
        pool_pre_ping=False,
        connect_args=connect_args,
    )
    if pgbouncer:
        _transaction_pooled.add(engine)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    event.listen(engine.sync_engine, "checkin", _drop_unless_idle)
    return engine


def server_settings(statement_timeout_ms: int | None, *, pgbouncer: bool) -> dict[str, str]:
    """The session settings sent when connecting.

    - `statement_timeout`: no statement runs longer.
    - `client_connection_check_interval`: a connection dropped mid-statement (its request was
      cancelled) is closed at once; the server notices within a second and stops the
      statement, instead of running it on.
    - `jit` off: PostgreSQL compiles a statement whose estimated cost passes `jit_above_cost`
      to machine code first, which costs tens of milliseconds per run and pays off only for
      long analytical scans; an API's statements (a ranking over thousands of candidates)
      crossed that line and spent more time compiling than running.

    None through PgBouncer: it refuses startup parameters it does not know (or, told to ignore
    them, drops them), so there the role or database carries them (`ALTER ROLE ... SET
    statement_timeout = '10s'`; see the README).
    """
    if pgbouncer:
        return {}
    settings = {"client_connection_check_interval": str(CLIENT_CHECK_MS), "jit": "off"}
    if statement_timeout_ms:
        settings["statement_timeout"] = str(statement_timeout_ms)
    return settings


REPLAN = "SET LOCAL plan_cache_mode = force_custom_plan"
"""Sent first in a transaction, it has that transaction's statements planned for their
values at every run. PostgreSQL otherwise plans a prepared statement once for any values (a
generic plan) from its sixth run on, when that looks no dearer: for a ranking's statement,
whose cost hinges on the values (which occupation, which division), the generic plan took
seconds where one made for the values took a tenth of one."""


@asynccontextmanager
async def replanning(connection: asyncpg.Connection) -> AsyncIterator[None]:
    """The statements `connection` runs in the block are planned for their values
    (`REPLAN`), in a read-only transaction of its own (a savepoint inside one open)."""
    async with connection.transaction(readonly=True):
        await connection.execute(REPLAN)
        yield


def _unique_statement_name() -> str:
    return f"__laborhub_{uuid.uuid4().hex}__"


def create_statement_pool(
    url: str,
    *,
    size: int,
    statement_timeout_ms: int | None = None,
    pool_timeout_seconds: float = POOL_TIMEOUT_SECONDS,
    connect_timeout_seconds: float = CONNECT_TIMEOUT_SECONDS,
    pgbouncer: bool = False,
) -> StatementPool:
    """A pool for single read-only statements sent straight to the driver (the compiled
    reads): see `db.statement_pool`. It connects on first use, so the app starts (and says it
    is not ready) without a database. Through PgBouncer nothing is prepared under a name
    (asyncpg's statement cache is off), and each read runs in a read-only transaction: asyncpg
    parses a statement in one round trip and runs it in the next, and only a transaction keeps
    both on the same server connection."""
    settings = server_settings(statement_timeout_ms, pgbouncer=pgbouncer)
    cache_size = 0 if pgbouncer else 100  # 100: asyncpg's default
    dsn = sync_url(url)

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(
            dsn,
            server_settings=settings,
            timeout=connect_timeout_seconds,
            statement_cache_size=cache_size,
        )

    return StatementPool(
        connect, size, wait_timeout=pool_timeout_seconds, in_transactions=pgbouncer
    )


UNAVAILABLE: tuple[type[BaseException], ...] = (
    *LOST,
    OSError,  # refused, unreachable, reset: the database is not there
    TimeoutError,  # connecting, or waiting for a pooled connection, took too long
    PoolClosed,
    sa_exc.TimeoutError,  # SQLAlchemy's pool: no connection came free in time
)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database could not be reached or has no
    connection free: a condition of the moment, worth trying again, not a bug."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, UNAVAILABLE):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        orig = getattr(current, "orig", None)  # SQLAlchemy's wrapper of the driver's error
        current = orig if isinstance(orig, BaseException) else (
            current.__cause__ or current.__context__
        )
    return False


_transaction_pooled: WeakSet[AsyncEngine] = WeakSet()
_readers: WeakKeyDictionary[AsyncEngine, AsyncEngine] = WeakKeyDictionary()


def reader_of(engine: AsyncEngine) -> AsyncEngine:
    """What reads run on: the engine's autocommit twin (same pool; made once per engine), as
    reads need no transaction round trips. Behind PgBouncer the engine itself: SQLAlchemy
    prepares each statement in one round trip and runs it in the next, and only a transaction
    keeps both on the same server connection."""
    reader = _readers.get(engine)
    if reader is None:
        reader = engine
        if engine not in _transaction_pooled:
            reader = engine.execution_options(isolation_level="AUTOCOMMIT")
        _readers[engine] = reader
    return reader


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
