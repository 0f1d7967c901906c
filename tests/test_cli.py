"""The `laborhub` command (quick runs only; serving and signals: tests/test_serve.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.cli import main

COMMANDS = ("serve", "migrate", "seed", "export-schema", "db-url", "db-stop")


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
