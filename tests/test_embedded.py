"""The embedded PostgreSQL: the server `laborhub` starts when no DATABASE_URL is set."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from db.embedded import POSTGRES_MAJOR, EmbeddedPostgres, EmbeddedPostgresError
from db.migrate import upgrade_to_head
from db.session import create_engine
from tests.database import query

TRIGRAM_INDEXES = [
    ("ix_employers_name_trgm",),
    ("ix_jobs_title_trgm",),
    ("ix_trainings_title_trgm",),
    ("ix_workers_name_trgm",),
]


def migrate(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            await upgrade_to_head(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_embedded_server_ships_contrib_and_the_migrations_index_keywords(
    embedded_home: Path,
) -> None:
    with EmbeddedPostgres(embedded_home / "home") as pg:
        available = query(
            pg.url,
            "SELECT name FROM pg_available_extensions WHERE name IN "
            "('pg_trgm', 'pg_stat_statements') ORDER BY name",
        )
        assert available == [("pg_stat_statements",), ("pg_trgm",)]
        migrate(pg.url)
        indexes = query(
            pg.url, "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%_trgm' ORDER BY 1"
        )
        assert indexes == TRIGRAM_INDEXES


def test_embedded_postgres_keeps_its_data_between_starts(embedded_home: Path) -> None:
    home = embedded_home / "home"
    with EmbeddedPostgres(home) as pg:
        assert query(pg.url, "SELECT 1") == [(1,)]
        assert query(pg.url, "SELECT current_database()") == [("laborhub",)]
        query(pg.url, "CREATE TABLE kept (value int)", "INSERT INTO kept VALUES (42)")
    assert not (home / "pgdata" / "postmaster.pid").exists(), "the server did not stop"

    pg = EmbeddedPostgres(home).start()
    try:
        assert query(pg.url, "SELECT value FROM kept") == [(42,)]
    finally:
        pg.stop()


def test_embedded_postgres_with_a_path_too_long_for_a_socket(embedded_home: Path) -> None:
    home = embedded_home / ("deep" * 12) / ("er" * 20)
    with EmbeddedPostgres(home) as pg:
        assert len(str(pg.data_dir)) > 100
        assert query(pg.url, "SELECT 1") == [(1,)]


def test_a_data_directory_of_another_major_version_is_refused_in_one_line(
    embedded_home: Path,
) -> None:
    data_dir = embedded_home / "home" / "pgdata"
    data_dir.mkdir(parents=True)
    (data_dir / "PG_VERSION").write_text("16\n")  # what pgserver's PostgreSQL 16 left
    with pytest.raises(EmbeddedPostgresError) as refused:
        EmbeddedPostgres(embedded_home / "home").start()
    assert str(refused.value) == (
        f"the embedded database in {data_dir} was made by PostgreSQL 16, and this laborhub "
        f"embeds PostgreSQL {POSTGRES_MAJOR}: move that directory away (or dump it with the "
        "old version) and start again"
    )
    assert sorted(path.name for path in data_dir.iterdir()) == ["PG_VERSION"]  # untouched
