"""A PgBouncer of the test's own, in transaction mode, in front of the suite's PostgreSQL
(Debian's `pgbouncer`; `.ci/run` installs it)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from tests.live_server import free_port

CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer")
START_SECONDS = 10.0


def pgbouncer_binary() -> str | None:
    for candidate in CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@contextmanager
def pgbouncer(database_url: str, *, server_connections: int = 2) -> Iterator[str]:
    """A PgBouncer (transaction pooling, at most `server_connections` server connections per
    database) in front of the server of `database_url`; yields the same database's URL through
    it. Run as root, it runs as the `postgres` user (PgBouncer refuses root)."""
    binary = pgbouncer_binary()
    assert binary is not None
    url = make_url(database_url)
    host = url.query.get("host") or url.host or "127.0.0.1"
    host = host[0] if isinstance(host, tuple) else host
    port = url.port or 5432
    user = url.username or "postgres"
    listen = free_port()
    with tempfile.TemporaryDirectory(prefix="lh-pgb-") as folder:
        home = Path(folder)
        (home / "users.txt").write_text(f'"{user}" ""\n')
        (home / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={host} port={port} user={user}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {listen}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {home / 'users.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {server_connections}",
                    "max_client_conn = 200",
                    f"logfile = {home / 'pgbouncer.log'}",
                    f"pidfile = {home / 'pgbouncer.pid'}",
                    "",
                ]
            )
        )
        command = [binary, str(home / "pgbouncer.ini")]
        if os.geteuid() == 0:
            os.chmod(home, 0o777)
            for path in home.iterdir():
                os.chmod(path, 0o666)
            command[1:1] = ["-u", "postgres"]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            _wait_until_listening(listen, process, home / "pgbouncer.log")
            yield url.set(host="127.0.0.1", port=listen, query={}).render_as_string(
                hide_password=False
            )
        finally:
            process.send_signal(signal.SIGINT)  # PgBouncer's "shut down now"
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode() if process.stdout else ""
            text = log.read_text() if log.exists() else ""
            raise RuntimeError(f"pgbouncer exited with {process.returncode}: {output}{text}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {port} within {START_SECONDS} s")
