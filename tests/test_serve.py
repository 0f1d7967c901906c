"""`laborhub serve` as a process: how it stops, and how it refuses to start.

Each test runs `serve` on its own LABORHUB_HOME without DATABASE_URL, so on its own embedded
PostgreSQL, which must be gone once `serve` has exited, whatever stopped it.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from server.cli import main
from tests.live_server import ServeProcess, free_port, loopback_socket, serve_env

# How each signal reaches `serve`: Ctrl-C and a closed terminal signal the terminal's whole
# process group, `kill PID` the one process.
SIGNALS = {
    "ctrl-c": (signal.SIGINT, True),
    "kill": (signal.SIGTERM, False),
    "closed terminal": (signal.SIGHUP, True),
}


@pytest.fixture
def home(embedded_home: Path) -> Path:
    # short: the embedded server's socket lives in its data directory when the path allows
    return embedded_home / "h"


@pytest.fixture
def started(home: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ServeProcess]:
    workers = getattr(request, "param", 1)
    serve = ServeProcess(["--no-seed", "--workers", str(workers)], serve_env(home), tmp_path)
    try:
        serve.wait_until_healthy()
        yield serve
    finally:
        serve.kill_group()
        stop_leftover_postgres(home)


def postgres_processes(home: Path) -> list[psutil.Process]:
    data_dir = str((home / "pgdata").resolve())
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and data_dir in (process.info["cmdline"] or []):
            found.append(process)
    return found


def stop_leftover_postgres(home: Path) -> None:
    """Don't let a failed test leave its server running."""
    for process in postgres_processes(home):
        process.terminate()


def postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


@pytest.mark.parametrize("started", [1, 2], indirect=True, ids=["1 process", "2 workers"])
@pytest.mark.parametrize("how", SIGNALS)
def test_a_stop_signal_stops_the_embedded_postgres_too(
    started: ServeProcess, home: Path, how: str
) -> None:
    signum, to_group = SIGNALS[how]
    postmaster = psutil.Process(postmaster_pid(home))
    assert postmaster.is_running()

    if to_group:
        os.killpg(started.process.pid, signum)
    else:
        started.send(signum)
    status = started.wait(timeout=60)

    assert status == -signum, started.output()  # it ends as that signal ends a process
    postmaster.wait(timeout=30)  # gone, not merely signalled
    assert postgres_processes(home) == []
    assert not (home / "pgdata" / "postmaster.pid").exists()
    holders = home / "pgdata" / ".handle_pids.json"
    assert not holders.exists() or json.loads(holders.read_text()) == []
    assert "Traceback" not in started.output()


def one_failure_line(err: str) -> str:
    failures = [line for line in err.splitlines() if line.startswith("laborhub serve:")]
    assert len(failures) == 1 and "Traceback" not in err, err
    return failures[0]


def test_a_busy_port_is_one_line_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("LABORHUB_HOME", str(home))
    with loopback_socket() as busy:
        busy.listen()
        port = busy.getsockname()[1]
        status = main(["serve", "--port", str(port)])
    assert status == 1
    captured = capsys.readouterr()
    assert one_failure_line(captured.err) == f"laborhub serve: port {port} is in use; pass --port"
    assert captured.out == ""  # no GraphiQL address
    assert not (home / "pgdata").exists(), "the database was started (and migrated)"


def test_a_missing_production_setting_is_one_line_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("LABORHUB_SECRET_KEY", raising=False)
    monkeypatch.setenv("LABORHUB_HOME", str(home))
    monkeypatch.setenv("LABORHUB_ENV", "production")
    status = main(["serve", "--no-seed", "--port", str(free_port())])
    assert status == 1
    line = one_failure_line(capsys.readouterr().err)
    assert line == (
        "laborhub serve: Config 'LABORHUB_SECRET_KEY' is missing, and production has no default."
    )
    assert not (home / "pgdata").exists()


def test_pgbouncer_without_a_direct_url_is_one_line_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Live updates LISTEN and hold session locks, which PgBouncer's transaction pooling
    can't carry: behind it, serving needs PostgreSQL's own address too."""
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@127.0.0.1:1/hub")
    monkeypatch.delenv("DATABASE_DIRECT_URL", raising=False)
    monkeypatch.setenv("LABORHUB_HOME", str(home))
    monkeypatch.setenv("LABORHUB_DB_PGBOUNCER", "1")
    status = main(["serve", "--no-seed", "--port", str(free_port())])
    assert status == 1
    line = one_failure_line(capsys.readouterr().err)
    assert line.startswith("laborhub serve: Config 'DATABASE_DIRECT_URL' is missing: behind ")


@pytest.mark.parametrize("started", [2], indirect=True, ids=["2 workers"])
def test_workers_share_their_metrics(started: ServeProcess) -> None:
    """Whichever worker answers /metrics, it counts every worker's requests."""
    query = {"query": "{ regions { code } }"}
    with httpx.Client(base_url=started.url, timeout=10) as client:
        for _ in range(20):  # new connections: the kernel spreads them over the workers
            with httpx.Client(base_url=started.url, timeout=10) as one:
                assert one.post("/graphql", json=query).status_code == 200
        for _ in range(4):
            text = client.get("/metrics").text
            line = next(
                line for line in text.splitlines()
                if line.startswith('laborhub_http_request_duration_seconds_count{status="200"}')
            )
            assert float(line.rsplit(" ", 1)[1]) == 20, line
