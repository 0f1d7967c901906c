"""`laborhub keys create|list|revoke` (partner API keys) and `laborhub token` (development JWTs).

Registered into the `laborhub` parser by `server.cli.build_parser`; the same conventions hold:
results on stdout, notes on stderr, a failure is one line and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from db.migrate import current_revision, head_revision
from db.models import Base
from db.pii import PersonalDataVault
from db.reference_data import read_reference_rows
from db.session import create_engine
from server.auth import (
    KEY_CACHE_SECONDS,
    TOKEN_ROLES,
    ApiKeyInfo,
    create_api_key,
    list_api_keys,
    mint_token,
    revoke_api_key,
)
from server.cli_base import Command, SubParsers, UsageError, database, note
from server.settings import Settings

T = TypeVar("T")

_DURATION = re.compile(r"(\d+)([smhd]?)", re.ASCII)
_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def register(commands: SubParsers) -> None:
    """Add `keys` and `token` to the `laborhub` subcommands."""
    keys = commands.add_parser(
        "keys",
        help="partner API keys: create, list, revoke",
        description="Partner API keys, sent as 'X-API-Key: lh_<prefix>_<secret>'. "
        "Only a keyed hash of each secret is stored.",
    )
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = _add(actions, "create", cmd_keys_create, "create a key and print it (shown once)")
    option = create.add_argument
    option("--partner", required=True, metavar="NAME", help="the partner agency")
    option(
        "--scopes",
        required=True,
        type=comma_list,
        metavar="NAMES",
        help="root Query/Mutation fields it may use, e.g. jobs,trainings",
    )
    option(
        "--regions",
        required=True,
        type=comma_list,
        metavar="CODES",
        help="division codes it may see, e.g. 440000,440300",
    )
    option(
        "--fields",
        type=comma_list,
        metavar="FIELDS",
        help="fields it may read, e.g. Job.title,Employer.* (default: every field)",
    )
    option(
        "--types",
        type=comma_list,
        metavar="TYPES",
        help="GraphQL types it reaches beyond those its scopes return, e.g. Application,Worker",
    )
    option(
        "--purpose", required=True, help="the consent purpose its reads of personal data rely on"
    )
    _add(actions, "list", cmd_keys_list, "list the keys (never their secrets)")
    revoke = _add(actions, "revoke", cmd_keys_revoke, "revoke a key")
    revoke.add_argument("prefix", metavar="PREFIX", help="the key's prefix (or its id)")

    token = _add(
        commands,
        "token",
        cmd_token,
        "print a token signed with the development secret (for GraphiQL and tests; "
        "refused when a production key is configured)",
    )
    option = token.add_argument
    option("--role", required=True, choices=[role.value for role in TOKEN_ROLES])
    option("--subject", metavar="S", help="the 'sub' claim (default: dev-ROLE)")
    option("--region", metavar="CODE", help="the division a staff member serves (staff)")
    option("--worker", metavar="ID", help="the worker's ID or database id (worker)")
    option("--employer", metavar="ID", help="the employer's ID or database id (employer)")
    option(
        "--ttl",
        type=duration,
        default=3600,
        metavar="DURATION",
        help="lifetime: seconds, or 30m, 1h, 7d (default: 1h)",
    )


def _add(commands: SubParsers, name: str, handler: Command, help: str) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=help, description=help)
    sub.set_defaults(handler=handler)
    return sub


# --- commands ------------------------------------------------------------------------------


def cmd_keys_create(settings: Settings, args: argparse.Namespace) -> int:
    vault = PersonalDataVault(settings.master_key())
    with database(settings) as url:
        key = on_database(
            url,
            lambda engine: create_api_key(
                engine,
                vault,
                partner=args.partner,
                scopes=args.scopes,
                regions=args.regions,
                fields=args.fields,
                purpose=args.purpose,
                types=args.types,
            ),
        )
    print(key)
    note("this key is shown only this once (only its hash is stored): keep it now")
    return 0


def cmd_keys_list(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as url:
        keys = on_database(url, list_api_keys)
    if not keys:
        note("no API keys yet: `laborhub keys create` makes one")
        return 0
    print(format_table(KEY_COLUMNS, [key_row(key) for key in keys]))
    return 0


def cmd_keys_revoke(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as url:
        revoked = on_database(url, lambda engine: revoke_api_key(engine, args.prefix))
    if not revoked:
        raise UsageError(f"no live API key with prefix or id '{args.prefix}'")
    print(f"revoked {args.prefix}")
    note(f"running servers refuse it within {KEY_CACHE_SECONDS:g} s (their key cache)")
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    region = known_region(args.region) if args.region is not None else None
    try:
        token = mint_token(
            settings,
            role=args.role,
            subject=args.subject or f"dev-{args.role}",
            region=args.region,
            worker_id=args.worker,
            employer_id=args.employer,
            ttl_seconds=args.ttl,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    print(token)
    expires = format_time(datetime.now(UTC) + timedelta(seconds=args.ttl))
    where = f" for {args.region} {region}" if region else ""
    note(f"valid until {expires}{where}; send it as 'Authorization: Bearer <token>'")
    return 0


# --- plumbing ------------------------------------------------------------------------------


def known_region(code: str) -> str:
    """The name of division `code` in the reference data (GB/T 2260); a UsageError if none."""
    regions = read_reference_rows(Base.metadata.tables["regions"])
    names = {str(row["code"]): str(row["name"]) for row in regions}
    if code not in names:
        raise UsageError(
            f"--region {code}: no such division code in the reference data (GB/T 2260), "
            "e.g. 440000 (Guangdong), 440300 (Shenzhen)"
        )
    return names[code]



def on_database(url: str, work: Callable[[AsyncEngine], Coroutine[Any, Any, T]]) -> T:
    """Run `work` with an engine on a database migrated to head; ValueError is a UsageError."""

    async def run() -> T:
        engine = create_engine(url, pool_size=1, max_overflow=0)
        try:
            revision = await current_revision(engine)
            if revision != head_revision():
                raise UsageError(
                    f"the database is not migrated (at revision {revision or 'none'}): "
                    "run `laborhub migrate` first"
                )
            return await work(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except ValueError as exc:
        raise UsageError(str(exc)) from exc


KEY_COLUMNS = (
    "PREFIX",
    "PARTNER",
    "SCOPES",
    "REGIONS",
    "FIELDS",
    "TYPES",
    "PURPOSE",
    "CREATED",
    "LAST USED",
    "REVOKED",
)


def key_row(key: ApiKeyInfo) -> tuple[str, ...]:
    return (
        key.prefix,
        key.partner,
        ",".join(key.scopes),
        ",".join(key.regions),
        "(all)" if key.fields is None else ",".join(key.fields),
        ",".join(key.types) or "-",
        key.purpose,
        format_time(key.created_at),
        format_time(key.last_used_at),
        format_time(key.revoked_at),
    )


def format_time(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = (
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in (header, *rows)
    )
    return "\n".join(line.rstrip() for line in lines)


def comma_list(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def duration(text: str) -> int:
    """Seconds from `3600`, `45s`, `30m`, `1h` or `7d`."""
    match = _DURATION.fullmatch(text.strip().lower())
    if match is None or int(match[1]) < 1:
        raise argparse.ArgumentTypeError(
            f"expected a positive number of seconds or a duration like 30m, 1h, 7d; got {text!r}"
        )
    return int(match[1]) * _SECONDS[match[2]]
