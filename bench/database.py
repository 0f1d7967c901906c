"""The benchmark database: found or started, created, migrated, and seeded once."""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from db.embedded import EmbeddedPostgres
from db.pii import PersonalDataVault
from db.seed import SCALES, seed
from db.session import sync_url
from server.cli import prepare_database

LOCAL_HOST, LOCAL_PORT = "127.0.0.1", 5432
EMBEDDED_HOME = Path(".laborhub-bench")
BENCH_KEY = bytes(32)
"""The data is synthetic: a fixed all-zero vault key keeps every run's ciphertexts readable."""


@dataclass(frozen=True)
class Prepared:
    url: str
    scale: str
    workers: int
    seeded_seconds: float | None
    """How long seeding took in this run; None when the data was already there."""


def default_database(scale: str) -> str:
    """`laborhub_bench` for `large`; other scales get their own database, never mixed with it."""
    return "laborhub_bench" if scale == "large" else f"laborhub_bench_{scale}"


def local_server_answers() -> bool:
    try:
        with socket.create_connection((LOCAL_HOST, LOCAL_PORT), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def bench_database_url(configured: str | None, scale: str) -> Iterator[str]:
    """The URL given; else the local server's bench database; else an embedded server's."""
    if configured:
        yield configured
    elif local_server_answers():
        yield f"postgresql://postgres@{LOCAL_HOST}:{LOCAL_PORT}/{default_database(scale)}"
    else:
        with EmbeddedPostgres(EMBEDDED_HOME, database=default_database(scale)) as embedded:
            yield embedded.url


async def create_database_if_missing(url: str) -> None:
    parsed = make_url(sync_url(url))
    name = parsed.database
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"not a plain database name: {name!r}")
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    connection = await asyncpg.connect(admin)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def count_workers(url: str) -> int:
    connection = await asyncpg.connect(sync_url(url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM workers"))
    finally:
        await connection.close()


async def prepare(url: str, scale: str, *, reseed: bool = False) -> Prepared:
    """Create, migrate and sync reference data; seed `scale` when there are no workers yet."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")
    await create_database_if_missing(url)
    await prepare_database(url)
    workers = await count_workers(url)
    seeded_seconds = None
    if workers == 0 or reseed:
        note(f"seeding {scale!r} (once; later runs reuse it)...")
        started = time.perf_counter()
        await seed(url, scale, PersonalDataVault(BENCH_KEY), progress=True, replace=reseed)
        seeded_seconds = time.perf_counter() - started
        note(f"seeded in {seeded_seconds:.1f} s")
        workers = await count_workers(url)
    elif workers != SCALES[scale].workers:
        note(
            f"warning: the database holds {workers} workers, scale {scale!r} has "
            f"{SCALES[scale].workers}; pass --reseed to replace the data"
        )
    return Prepared(url, scale, workers, seeded_seconds)


def note(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
