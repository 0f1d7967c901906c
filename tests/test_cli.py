"""The `laborhub` command (quick runs only; serving and signals: tests/test_serve.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from server.cli import main
from server.settings import Settings

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


def failure_line(err: str, command: str) -> str:
    """The one line a failed command prints (and no traceback)."""
    failures = [line for line in err.splitlines() if line.startswith(f"laborhub {command}:")]
    assert len(failures) == 1 and "Traceback" not in err, err
    return failures[0]


@pytest.fixture
def on_test_database(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LABORHUB_SECRET_KEY", settings.secret_key or "")


@pytest.fixture
def development_tokens(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("LABORHUB_ENV", "LABORHUB_JWT_SECRET", "LABORHUB_JWT_PUBLIC_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LABORHUB_JWT_JWKS_FILE", raising=False)  # any identity provider key
    monkeypatch.setenv("LABORHUB_HOME", str(tmp_path))


@pytest.mark.usefixtures("on_test_database")
def test_seeding_a_seeded_database_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["seed", "--scale", "tiny"]) == 1
    line = failure_line(capsys.readouterr().err, "seed")
    assert line == (
        "laborhub seed: The database already has workers: `laborhub seed --replace` "
        "(replace=True) replaces them."
    )


@pytest.mark.usefixtures("development_tokens")
def test_token_for_a_region_that_does_not_exist_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token", "--role", "staff", "--region", "999999"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert failure_line(captured.err, "token") == (
        "laborhub token: --region 999999: no such division code in the reference data "
        "(GB/T 2260), e.g. 440000 (Guangdong), 440300 (Shenzhen)"
    )

    assert main(["token", "--role", "staff", "--region", "440300"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("ey")
    assert "for 440300 深圳市" in captured.err


@pytest.mark.usefixtures("on_test_database")
def test_keys_create_names_the_types_the_agreement_reaches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    partner = f"types-{uuid.uuid4().hex[:8]}"
    create = ["keys", "create", "--partner", partner, "--scopes", "jobs", "--regions", "440300"]
    assert main([*create, "--types", "Application,Worker", "--purpose", "job-matching"]) == 0
    prefix = capsys.readouterr().out.strip()[3:11]
    try:
        assert main(["keys", "list"]) == 0
        listing = capsys.readouterr().out.splitlines()
        assert "TYPES" in listing[0].split()
        row = next(line for line in listing if line.startswith(prefix))
        assert "Application,Worker" in row.split()
    finally:
        assert main(["keys", "revoke", prefix]) == 0

    assert main([*create, "--types", "Nope", "--purpose", "job-matching"]) == 1
    assert "type 'Nope'" in failure_line(capsys.readouterr().err, "keys")
