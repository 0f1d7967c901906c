"""Which PostgreSQL the tests use, and fresh databases on it.

TEST_DATABASE_URL when set; else the server on 127.0.0.1:5432 when it answers; else an
embedded one started for the run (LABORHUB_TEST_EMBEDDED=1 picks that one whatever answers).
Every run gets its own new database, dropped at the end.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import Row, make_url

from db.embedded import EmbeddedPostgres
from db.session import create_engine, sync_url
from tests.embedded_homes import private_folder

LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _local_server_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def admin_database_url() -> Iterator[str]:
    """A URL of a maintenance database on the server the tests use."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if not wants_embedded_server() and configured:
        yield configured
    elif not wants_embedded_server() and _local_server_answers():
        yield LOCAL_URL
    else:
        # A short home keeps the Unix socket path under its ~100-character limit; a private
        # one, as a root user's home is (see tests.embedded_homes).
        with private_folder("lh-") as home, EmbeddedPostgres(home) as server:
            yield server.admin_url


def wants_embedded_server() -> bool:
    return os.environ.get("LABORHUB_TEST_EMBEDDED", "") not in ("", "0")


def with_database(url: str, name: str) -> str:
    parsed = make_url(url)
    return parsed.set(database=name).render_as_string(hide_password=False)


async def _admin(url: str, sql: str) -> None:
    connection = await asyncpg.connect(sync_url(url))
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """Create an empty database for this run; drop it afterwards."""
    name = f"laborhub_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    try:
        yield with_database(admin_url, name)
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def query(url: str, *statements: str) -> list[Row[*tuple[Any, ...]]]:
    """Run statements in one transaction; the rows of the last one (their values are what
    the SQL selects, so untyped)."""

    async def run() -> list[Row[*tuple[Any, ...]]]:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            async with engine.begin() as connection:
                for statement in statements:
                    result = await connection.execute(text(statement))
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())
