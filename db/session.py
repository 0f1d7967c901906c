"""The async engine, the per-request SQL statement counter, and the pool's check-in test."""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from db.statement_pool import StatementPool

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


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    statement_timeout_ms: int | None = None,
) -> AsyncEngine:
    connect_args: dict[str, Any] = {}
    if statement_timeout_ms:
        connect_args["server_settings"] = {"statement_timeout": str(statement_timeout_ms)}
    engine = create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=False,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    event.listen(engine.sync_engine, "checkin", _drop_unless_idle)
    return engine


CONNECT_TIMEOUT_SECONDS = 10.0
CLIENT_CHECK_MS = 1_000


def create_statement_pool(
    url: str, *, size: int, statement_timeout_ms: int | None = None
) -> StatementPool:
    """A pool for single read-only statements sent straight to the driver (the compiled
    reads): see `db.statement_pool`. It connects on first use, so the app starts (and says it
    is not ready) without a database."""
    # A connection dropped mid-statement (its request was cancelled) is closed at once; the
    # server notices within a second and stops the statement, instead of running it on.
    server_settings = {"client_connection_check_interval": str(CLIENT_CHECK_MS)}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
    dsn = sync_url(url)

    async def connect() -> asyncpg.Connection:
        return await asyncpg.connect(
            dsn, server_settings=server_settings, timeout=CONNECT_TIMEOUT_SECONDS
        )

    return StatementPool(connect, size)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
