"""npm packages the bench runs, installed on first use into a cache, from pinned lockfiles.

Each directory under `bench/postgraphile/` is one install unit: a `package.json` with exact
versions, the `package-lock.json` npm resolved for it (versions and integrity hashes), and any
launcher next to them. `install(unit)` copies the directory to
`$XDG_CACHE_HOME/laborhub/bench-peers/<unit>` (default `~/.cache/...`) and runs
`npm ci --ignore-scripts` there once; later runs reuse it until the lockfile changes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

UNITS_HOME = Path(__file__).resolve().parent / "postgraphile"
INSTALL_TIMEOUT_SECONDS = 900.0
STAMP = ".laborhub-installed"
"""Written after a successful `npm ci`: the digest of the package files it installed."""


class InstallError(RuntimeError):
    """A unit could not be installed; the message is one line saying why."""


@dataclass(frozen=True)
class Installed:
    unit: str
    path: Path
    fresh: bool
    """True when this run installed it; False when the cache already held it."""


def cache_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "laborhub" / "bench-peers"


def npm_executable() -> str | None:
    return shutil.which("npm")


def package_digest(source: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update(name.encode() + b"\0" + (source / name).read_bytes() + b"\0")
    return digest.hexdigest()


def installed(unit: str, *, cache: Path | None = None) -> Path | None:
    """The unit's install directory, launchers refreshed, when the cache holds its pinned
    packages; None otherwise (this never runs npm)."""
    source, target = UNITS_HOME / unit, (cache or cache_home()) / unit
    stamp = target / STAMP
    if not (stamp.is_file() and stamp.read_text() == package_digest(source)):
        return None
    if not (target / "node_modules").is_dir():
        return None
    copy_files(source, target)
    return target


def copy_files(source: Path, target: Path) -> None:
    """The unit's files (launchers change without a reinstall: copied every time)."""
    target.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file():
            shutil.copyfile(item, target / item.name)


def install(unit: str, *, cache: Path | None = None) -> Installed:
    """The unit's install directory, installing it first when the cache lacks it."""
    source = UNITS_HOME / unit
    if not (source / "package-lock.json").is_file():
        raise InstallError(f"no package-lock.json in {source} (run the bench from a checkout)")
    found = installed(unit, cache=cache)
    if found is not None:
        return Installed(unit, found, fresh=False)
    target = (cache or cache_home()) / unit
    copy_files(source, target)
    stamp = target / STAMP
    npm = npm_executable()
    if npm is None:
        raise InstallError("npm is not on PATH")
    stamp.unlink(missing_ok=True)
    command = [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]
    try:
        done = subprocess.run(
            command,
            cwd=target,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise InstallError(
            f"npm ci in {target} took over {INSTALL_TIMEOUT_SECONDS:.0f} s"
        ) from None
    except OSError as exc:
        raise InstallError(f"npm ci in {target} could not start: {exc}") from None
    if done.returncode != 0:
        why = npm_failure(done.stderr or done.stdout) or f"exit status {done.returncode}"
        raise InstallError(f"npm ci in {target} failed: {why}")
    stamp.write_text(package_digest(source))
    return Installed(unit, target, fresh=True)


def npm_failure(output: str) -> str:
    """npm's error code and message out of its output (not the log-file pointer)."""
    lines = [
        line.removeprefix("npm error").removeprefix("npm ERR!").strip()
        for line in output.splitlines()
    ]
    lines = [line for line in lines if line and "complete log of this run" not in line]
    code = next((line for line in lines if line.startswith("code ")), None)
    message = next((line for line in lines if "rror:" in line), None)
    found = [part for part in (code, message) if part] or lines[-1:]
    return "; ".join(found)[:300]
