"""A primary and its streaming replica of the tests' own, on loopback TCP ports, made with the
embedded PostgreSQL's binaries (initdb, pg_ctl, pg_basebackup -R). As root, the servers run
as the embedded server's system user (PostgreSQL refuses root), as laborhub runs it: from the
binaries' copy it can reach, on data in a folder of its own under /var/lib/laborhub, so that
neither the checkout nor the temporary folder needs to be reachable by other users."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from db.embedded import POSTGRES_BIN_PATH
from db.embedded_binaries import system_binaries
from db.embedded_system import SYSTEM_ROOT, SYSTEM_USER, ensure_system_user, running_as_root
from tests.live_server import free_port

START_SECONDS = 30
CATCH_UP_SECONDS = 10


def postgres_binary(name: str) -> Path | None:
    """`name` (initdb, pg_ctl, pg_basebackup) of the embedded PostgreSQL, else on PATH."""
    embedded = POSTGRES_BIN_PATH / name
    if embedded.exists():
        return embedded
    found = shutil.which(name)
    return Path(found) if found else None


def missing_binaries() -> list[str]:
    return [name for name in ("initdb", "pg_ctl", "pg_basebackup") if postgres_binary(name) is None]


def runnable_binary(name: str, copy: Path | None) -> Path:
    """`postgres_binary(name)`, or its copy in the folder `copy` when that is the embedded
    one's copy another user can reach."""
    binary = postgres_binary(name)
    assert binary is not None, f"{name} not found"
    if copy is not None and binary.parent == POSTGRES_BIN_PATH:
        return copy / name
    return binary


@dataclass
class Server:
    """One PostgreSQL server on 127.0.0.1:`port` with its data in `data`."""

    data: Path
    port: int
    user: str | None  # the system user it runs as (None: this process's)
    copy: Path | None = None  # the binaries' copy that user runs (db/embedded_binaries.py)

    def url(self, database: str = "laborhub") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, tool: str, *args: str, timeout: float = START_SECONDS) -> None:
        result = subprocess.run(
            [str(runnable_binary(tool, self.copy)), *args], user=self.user,
            capture_output=True, text=True, timeout=timeout, check=False, cwd="/",
        )
        if result.returncode != 0:
            log = (self.data.parent / f"{self.data.name}.log")
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed:\n{result.stdout}{result.stderr}\n{tail}"
            )

    def start(self) -> None:
        log = self.data.parent / f"{self.data.name}.log"
        self.run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def running(self) -> bool:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            os.kill(int(pid_file.read_text().split()[0]), 0)
        except (ProcessLookupError, ValueError):
            return False
        except PermissionError:
            return True
        return True


@dataclass
class StreamingPair:
    primary: Server
    replica: Server


@contextmanager
def streaming_pair() -> Iterator[StreamingPair]:
    """A primary, running, with WAL for a replica and replication connections allowed, and
    where its replica will live (`start_replica` makes it); both stopped (immediately) and
    removed afterwards."""
    user = SYSTEM_USER if running_as_root() else None
    copy = None
    if user is None:
        home = Path(tempfile.mkdtemp(prefix="lh-rep-"))
    else:
        ensure_system_user()
        copy = system_binaries()  # makes SYSTEM_ROOT too
        home = Path(tempfile.mkdtemp(prefix="replica-", dir=SYSTEM_ROOT))
        shutil.chown(home, user, user)
    primary = Server(home / "primary", free_port(), user, copy)
    replica = Server(home / "replica", free_port(), user, copy)
    try:
        primary.run(
            "initdb", "-D", str(primary.data), "-U", "postgres", "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
        )
        with (primary.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n".join(
                    [
                        "",
                        "listen_addresses = '127.0.0.1'",
                        f"port = {primary.port}",
                        "unix_socket_directories = ''",
                        "wal_level = replica",
                        "max_wal_senders = 4",
                        "wal_keep_size = '64MB'",
                        "hot_standby = on",
                        "fsync = off",
                        "full_page_writes = off",
                        "",
                    ]
                )
            )
        with (primary.data / "pg_hba.conf").open("a") as hba:
            hba.write("\nhost replication all 127.0.0.1/32 trust\n")
        primary.start()
        yield StreamingPair(primary, replica)
    finally:
        for server in (replica, primary):
            if server.running:
                with suppress(Exception):
                    server.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


def start_replica(pair: StreamingPair) -> None:
    """The replica: a base backup of the primary (`-R`: it streams from the primary), on its
    own port, started."""
    primary, replica = pair.primary, pair.replica
    primary.run(
        "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        "-D", str(replica.data), "-R", "-X", "stream", "-c", "fast", "--no-sync",
        timeout=120,
    )
    with (replica.data / "postgresql.auto.conf").open("a") as conf:
        conf.write(f"port = {replica.port}\n")
    replica.start()


async def caught_up(pair: StreamingPair) -> str:
    """Wait (at most CATCH_UP_SECONDS) until the replica has replayed everything the primary
    has written; the position."""
    position = str(await sql(pair.primary.url(), "SELECT pg_current_wal_lsn()::text"))
    replica = await asyncpg.connect(pair.replica.url())
    try:
        async with asyncio.timeout(CATCH_UP_SECONDS):
            while True:
                replayed = "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn"
                if await replica.fetchval(replayed, position):
                    break
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"the replica did not replay up to {position}") from None
    finally:
        await replica.close()
    return position


async def sql(url: str, statement: str, *args: object) -> object:
    """One statement on its own connection; its first value."""
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(statement, *args)
    finally:
        await connection.close()


async def wait_until_answers(url: str) -> None:
    """Wait (at most START_SECONDS) until the server at `url` answers a query."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            await sql(url, "SELECT 1")
            return
        except (OSError, asyncpg.PostgresError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)
