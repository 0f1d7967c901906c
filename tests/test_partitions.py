"""insurance_records partitioned by year of `period`: migration 0007 moves the rows (and back),
`laborhub maintain` makes the partitions ahead, writers make them on demand, the unique key
still holds, and reads prune to the partitions a period range names.

The module has a database of its own (migrated, `tiny` seeded), as it makes partitions and
rows; each test that makes one uses a year no other test uses. The migration test builds one
more database, which it migrates down and up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from typing import Any

import asyncpg
import pytest
from alembic import command

from db.migrate import alembic_config
from db.partitions import Partition, ensure_partitions, existing_partitions, months_ahead
from db.session import create_engine, sync_url
from resolvers.global_ids import encode_global_id
from server.cli import main
from server.cli_maintain import CALENDAR
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, seeded_database, serving
from tests.database import admin_database_url

ROW = (
    "INSERT INTO insurance_records (worker_id, employer_id, insurance_type, region_code, period,"
    " contribution_base, employer_amount, personal_amount, status)"
    " VALUES ($1, NULL, 'pension', $2, $3, 5000, 800, 400, 'paid')"
    " RETURNING id, tableoid::regclass::text"
)
UNIQUE = "uq_insurance_records_worker_id_insurance_type_region_co_d4c4"
SNAPSHOT = (
    "SELECT id, worker_id, employer_id, insurance_type, region_code, period, contribution_base,"
    " employer_amount, personal_amount, status FROM insurance_records ORDER BY id"
)


@pytest.fixture(scope="module")
def own_database(settings: Settings) -> Iterator[str]:
    with admin_database_url() as admin, seeded_database(admin, settings) as url:
        yield url


@pytest.fixture
async def conn(own_database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(sync_url(own_database))
    yield connection
    await connection.close()


async def a_worker_and_region(conn: asyncpg.Connection) -> tuple[int, str]:
    row = await conn.fetchrow("SELECT worker_id, region_code FROM insurance_records LIMIT 1")
    assert row is not None
    return row["worker_id"], row["region_code"]


async def partitions_of(url: str) -> list[Partition]:
    conn = await asyncpg.connect(sync_url(url))
    try:
        return await existing_partitions(conn)
    finally:
        await conn.close()


def test_maintain_makes_the_partitions_ahead_once_then_rows_go_in(
    own_database: str, settings: Settings, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", own_database)
    monkeypatch.setenv("LABORHUB_SECRET_KEY", settings.secret_key or "")
    months = months_ahead(datetime.now(CALENDAR).date(), 14)  # into the year after next
    wanted = sorted({Partition(month.year) for month in months})
    before = asyncio.run(partitions_of(own_database))

    assert main(["maintain", "--ahead-months", "14"]) == 0
    made = [line for line in capsys.readouterr().out.splitlines() if line]
    assert made == [f"created {p}" for p in wanted if p not in before]
    assert set(wanted) <= set(asyncio.run(partitions_of(own_database)))

    assert main(["maintain", "--ahead-months", "14"]) == 0  # idempotent
    assert capsys.readouterr().out == ""

    async def insert_into_the_last_month() -> str:
        conn = await asyncpg.connect(sync_url(own_database))
        written = conn.transaction()
        await written.start()
        try:
            worker, region = await a_worker_and_region(conn)
            row = await conn.fetchrow(ROW, worker, region, months[-1])
            assert row is not None
            return str(row["tableoid"])
        finally:
            await written.rollback()  # the module's other tests count rows
            await conn.close()

    assert asyncio.run(insert_into_the_last_month()) == Partition(months[-1].year).name


def test_maintain_refuses_a_negative_count(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["maintain", "--ahead-months", "-1"])
    assert "--ahead-months" in capsys.readouterr().err


async def test_a_period_without_a_partition_gets_one_on_demand_and_reads_find_it(
    conn: asyncpg.Connection, own_database: str, settings: Settings
) -> None:
    period = date(2101, 3, 1)
    worker, region = await a_worker_and_region(conn)
    with pytest.raises(asyncpg.CheckViolationError, match="no partition"):
        await conn.execute(ROW, worker, region, period)

    assert await ensure_partitions(conn, [period, date(2101, 11, 1)]) == [Partition(2101)]
    assert await ensure_partitions(conn, [period]) == []  # there now: nothing to make
    largest = await conn.fetchval("SELECT max(id) FROM insurance_records")
    row = await conn.fetchrow(ROW, worker, region, period)
    assert row is not None and row["tableoid"] == "insurance_records_y2101"
    assert row["id"] > largest  # the id sequence goes on past every moved or seeded id

    query = """query ($w: ID!) { insuranceRecords(first: 5,
                 filter: {workerId: $w, from: "2101-01", to: "2101-12"}) {
                 totalCount nodes { id period insuranceType } } }"""
    for compiled in (True, False):
        path = dataclasses.replace(settings, compiled_reads=compiled)
        async with serving(path, own_database) as http:
            gql = GraphQLClient(http, bearer(settings, "admin"))
            data = await gql.ok(query, {"w": encode_global_id("Worker", worker)})
        records = data["insuranceRecords"]
        assert records["totalCount"] == 1
        assert [(r["period"], r["insuranceType"]) for r in records["nodes"]] == [
            ("2101-03", "PENSION")
        ]


async def test_concurrent_callers_make_a_partition_once(own_database: str) -> None:
    connections = [await asyncpg.connect(sync_url(own_database)) for _ in range(4)]
    try:
        made = await asyncio.gather(
            *(ensure_partitions(c, [date(2102, 6, 1)]) for c in connections)
        )
    finally:
        for connection in connections:
            await connection.close()
    assert sorted(made) == [[], [], [], [Partition(2102)]]


async def test_the_unique_key_holds_across_the_partitioned_table(
    conn: asyncpg.Connection,
) -> None:
    seeded = await conn.fetchrow(
        "SELECT worker_id, insurance_type, region_code, period FROM insurance_records LIMIT 1"
    )
    assert seeded is not None
    duplicate = (
        "INSERT INTO insurance_records (worker_id, insurance_type, region_code, period,"
        " contribution_base, employer_amount, personal_amount, status)"
        " VALUES ($1, $2, $3, $4, 1, 1, 1, 'arrears')"
    )
    with pytest.raises(asyncpg.UniqueViolationError) as refused:
        await conn.execute(duplicate, *seeded.values())
    assert refused.value.constraint_name is not None
    assert refused.value.constraint_name.startswith("insurance_records_y")  # the partition's
    unique = await conn.fetchval(
        "SELECT count(*) FROM pg_constraint WHERE conrelid = 'insurance_records'::regclass"
        " AND contype = 'u' AND conname = $1",
        UNIQUE,
    )
    assert unique == 1  # one unique key on the partitioned table, cloned to each partition


def test_a_period_range_prunes_to_its_partitions(own_database: str) -> None:
    async def scanned(where: str) -> set[str]:
        conn = await asyncpg.connect(sync_url(own_database))
        try:
            plan = await conn.fetchval(
                f"EXPLAIN (FORMAT JSON) SELECT count(*) FROM insurance_records WHERE {where}"
            )
        finally:
            await conn.close()
        return set(_relations(json.loads(plan)))

    years = sorted(p.year for p in asyncio.run(partitions_of(own_database)) if p.year < 2100)
    year = years[-1]
    province_year = (
        f"region_code >= '44' AND region_code < '45'"
        f" AND period >= '{year}-01-01' AND period <= '{year}-12-01'"
    )
    assert asyncio.run(scanned(province_year)) == {f"insurance_records_y{year}"}
    every = asyncio.run(scanned("worker_id = 1"))
    assert {f"insurance_records_y{y}" for y in years} <= every


def _relations(plan: Any) -> Iterator[str]:
    if isinstance(plan, list):
        for item in plan:
            yield from _relations(item)
    elif isinstance(plan, dict):
        if "Relation Name" in plan:
            yield plan["Relation Name"]
        for value in plan.values():
            yield from _relations(value)


def test_the_migration_moves_the_rows_down_and_up_with_their_ids(settings: Settings) -> None:
    with admin_database_url() as admin, seeded_database(admin, settings) as url:
        seeded = asyncio.run(_rows(url))
        assert len(seeded) > 100

        _alembic(url, "downgrade", "0006")
        assert asyncio.run(_kind(url)) == ("r", 0)
        assert asyncio.run(_rows(url)) == seeded

        _alembic(url, "upgrade", "head")
        years = {row["period"].year for row in seeded}
        assert asyncio.run(_kind(url)) == ("p", len(years))
        assert asyncio.run(partitions_of(url)) == sorted(Partition(y) for y in years)
        assert asyncio.run(_rows(url)) == seeded

        new_id = asyncio.run(_insert_one(url))
        assert new_id > max(row["id"] for row in seeded)


def _alembic(url: str, action: str, revision: str) -> None:
    async def run() -> None:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            async with engine.begin() as connection:
                await connection.run_sync(_migrate, url, action, revision)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _migrate(connection: Any, url: str, action: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    getattr(command, action)(config, revision)


async def _rows(url: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(sync_url(url))
    try:
        return list(await conn.fetch(SNAPSHOT))
    finally:
        await conn.close()


async def _kind(url: str) -> tuple[str, int]:
    conn = await asyncpg.connect(sync_url(url))
    try:
        kind = await conn.fetchval("SELECT relkind::text FROM pg_class WHERE relname = $1",
                                   "insurance_records")
        partitions = await conn.fetchval(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'insurance_records'::regclass"
        )
        return kind, partitions
    finally:
        await conn.close()


async def _insert_one(url: str) -> int:
    conn = await asyncpg.connect(sync_url(url))
    try:
        worker, region = await a_worker_and_region(conn)
        period = date(2103, 1, 1)  # a year of its own: no seeded row's key
        await ensure_partitions(conn, [period])
        row = await conn.fetchrow(ROW, worker, region, period)
        assert row is not None
        return int(row["id"])
    finally:
        await conn.close()

