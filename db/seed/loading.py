"""Loading a generated data set: COPY in chunks with a progress bar, then sequences and ANALYZE."""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Iterable, Iterator

import asyncpg

from db.pii import PersonalDataVault
from db.reference_data import sync_reference_data
from db.seed.employers import LOADS as EMPLOYER_LOADS
from db.seed.errors import SeedError
from db.seed.insurance import LOADS as INSURANCE_LOADS
from db.seed.jobs import LOADS as JOB_LOADS
from db.seed.scales import SCALES
from db.seed.tables import Load
from db.seed.trainings import LOADS as TRAINING_LOADS
from db.seed.workers import LOADS as WORKER_LOADS
from db.seed.world import Row, World, create_world
from db.session import create_engine, sync_url

CHUNK_ROWS = 20_000


class ProgressBar:
    """One line on stderr per table: rows done of the total, and the rate."""

    def __init__(self, table: str, total: int | None, *, enabled: bool) -> None:
        self.table, self.total, self.enabled = table, total, enabled
        self.started = self.shown = time.perf_counter()

    def update(self, done: int, *, final: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not final and now - self.shown < 0.2):
            return
        self.shown = now
        of = f"/{self.total:,}" if self.total else ""
        rate = done / max(now - self.started, 1e-9)
        end = "\n" if final else ""
        sys.stderr.write(f"\r{self.table:<18} {done:>11,}{of} rows  {rate:>9,.0f} rows/s{end}")
        sys.stderr.flush()


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


# Every domain's tables, in foreign-key order: a domain's rows may refer to earlier ones'.
LOADS = WORKER_LOADS + EMPLOYER_LOADS + JOB_LOADS + TRAINING_LOADS + INSURANCE_LOADS
# The seeded tables, which `replace=True` empties; the reference tables are never touched.
DATA_TABLES = tuple(load.table for load in LOADS)
TABLES_WITH_OWN_IDS = tuple(load.table for load in LOADS if "id" in load.columns)


async def _copy(conn: asyncpg.Connection, load: Load, world: World, *, progress: bool) -> int:
    if load.prepare is not None:
        await load.prepare(conn, world)
    bar = ProgressBar(load.table, load.expected(world.scale), enabled=progress)
    done = 0
    for chunk in _chunks(load.rows(world), CHUNK_ROWS):
        await conn.copy_records_to_table(load.table, records=chunk, columns=load.columns)
        done += len(chunk)
        bar.update(done)
    bar.update(done, final=True)
    return done


async def _prepare(conn: asyncpg.Connection, *, replace: bool) -> None:
    if replace:
        await conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")
    elif await conn.fetchval("SELECT EXISTS (SELECT 1 FROM workers)"):
        raise SeedError(
            "The database already has workers: `laborhub seed --replace` (replace=True) "
            "replaces them."
        )


async def _advance_sequences(conn: asyncpg.Connection) -> None:
    for table in TABLES_WITH_OWN_IDS:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" coalesce(max(id), 0) + 1, false) FROM {table}"
        )


async def _sync_reference(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            await sync_reference_data(connection)
    finally:
        await engine.dispose()


async def seed(
    database_url: str,
    scale: str,
    vault: PersonalDataVault,
    *,
    progress: bool = True,
    seed: int = 42,
    replace: bool = False,
) -> dict[str, int]:
    """Fill the data tables with a generated data set; returns the rows written per table.

    Refuses a database that already has workers unless `replace` (which empties the data
    tables, never the reference tables). The schema must be migrated already.
    """
    if scale not in SCALES:
        raise SeedError(f"Unknown scale {scale!r}; choose one of {', '.join(SCALES)}.")
    world = create_world(SCALES[scale], vault, seed)
    await _sync_reference(database_url)
    conn = await asyncpg.connect(sync_url(database_url))
    try:
        async with conn.transaction():
            await _prepare(conn, replace=replace)
            counts = {
                load.table: await _copy(conn, load, world, progress=progress) for load in LOADS
            }
            await _advance_sequences(conn)
        await conn.execute(f"ANALYZE {', '.join(DATA_TABLES)}")
    finally:
        await conn.close()
    return counts
