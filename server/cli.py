"""The `laborhub` command: serve, migrate, seed, export-schema, db-url, db-stop.

Every command that needs a database uses DATABASE_URL when it is set and never starts a
server then; otherwise it uses the embedded PostgreSQL in LABORHUB_HOME (see db/embedded.py).
Results go to stdout, progress and notes to stderr; a failure is one line on stderr and exit
status 1 (`laborhub --traceback ...` shows the whole traceback instead).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any, NoReturn

import uvicorn
from sqlalchemy import exc as sa_exc
from sqlalchemy import select

import schema
from db.embedded import EmbeddedPostgres, EmbeddedPostgresError
from db.models import Worker
from db.pii import PersonalDataVault
from db.seed import SeedError, seed
from db.session import create_engine
from server.app import create_app
from server.auth import TokenVerifier
from server.cli_access import register as register_access
from server.cli_base import (
    Command,
    UsageError,
    database,
    describe_database,
    note,
    prepare_database,
)
from server.cli_documents import register as register_documents
from server.cli_maintain import register as register_maintain
from server.http_protocol import HttpProtocol
from server.serving import CannotListen, Stopped, StopSignals, exit_with, listening_socket
from server.settings import Settings, SettingsError

SCALES = ("tiny", "demo", "large")
PLAIN_ERRORS = (UsageError, SettingsError, CannotListen, EmbeddedPostgresError, SeedError)
"""Failures whose message says it all (no exception name in front)."""

__all__ = ["main", "prepare_database"]


async def has_workers(url: str) -> bool:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(select(Worker.id).limit(1))
            return found.first() is not None
    finally:
        await engine.dispose()


def load_seed(settings: Settings, url: str, scale: str, *, replace: bool) -> dict[str, int]:
    vault = PersonalDataVault(settings.master_key())
    return asyncio.run(seed(url, scale, vault, replace=replace))


# --- commands ------------------------------------------------------------------------------


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    check_serving_settings(settings)
    sock = listening_socket(args.host, args.port)  # a busy port fails before any migration
    with (
        sock,
        StopSignals() as stop,
        database(settings) as url,
        tempfile.TemporaryDirectory(prefix="laborhub-metrics-") as metrics_dir,
    ):
        note(f"database: {describe_database(settings, url)}")
        revision = asyncio.run(prepare_database(url))
        note(f"schema at revision {revision}")
        if not args.no_seed and not asyncio.run(has_workers(url)):
            note("no workers yet: loading the demo data set")
            counts = load_seed(settings, url, "demo", replace=False)
            note(f"seeded: {format_counts(counts)}")
        where = f"http://{args.host}:{sock.getsockname()[1]}"  # the port bound, also for 0
        print(f"serving on {where}" if settings.is_production else f"GraphiQL: {where}/graphql")
        stop.serve(uvicorn_config(settings, url, args, metrics_dir), sock)
    return stop.exit_status


def check_serving_settings(settings: Settings) -> None:
    """Refuse unusable settings (a SettingsError) before starting anything."""
    settings.master_key()
    TokenVerifier(settings)
    settings.direct_url(settings.database_url or "")


def uvicorn_config(
    settings: Settings, url: str, args: argparse.Namespace, metrics_dir: str
) -> uvicorn.Config:
    common: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": settings.log_level.lower(),
        "timeout_graceful_shutdown": settings.shutdown_grace_seconds,
        "http": HttpProtocol,
    }
    if args.workers > 1:
        share_with_workers(url, metrics_dir)
        return uvicorn.Config(
            "server.asgi:app_from_env", factory=True, workers=args.workers, **common
        )
    return uvicorn.Config(create_app(settings, url), **common)


def share_with_workers(url: str, metrics_dir: str) -> None:
    """Let uvicorn's worker processes find the database, and share their metrics.

    The one write to os.environ outside server/settings.py (architecture rule 7): workers are
    fresh interpreters that build `Settings.from_env()` in `server.asgi.app_from_env`, and the
    embedded server's URL is only known at run time. Their metrics meet in files in
    `PROMETHEUS_MULTIPROC_DIR` (unless it is set already), one directory per `serve`.
    """
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", metrics_dir)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as url:
        note(f"database: {describe_database(settings, url)}")
        revision = asyncio.run(prepare_database(url))
    print(revision)
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as url:
        note(f"database: {describe_database(settings, url)}")
        asyncio.run(prepare_database(url))
        counts = load_seed(settings, url, args.scale, replace=args.replace)
    print(format_counts(counts))
    return 0


def cmd_export_schema(settings: Settings, args: argparse.Namespace) -> int:
    sdl = schema.schema.as_str().rstrip("\n") + "\n"
    target = args.output or args.path
    if target == "-":
        sys.stdout.write(sdl)
        return 0
    output = Path(target) if target else Path(schema.__file__).parent / "schema.graphql"
    output.write_text(sdl, encoding="utf-8")
    note(f"wrote {output}")
    return 0


def cmd_db_url(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings, keep_running=True) as url:
        print(url)
    return 0


def cmd_db_stop(settings: Settings, args: argparse.Namespace) -> int:
    if settings.database_url:
        raise UsageError("DATABASE_URL is set: there is no embedded PostgreSQL to stop")
    embedded = EmbeddedPostgres(settings.home)
    pid_file = embedded.data_dir / "postmaster.pid"
    if not pid_file.exists():
        note("the embedded PostgreSQL is not running")
        return 0
    embedded.start()
    embedded.stop()
    if pid_file.exists():
        note("the embedded PostgreSQL is still in use by another laborhub process")
    else:
        note("stopped the embedded PostgreSQL")
    return 0


# --- plumbing ------------------------------------------------------------------------------


def format_counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{count} {table}" for table, count in counts.items()) or "nothing"


def describe_error(error: BaseException) -> str:
    """One line for a failure: what went wrong, without the traceback."""
    cause: BaseException = error
    if isinstance(error, sa_exc.DBAPIError) and error.orig is not None:
        # the driver's own exception (asyncpg's) names the problem best
        cause = error.orig.__cause__ or error.orig
    text = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if isinstance(cause, ConnectionError | TimeoutError | socket.gaierror):
        return f"cannot connect to the database: {text}"
    if isinstance(error, PLAIN_ERRORS):
        return text
    if isinstance(error, sa_exc.DBAPIError):
        return f"database error ({type(cause).__name__}): {text}"
    return f"{type(cause).__name__}: {text}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="laborhub",
        description="GraphQL data hub. Uses DATABASE_URL, or an embedded PostgreSQL "
        "in LABORHUB_HOME (default ./.laborhub) when it is unset.",
    )
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback on errors"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Command, help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return sub

    serve = add(
        "serve", cmd_serve, "migrate, seed the demo data if empty, and serve GraphQL over HTTP"
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=positive_int, default=1)
    serve.add_argument(
        "--no-seed", action="store_true", help="do not load the demo data into an empty database"
    )

    add("migrate", cmd_migrate, "apply migrations, sync reference data, print the revision")

    seed = add("seed", cmd_seed, "load a generated data set (after migrating)")
    seed.add_argument("--scale", choices=SCALES, required=True)
    seed.add_argument("--replace", action="store_true", help="replace existing data")

    export = add("export-schema", cmd_export_schema, "write the GraphQL SDL")
    where = "file to write, '-' for stdout (default: schema/schema.graphql of the package)"
    export.add_argument("path", nargs="?", default=None, help=where)
    export.add_argument("--output", "-o", default=None, help="the same as PATH")

    add(
        "db-url",
        cmd_db_url,
        "print the database URL; starts the embedded PostgreSQL and leaves it running",
    )
    add("db-stop", cmd_db_stop, "stop the embedded PostgreSQL left running by db-url")
    register_access(commands)
    register_documents(commands)
    register_maintain(commands)
    return parser


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run() -> NoReturn:
    """The `laborhub` script: `main()`, then exit as a process that stopped on a signal."""
    exit_with(main())


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (128 + N after stopping on signal N)."""
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(Settings.from_env(), args)
    except KeyboardInterrupt:
        return 130
    except Stopped as stopped:
        return stopped.exit_status
    except Exception as error:
        if args.traceback:
            raise
        print(f"laborhub {args.command}: {describe_error(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    run()
