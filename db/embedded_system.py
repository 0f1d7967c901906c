"""Where the embedded PostgreSQL lives when laborhub runs as root.

PostgreSQL refuses to run as root, so its server runs as the system user `embedded_postgres`
(`useradd --system`, no login shell, no home). That user must reach the binaries and the data,
and nothing under a root user's home is reachable to it (`/root` is 0700). So, as root, what
it needs is put where it can reach it, and no folder laborhub did not make changes mode:

    /var/lib/laborhub/                          root, 0755 (made when missing)
      .lock                                     see SYSTEM_LOCK
      postgresql-<version>-<digest>/            the binaries' copy (db/embedded_binaries.py)
      home-<hash of the resolved home path>/    root, 0711; `home` names the home (0600)
        pgdata/                                 the data directory, embedded_postgres, 0700

and `<home>/pgdata` is a symbolic link to that data directory: the home still tells where its
data lives, and where that is depends on the home's resolved path alone. A link that points to
another existing database (the home was moved or copied) is refused with what to do.

Data an earlier laborhub left in `<home>/pgdata` (it ran the server there, after opening every
folder above it to the world) is moved into place on the first start, when no server runs on
it. Whatever changes `/var/lib/laborhub`, and each server's start and stop
(`db/embedded_system_server.py`), runs under SYSTEM_LOCK.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import stat
import subprocess
import tempfile
from importlib.metadata import version
from pathlib import Path
from types import TracebackType
from typing import IO

import psutil

SYSTEM_ROOT = Path("/var/lib/laborhub")
SYSTEM_USER = "embedded_postgres"
"""The package's name for the user its server runs as, when started by root."""
NO_LOGIN_SHELLS = ("/usr/sbin/nologin", "/sbin/nologin", "/bin/false", "/usr/bin/false")
POSTGRES_MAJOR = version("embedded-postgres").split(".")[0]
"""The package's version is PostgreSQL's (18.6.x ships PostgreSQL 18.6)."""


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be started or prepared."""


def running_as_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


def cluster_dir(home: Path) -> Path:
    """The folder of the data of `home` (a resolved path) under SYSTEM_ROOT."""
    digest = hashlib.sha256(str(home).encode()).hexdigest()[:16]
    return SYSTEM_ROOT / f"home-{digest}"


class SystemLock:
    """The lock of SYSTEM_ROOT (a `flock` on a file in it): one process or thread at a time
    prepares it, starts or stops a server. Not reentrant: never take it twice at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._held: list[IO[bytes]] = []

    def __enter__(self) -> SystemLock:
        ensure_system_root()
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
        except BaseException:
            handle.close()
            raise
        self._held.append(handle)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        handle = self._held.pop()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


SYSTEM_LOCK = SystemLock(SYSTEM_ROOT / ".lock")


def prepare_home(home: Path) -> list[str]:
    """As root, before a server starts for `home` (resolved): the system user, SYSTEM_ROOT,
    the home's cluster folder, its data moved there from `<home>/pgdata` if an earlier laborhub
    left it there, and the link `<home>/pgdata`. Returns notes worth telling the user."""
    notes = ensure_system_user()
    with SYSTEM_LOCK:
        cluster = cluster_dir(home)
        _make_dir(cluster, 0o711)
        _write_record(cluster / "home", str(home))
        notes += _link_home(home, cluster / "pgdata")
    return notes


def ensure_system_root() -> None:
    """SYSTEM_ROOT made (0755) when missing; refused when SYSTEM_USER could not pass through it
    or a folder above it, since laborhub changes no folder it did not make."""
    _make_dir(SYSTEM_ROOT, 0o755)
    for folder in (SYSTEM_ROOT, *SYSTEM_ROOT.parents):
        mode = stat.S_IMODE(folder.stat().st_mode)
        if not mode & stat.S_IXOTH:
            raise EmbeddedPostgresError(
                f"{folder} is closed to other users (mode {mode:o}), and the embedded "
                f"PostgreSQL's user {SYSTEM_USER} must pass through it to {SYSTEM_ROOT}: "
                "laborhub changes no folder it did not make"
            )


def ensure_system_user() -> list[str]:
    """SYSTEM_USER exists as a system account without a login shell; notes of what changed."""
    shell = next((path for path in NO_LOGIN_SHELLS if Path(path).exists()), "/bin/false")
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        _run_quietly(
            "useradd", "--system", "--user-group", "--shell", shell,
            "--home-dir", "/nonexistent", "--no-create-home",
            "--comment", "embedded PostgreSQL server", SYSTEM_USER,
        )
        try:
            entry = pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            raise EmbeddedPostgresError(
                f"could not create the system user {SYSTEM_USER} (with useradd) to run the "
                "embedded PostgreSQL as"
            ) from None
        if entry.pw_shell == shell:
            return [f"created the system user {SYSTEM_USER} (no login shell) to run PostgreSQL"]
    if entry.pw_shell in NO_LOGIN_SHELLS:
        return []
    if _run_quietly("usermod", "--shell", shell, SYSTEM_USER):
        return [
            f"the system user {SYSTEM_USER} had the login shell {entry.pw_shell}; "
            f"it now has {shell} (the embedded PostgreSQL needs no login)"
        ]
    return [
        f"the system user {SYSTEM_USER} has the login shell {entry.pw_shell}, which laborhub "
        f"could not change: `usermod --shell {shell} {SYSTEM_USER}` removes it"
    ]


def _run_quietly(*command: str) -> bool:
    """Run an account command; whether it succeeded (another process may have won a race)."""
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def _link_home(home: Path, data: Path) -> list[str]:
    """Make `<home>/pgdata` a link to `data`, moving an earlier run's data there first."""
    link = home / "pgdata"
    notes: list[str] = []
    if link.is_symlink():
        target = link.parent / os.readlink(link)
        if target == data:
            return notes
        if target.exists():
            raise EmbeddedPostgresError(_linked_elsewhere(link, target, data))
        link.unlink()  # dangling: its data was moved or removed
    elif link.exists():
        notes += _move_earlier_data(link, data)
    link.symlink_to(data, target_is_directory=True)
    return notes


def _linked_elsewhere(link: Path, target: Path, data: Path) -> str:
    try:
        owner = f"the embedded database of {(target.parent / 'home').read_text().strip()}"
    except OSError:
        owner = "not this home's embedded database"
    return (
        f"{link} points to {target} ({owner}), and this home's is {data}: if this home was "
        f"moved or copied from there, keep that data for it with `mv {target} {data}` while no "
        f"laborhub runs, or remove the link {link} to start this home with an empty database"
    )


def _move_earlier_data(old: Path, data: Path) -> list[str]:
    """`<home>/pgdata` is a folder: an earlier laborhub's data (moved), else refused."""
    if not old.is_dir():
        raise EmbeddedPostgresError(f"{old} is neither a folder nor a link: move it away")
    if not any(old.iterdir()):
        old.rmdir()
        return []
    refuse_other_major_version(old)
    owner = old.stat().st_uid
    if owner != pwd.getpwnam(SYSTEM_USER).pw_uid or not (old / "PG_VERSION").exists():
        raise EmbeddedPostgresError(
            f"{old} is not a data directory of the embedded PostgreSQL run as root (its owner "
            f"is uid {owner}): run laborhub as its owner, or move it away to start afresh"
        )
    running = server_running_on(old)
    if running is not None:
        raise EmbeddedPostgresError(
            f"a PostgreSQL server (pid {running}) started by an earlier laborhub runs on {old}: "
            f"stop that laborhub (or `kill {running}`) and start again"
        )
    (old / "postmaster.pid").unlink(missing_ok=True)  # its server is gone
    if data.exists():
        raise EmbeddedPostgresError(
            f"{old} and {data} both hold an embedded database: move one of them away"
        )
    try:
        old.rename(data)
    except OSError as exc:
        raise EmbeddedPostgresError(
            f"could not move {old} to {data} ({exc.strerror}): move it there yourself "
            f"(`mv {old} {data}`) while no laborhub runs, and start again"
        ) from exc
    return [f"moved the embedded database from {old} to {data}"]


def server_running_on(data: Path) -> int | None:
    """The pid of the PostgreSQL server running on the data directory `data`, if one is."""
    try:
        pid = int((data / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    try:
        process = psutil.Process(pid)
        if process.name() == "postgres" and str(data) in process.cmdline():
            return pid
    except psutil.Error:
        pass
    return None


def refuse_other_major_version(data_dir: Path) -> None:
    """A data directory made by another major version (e.g. 16, by earlier laborhub releases)
    cannot be opened: say so instead of failing inside pg_ctl."""
    try:
        made_by = (data_dir / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return
    if made_by != POSTGRES_MAJOR:
        raise EmbeddedPostgresError(
            f"the embedded database in {data_dir} was made by PostgreSQL {made_by}, "
            f"and this laborhub embeds PostgreSQL {POSTGRES_MAJOR}: move that directory "
            "away (or dump it with the old version) and start again"
        )


def system_clusters() -> dict[Path, Path]:
    """Each cluster folder under SYSTEM_ROOT and the home it belongs to."""
    found = {}
    for cluster in sorted(SYSTEM_ROOT.glob("home-*")):
        with contextlib.suppress(OSError):
            found[cluster] = Path((cluster / "home").read_text().strip())
    return found


def _make_dir(path: Path, mode: int) -> None:
    """Make `path` with `mode` (whatever the umask); a folder that exists is left as it is."""
    try:
        path.mkdir(mode=mode)
    except FileExistsError:
        return
    path.chmod(mode)


def _write_record(path: Path, text: str) -> None:
    if path.exists() and path.read_text() == text + "\n":
        return
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as record:
        record.write(text + "\n")
    Path(record.name).chmod(0o600)
    Path(record.name).replace(path)
