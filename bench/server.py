"""The real app under uvicorn in a subprocess on 127.0.0.1, one worker, as in production."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
    settings = Settings(secret_key=base64.b64encode(key).decode())
    token = mint_token(settings, role="admin", subject="bench", ttl_seconds=24 * 3600)
    return {"Authorization": f"Bearer {token}"}


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
