"""The real app under uvicorn in a subprocess on 127.0.0.1, one worker, as in production."""

from __future__ import annotations

import base64
import functools
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from server.auth import mint_token
from server.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_SECONDS = 60.0


class ServerError(RuntimeError):
    """The app server did not come up."""


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    pid: int
    # An admin's credentials: the hand-written SQL reads every row, so the API must too.
    headers: dict[str, str]


def admin_headers(key: bytes) -> dict[str, str]:
    return bearer_headers(key, role="admin", subject="bench")


def bearer_headers(key: bytes, **claims: Any) -> dict[str, str]:
    """A development token of the bench's key, valid for a day."""
    token = mint_token(key_settings(key), ttl_seconds=24 * 3600, **claims)
    return {"Authorization": f"Bearer {token}"}


@functools.lru_cache(maxsize=4)
def key_settings(key: bytes) -> Settings:
    """Settings with `key` as the secret, made once (a workload mints a token per variant)."""
    return Settings(secret_key=base64.b64encode(key).decode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def app_server(
    database_url: str,
    *,
    key: bytes,
    pool_size: int,
    log_path: Path,
    settings: dict[str, str] | None = None,
    workers: int = 1,
) -> Iterator[RunningServer]:
    """`uvicorn --factory server.asgi:app_from_env` until the block ends; `settings` are more
    `LABORHUB_*` environment variables for it."""
    port = free_port()
    # The child inherits this environment (PATH, the venv); the app's settings are set here.
    env = {
        **os.environ,
        "LABORHUB_ENV": "development",
        "DATABASE_URL": database_url,
        "LABORHUB_SECRET_KEY": base64.b64encode(key).decode(),
        "LABORHUB_EXPOSE_SQL_STATS": "1",
        "LABORHUB_LOG_LEVEL": "WARNING",
        "LABORHUB_DB_POOL_SIZE": str(pool_size),
        "LABORHUB_DB_MAX_OVERFLOW": str(pool_size),
        # Throughput is what is measured here; per-principal rate limits would cap it.
        "LABORHUB_RATE_LIMIT_PER_MINUTE": "0",
        **(settings or {}),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "server.asgi:app_from_env",
        "--factory",
        "--http",
        "server.http_protocol:HttpProtocol",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_ready(base_url, process, log_path)
            yield RunningServer(base_url, process.pid, admin_headers(key))
        finally:
            stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a server process to stop; kill it when it hasn't within 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"the app server exited with {process.returncode}; see {log_path}")
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=2)
            if response.status_code == 200:
                return
            last = response.text[:200]
        except httpx.TransportError as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise ServerError(f"the app server was not ready in {READY_TIMEOUT_SECONDS:.0f} s: {last}")


TRACING = ("off", "spans", "fields")
"""`--tracing`: none; the default spans (request, operation, SQL, DataLoader batches); those
and a span per resolved field."""


@dataclass
class TraceSink:
    """Where laborhub's spans go under `--tracing` (`bench.otlp_sink`), and what it received
    (read once it has stopped)."""

    settings: dict[str, str]
    counts_file: Path

    def received(self) -> dict[str, int]:
        return json.loads(self.counts_file.read_text()) if self.counts_file.exists() else {}


@contextmanager
def trace_sink(tracing: str, log_path: Path) -> Iterator[TraceSink | None]:
    """For `tracing` other than `off`: an OTLP sink in its own process, and the settings that
    make laborhub export to it, until the block ends."""
    if tracing == "off":
        yield None
        return
    port = free_port()
    counts_file = log_path.with_suffix(".json")
    counts_file.unlink(missing_ok=True)
    settings = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{port}/v1/traces",
        "OTEL_SERVICE_NAME": "laborhub-bench",
        "LABORHUB_TRACE_FIELDS": "1" if tracing == "fields" else "0",
    }
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bench.otlp_sink", str(port), str(counts_file)],
            cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise ServerError(f"the OTLP sink did not start; see {log_path}") from None
                    time.sleep(0.05)
            yield TraceSink(settings, counts_file)
        finally:
            stop(process)
