"""The embedded PostgreSQL: the server `laborhub` starts when no DATABASE_URL is set."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from db.embedded import POSTGRES_MAJOR, EmbeddedPostgres, EmbeddedPostgresError
from db.embedded_system import running_as_root, server_running_on
from db.migrate import upgrade_to_head
from db.session import create_engine
from tests.database import query
from tests.live_server import LABORHUB, serve_env
from tests.test_serve import postgres_processes

WORKTREE = Path(__file__).parent.parent

TRIGRAM_INDEXES = [
    ("ix_employers_name_trgm",),
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
        # jobs' keyword index needs no extension: the grams and their functions work here too
        found = query(
            pg.url,
            "SELECT indexname, text_grams('普工'), term_grams('五险一金') "
            "FROM pg_indexes WHERE indexname = 'ix_jobs_search_grams'",
        )
        assert found == [("ix_jobs_search_grams", ["工", "普", "普工"], ["一金", "五险", "险一"])]


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
    assert len(str(home / "pgdata")) > 100
    with EmbeddedPostgres(home) as pg:
        assert query(pg.url, "SELECT 1") == [(1,)]
        if running_as_root():  # the data lives under /var/lib/laborhub, the socket with it
            assert pg.url.endswith(f"?host={pg.data_dir}") and len(str(pg.data_dir)) < 60


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


def test_two_processes_starting_at_once_share_one_server(embedded_home: Path) -> None:
    """Two `laborhub db-url` on a new home at the same moment: one initdb, one server."""
    home = embedded_home / "home"
    env = serve_env(home)
    starts = [
        subprocess.Popen(
            [*LABORHUB, "db-url"], env=env, cwd=WORKTREE, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    outputs = [start.communicate(timeout=180) for start in starts]
    data_dir = EmbeddedPostgres(home).data_dir
    try:
        assert [start.returncode for start in starts] == [0, 0], outputs
        [url] = {out.strip() for out, _ in outputs}
        assert url.endswith("/laborhub?host=" + str(data_dir))
        assert len(postgres_processes(home)) == 1
        assert query(url, "SELECT count(*) FROM pg_database WHERE datname = 'laborhub'") == [(1,)]
    finally:
        stop = subprocess.run(
            [*LABORHUB, "db-stop"], env=env, cwd=WORKTREE, text=True, capture_output=True,
            timeout=120, check=False,
        )
    assert "stopped the embedded PostgreSQL" in stop.stderr, stop.stderr
    assert server_running_on(data_dir) is None
