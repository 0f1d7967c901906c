"""The `laborhub` command and the embedded PostgreSQL behind it (quick runs only)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from db.embedded import EmbeddedPostgres
from db.session import create_engine
from server.cli import main

COMMANDS = ("serve", "migrate", "seed", "export-schema", "db-url", "db-stop")


def query(url: str, *statements: str) -> list[Any]:
    """Run statements in one transaction; the rows of the last one."""

    async def run() -> list[Any]:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            async with engine.begin() as connection:
                for statement in statements:
                    result = await connection.execute(text(statement))
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in COMMANDS:
        assert command in out


def test_export_schema_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    module = pytest.importorskip("schema")
    if not hasattr(module, "schema"):
        pytest.skip("schema.schema is not built yet")
    assert main(["export-schema", "-"]) == 0
    assert "type Query" in capsys.readouterr().out


def test_db_url_prints_database_url_without_starting_a_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db.example/hub")
    monkeypatch.setenv("LABORHUB_HOME", str(tmp_path))
    assert main(["db-url"]) == 0
    assert capsys.readouterr().out.strip() == "postgresql://someone@db.example/hub"
    assert not (tmp_path / "pgdata").exists()


def test_unreachable_database_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/none")
    assert main(["migrate"]) == 1
    err = capsys.readouterr().err
    failure = [line for line in err.splitlines() if line.startswith("laborhub migrate:")]
    assert len(failure) == 1, err
    assert "Traceback" not in err
    assert "secret" not in err


def test_embedded_postgres_keeps_its_data_between_starts(tmp_path: Path) -> None:
    home = tmp_path / "home"
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


def test_embedded_postgres_with_a_path_too_long_for_a_socket(tmp_path: Path) -> None:
    home = tmp_path / ("deep" * 12) / ("er" * 20)
    with EmbeddedPostgres(home) as pg:
        assert len(str(pg.data_dir)) > 100
        assert query(pg.url, "SELECT 1") == [(1,)]
