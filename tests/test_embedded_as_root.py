"""The embedded PostgreSQL run as root: PostgreSQL runs as the system user `embedded_postgres`,
from a copy of its binaries and on data under /var/lib/laborhub, and no folder laborhub did not
make changes mode (a project in /root leaves /root at 0700).

Every home here sits in a private (0700) folder (`embedded_home`, which also checks that no
folder around it changed mode and removes what laborhub kept under /var/lib/laborhub for it).
"""

from __future__ import annotations

import pwd
import shutil
import signal
import subprocess
from importlib.metadata import version
from pathlib import Path

import httpx
import psutil
import pytest

from db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from db.embedded_binaries import PACKAGE_PARENT
from db.embedded_system import (
    NO_LOGIN_SHELLS,
    SYSTEM_ROOT,
    SYSTEM_USER,
    cluster_dir,
    ensure_system_root,
    ensure_system_user,
    running_as_root,
    server_running_on,
)
from tests.database import query
from tests.embedded_homes import changed_modes, folder_modes, folders_around
from tests.live_server import ServeProcess, serve_env
from tests.test_serve import stop_leftover_postgres

pytestmark = pytest.mark.skipif(
    not running_as_root(),
    reason="only a root laborhub runs PostgreSQL as another user (this run is not root)",
)

WORKTREE = Path(__file__).parent.parent


@pytest.fixture
def private_package(embedded_home: Path) -> Path:
    """A copy of the embedded-postgres package in a private folder, as in a virtualenv under
    /root: its binaries are out of the system user's reach. Fresh files (new times), so its
    binaries' copy under /var/lib/laborhub is a new one."""
    site = embedded_home / "site"
    site.mkdir(mode=0o700)
    for name in ("embedded_postgres", "embedded_postgres.libs"):
        if (PACKAGE_PARENT / name).is_dir():
            shutil.copytree(
                PACKAGE_PARENT / name, site / name, symlinks=True, copy_function=shutil.copy,
                ignore=shutil.ignore_patterns("__pycache__", "include"),
            )
    return site


def test_serve_as_root_changes_the_mode_of_no_folder_it_did_not_make(
    embedded_home: Path, private_package: Path, tmp_path: Path
) -> None:
    home = embedded_home / "h"
    home.mkdir(mode=0o700)
    before = folder_modes(folders_around(embedded_home))
    assert before[embedded_home] == before[home] == before[private_package] == 0o700
    env = serve_env(home, PYTHONPATH=f"{private_package}:{WORKTREE}")
    serve = ServeProcess(["--no-seed"], env, tmp_path)
    try:
        serve.wait_until_healthy()
        data = cluster_dir(home) / "pgdata"
        said = f"database: embedded PostgreSQL in {data}, linked from {home / 'pgdata'} ("
        assert said in serve.output()
        assert (home / "pgdata").readlink() == data
        postmaster = psutil.Process(server_running_on(data))
        assert postmaster.username() == SYSTEM_USER
        exe = Path(postmaster.exe())
        assert exe.is_relative_to(SYSTEM_ROOT), exe
        assert exe.relative_to(SYSTEM_ROOT).parts[0].startswith(
            f"postgresql-{version('embedded-postgres')}-"
        )
        answer = httpx.post(f"{serve.url}/graphql", json={"query": "{ regions { code } }"})
        assert answer.status_code == 200 and answer.json()["data"]["regions"]

        serve.send(signal.SIGTERM)
        assert serve.wait(timeout=60) == -signal.SIGTERM, serve.output()
        postmaster.wait(timeout=30)
    finally:
        serve.kill_group()
        stop_leftover_postgres(home)
    assert changed_modes(before) == []
    assert stat_mode(home) == stat_mode(embedded_home) == 0o700
    assert pwd.getpwnam(SYSTEM_USER).pw_shell in NO_LOGIN_SHELLS
    assert "Traceback" not in serve.output()


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o7777


def test_data_an_earlier_root_run_left_in_the_home_is_moved_where_its_user_reaches_it(
    embedded_home: Path,
) -> None:
    first, second = embedded_home / "first", embedded_home / "second"
    with EmbeddedPostgres(first) as pg:
        query(pg.url, "CREATE TABLE kept (value int)", "INSERT INTO kept VALUES (7)")
    # What an earlier laborhub left: the data in <home>/pgdata, owned by the server's user.
    second.mkdir()
    (cluster_dir(first) / "pgdata").rename(second / "pgdata")

    pg = EmbeddedPostgres(second).start()
    try:
        moved = f"moved the embedded database from {second / 'pgdata'} to {pg.data_dir}"
        assert pg.notes == [moved]
        assert pg.data_dir == cluster_dir(second) / "pgdata"
        assert query(pg.url, "SELECT value FROM kept") == [(7,)]
        assert (second / "pgdata").readlink() == pg.data_dir
    finally:
        pg.stop()


def test_a_moved_home_says_where_its_data_is_and_finds_it_once_moved_too(
    embedded_home: Path,
) -> None:
    before, after = embedded_home / "before", embedded_home / "after"
    with EmbeddedPostgres(before) as pg:
        query(pg.url, "CREATE TABLE kept (value int)", "INSERT INTO kept VALUES (8)")
        old = pg.data_dir
    before.rename(after)  # the link moves with the home

    with pytest.raises(EmbeddedPostgresError) as refused:
        EmbeddedPostgres(after).start()
    new = cluster_dir(after) / "pgdata"
    assert str(refused.value) == (
        f"{after / 'pgdata'} points to {old} (the embedded database of {before}), and this "
        f"home's is {new}: if this home was moved or copied from there, keep that data for it "
        f"with `mv {old} {new}` while no laborhub runs, or remove the link {after / 'pgdata'} "
        "to start this home with an empty database"
    )

    old.rename(new)  # what the message says to do
    with EmbeddedPostgres(after) as pg:
        assert pg.data_dir == new
        assert query(pg.url, "SELECT value FROM kept") == [(8,)]
        assert (after / "pgdata").readlink() == new


def test_binaries_are_copied_per_version_and_unused_old_copies_removed(
    embedded_home: Path,
) -> None:
    ensure_system_root()
    stale = SYSTEM_ROOT / "postgresql-17.0.0-000000000000"
    (stale / "embedded_postgres" / "pginstall" / "bin").mkdir(parents=True)
    with EmbeddedPostgres(embedded_home / "home") as pg:
        assert pg.server_pid is not None
        exe = Path(psutil.Process(pg.server_pid).exe())
        copy = SYSTEM_ROOT / exe.relative_to(SYSTEM_ROOT).parts[0]
        assert copy.name.startswith(f"postgresql-{version('embedded-postgres')}-")
        assert exe == copy / "embedded_postgres" / "pginstall" / "bin" / "postgres"
        assert not stale.exists()
        assert stat_mode(copy) == 0o755 and stat_mode(SYSTEM_ROOT) == 0o755
        assert stat_mode(pg.data_dir.parent) == 0o711 and stat_mode(pg.data_dir) == 0o700
        assert pg.data_dir.owner() == SYSTEM_USER and pg.data_dir.parent.owner() == "root"


def test_a_system_user_with_a_login_shell_loses_it(embedded_home: Path) -> None:
    ensure_system_user()
    subprocess.run(["usermod", "--shell", "/bin/bash", SYSTEM_USER], check=True)
    with EmbeddedPostgres(embedded_home / "home") as pg:
        shell = pwd.getpwnam(SYSTEM_USER).pw_shell
        assert shell in NO_LOGIN_SHELLS
        assert pg.notes == [
            f"the system user {SYSTEM_USER} had the login shell /bin/bash; it now has {shell} "
            "(the embedded PostgreSQL needs no login)"
        ]
