"""`python -m bench`: seed once, run each workload through laborhub, the PostGraphile peers and
asyncpg, check that they return the same data, measure each, report."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from bench.catalog import WORKLOADS, WORKLOADS_BY_NAME
from bench.database import BENCH_KEY, Prepared, bench_database_url, note, prepare
from bench.harness import Endpoint, Result, Sanity, bench_workload, sanity_check
from bench.http1 import Http1Pool
from bench.peers import RunningPeer, peers_available, running_peers
from bench.report import errors_seen, table, write_json
from bench.server import REPO_ROOT, TRACING, RunningServer, app_server, trace_sink
from bench.workloads import LABORHUB, LABORHUB_COMPILED, Subject, Workload, find_subject
from db.seed import SCALES
from db.session import sync_url

# uvloop when installed (uvicorn's `standard` extra brings it), as uvicorn itself uses.
try:
    import uvloop

    NEW_EVENT_LOOP: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
except ImportError:
    NEW_EVENT_LOOP = asyncio.new_event_loop

DEFAULT_JSON = REPO_ROOT / "bench" / "results" / "latest.json"
RESULTS = REPO_ROOT / "bench" / "results"
COMPILED_READS = {LABORHUB: "0", LABORHUB_COMPILED: "1"}
"""`LABORHUB_COMPILED_READS` for each laborhub row."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="laborhub, PostGraphile 4 and 5 and hand-written asyncpg on the same data, "
        "under load.",
    )
    parser.add_argument(
        "--database-url",
        help="default: laborhub_bench on 127.0.0.1:5432, "
        "or an embedded server in .laborhub-bench when none answers",
    )
    parser.add_argument("--scale", choices=list(SCALES), default="large")
    parser.add_argument("--reseed", action="store_true", help="replace the data even if seeded")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--workers", type=int, default=1,
        help="laborhub's worker processes (uvicorn --workers); the peers run one process",
    )
    parser.add_argument(
        "--paced", type=float, default=0.5, metavar="SHARE",
        help=f"measure {LABORHUB_COMPILED} again at this share of its peak throughput, for "
        "its latency under a steady load (0: don't); default: 0.5",
    )
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds before each one")
    parser.add_argument(
        "--tracing", choices=TRACING, default="off",
        help="laborhub's tracing: off (the default), the default spans exported over OTLP to a "
        "sink that keeps nothing (bench/otlp_sink.py), or those and a span per field",
    )
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, dest="json_path")
    parser.add_argument(
        "--only",
        action="append",
        choices=list(WORKLOADS_BY_NAME),
        metavar="NAME",
        help=f"one of {', '.join(WORKLOADS_BY_NAME)}; repeatable",
    )
    parser.add_argument(
        "--peers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run PostGraphile 4 and 5 beside laborhub (installed with npm into a cache on "
        "first use); default: on when npm is on PATH",
    )
    parser.add_argument(
        "--compiled",
        action=argparse.BooleanOptionalAction,
        default=True,
        help=f"also run laborhub with compiled reads on, as {LABORHUB_COMPILED} "
        f"(the {LABORHUB} rows are its resolver path); default: on",
    )
    return parser.parse_args(argv)


async def run(args: argparse.Namespace, url: str) -> int:
    prepared = await prepare(url, args.scale, reseed=args.reseed)
    workloads = [WORKLOADS_BY_NAME[name] for name in args.only] if args.only else list(WORKLOADS)
    names = [LABORHUB_COMPILED, LABORHUB] if args.compiled else [LABORHUB]
    with ExitStack() as stack:
        sink = stack.enter_context(trace_sink(args.tracing, RESULTS / "otlp-sink.log"))
        tracing = sink.settings if sink is not None else {}
        servers = {
            name: stack.enter_context(
                app_server(
                    url,
                    key=BENCH_KEY,
                    pool_size=args.concurrency,
                    log_path=RESULTS / f"{name}.log",
                    settings={"LABORHUB_COMPILED_READS": COMPILED_READS[name], **tracing},
                    workers=args.workers,
                )
            )
            for name in names
        }
        with_peers = peers_available() if args.peers is None else args.peers
        peers = stack.enter_context(running_peers(url, RESULTS)) if with_peers else []
        subject, sanity, results = await measure_all(args, prepared, servers, peers, workloads)
    if sink is not None:  # stopped now, after the servers: their last spans are in
        note(f"the OTLP sink received {sink.received()}")
    print()
    print(table(results))
    for line in errors_seen(results):
        print(line)
    write_json(args.json_path, run_info(args, prepared, peers, subject), sanity, results)
    note(f"\nwrote {args.json_path}")
    failed = any(not s.ok for s in sanity) or any(r.measurement.errors for r in results)
    return 1 if failed else 0


async def measure_all(
    args: argparse.Namespace,
    prepared: Prepared,
    servers: dict[str, RunningServer],
    peers: list[RunningPeer],
    workloads: list[Workload],
) -> tuple[Subject, list[Sanity], list[Result]]:
    sanity: list[Sanity] = []
    results: list[Result] = []
    async with AsyncExitStack() as stack:

        def endpoint(
            name: str, base_url: str, pid: int, headers: dict[str, str] | None = None
        ) -> Endpoint:
            connections = Http1Pool(base_url, args.concurrency, headers)
            stack.push_async_callback(connections.close)
            return Endpoint(name, connections, pid)

        endpoints = [
            endpoint(name, server.base_url, server.pid, server.headers)
            for name, server in servers.items()
        ]
        endpoints += [endpoint(peer.name, peer.base_url, peer.pid) for peer in peers]
        pool = await stack.enter_async_context(
            asyncpg.create_pool(
                sync_url(prepared.url), min_size=args.concurrency, max_size=args.concurrency
            )
        )
        subject = await find_subject(pool)
        note(f"search: keyword matched in {search_columns(subject)}")
        names = ", ".join([*(e.name for e in endpoints), "asyncpg"])
        for workload in workloads:
            check = await sanity_check(workload, subject, endpoints, pool)
            print(check.describe(), flush=True)
            sanity.append(check)
            note(
                f"measuring {workload.name}: {args.warmup:g} s warm-up + {args.duration:g} s, "
                f"{args.concurrency} clients, {names}"
            )
            results += await bench_workload(
                workload,
                subject,
                check,
                endpoints,
                pool,
                concurrency=args.concurrency,
                duration=args.duration,
                warmup=args.warmup,
                bench_pid=os.getpid(),
                paced={LABORHUB_COMPILED: args.paced} if args.paced > 0 else None,
            )
    return subject, sanity, results


def run_info(
    args: argparse.Namespace, prepared: Prepared, peers: list[RunningPeer], subject: Subject
) -> dict[str, Any]:
    return {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *sys.argv[1:]]),
        "database": make_url(prepared.url).render_as_string(hide_password=True),
        "scale": prepared.scale,
        "workers": prepared.workers,
        "seeded_seconds": prepared.seeded_seconds,
        "concurrency": args.concurrency,
        "laborhub_workers": args.workers,
        "tracing": args.tracing,
        "duration_seconds": args.duration,
        "warmup_seconds": args.warmup,
        "peers": [{"name": p.name, "label": p.label, "node": p.node_version} for p in peers],
        "subject": {
            "job_id": subject.job_id,
            "county": subject.county,
            # job_by_varying_id's jobs, newest first (job_id is the first)
            "newest_jobs": {
                "count": len(subject.job_ids),
                "first": subject.job_ids[0],
                "last": subject.job_ids[-1],
            },
            "search": {
                "keyword_in": search_columns(subject),
                "counties": list(subject.search_counties),
            },
            "apply_pairs": len(subject.apply_pairs),
            "recommendations": {
                "province": subject.match_province,
                "workers": len(subject.match_workers),
                "jobs": len(subject.match_jobs),
            },
        },
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }


def search_columns(subject: Subject) -> str:
    """What `search`'s keyword matched in this database (before and after migration 0012)."""
    if subject.search_text:
        grams = " (narrowed by jobs.search_grams)" if subject.search_grams else ""
        return f"jobs.search_text{grams}"
    return "jobs.title (ILIKE)"


def git_commit() -> str | None:
    try:
        found = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return found.stdout.strip()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    with (
        bench_database_url(args.database_url, args.scale) as url,
        asyncio.Runner(loop_factory=NEW_EVENT_LOOP) as runner,
    ):
        return runner.run(run(args, url))


if __name__ == "__main__":
    sys.exit(main())
