"""The async engine and the per-request SQL statement counter."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine


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


def _count_statement(*_args: Any, **_kwargs: Any) -> None:
    counter = _current_count.get()
    if counter is not None:
        counter.value += 1


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
    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)
