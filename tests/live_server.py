"""Real servers on loopback ports: uvicorn in a thread, or `laborhub serve` as a process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

LABORHUB = [sys.executable, "-c", "from server.cli import run; run()"]  # the `laborhub` script
STARTUP_SECONDS = 120.0  # a first `serve` may initdb and migrate on a busy 2-core machine


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1 (its `getsockname()[1]`)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    with loopback_socket() as sock:
        port: int = sock.getsockname()[1]
    return port


@contextmanager
def uvicorn_in_thread(app: ASGIApp, **config: Any) -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port; yields its base URL. `config` goes to
    `uvicorn.Config` (over `log_level="warning"` and `lifespan="on"`)."""
    sock = loopback_socket()
    options: dict[str, Any] = {"log_level": "warning", "lifespan": "on", **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
    if thread.is_alive():
        raise RuntimeError("uvicorn did not stop")


class ServeProcess:
    """`laborhub serve` in its own process group, with its output collected in files."""

    def __init__(self, args: list[str], env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.out = workdir / "serve.out"
        self.err = workdir / "serve.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [*LABORHUB, "serve", "--port", str(self.port), *args],
                env=env,
                cwd=Path(__file__).parent.parent,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def wait_until_healthy(self, timeout: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited early:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"serve did not answer /healthz in {timeout:g} s:\n{self.output()}")

    def send(self, signum: signal.Signals) -> None:
        os.kill(self.process.pid, signum)

    def wait(self, timeout: float = 60) -> int:
        return self.process.wait(timeout=timeout)

    def kill_group(self) -> None:
        """Leave nothing behind, whatever the test found."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def serve_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a `serve` on its own LABORHUB_HOME, without DATABASE_URL unless given."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL" and k != "LABORHUB_ENV"}
    env.update(LABORHUB_HOME=str(home), LABORHUB_LOG_LEVEL="WARNING", **extra)
    return env
