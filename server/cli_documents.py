"""`laborhub documents add FILE...` and `laborhub documents list`: trusted GraphQL documents.

`add` reads each file as one GraphQL document, checks that it parses and validates against the
schema, and stores it as trusted (see server/persisted.py) under its operation's name (the file
name without `.graphql` when the document has no single named operation). It prints
`sha256  name` per file: clients send that hash as `extensions.persistedQuery.sha256Hash`, or the
file's exact text. With LABORHUB_TRUSTED_DOCUMENTS_ONLY=1 only such documents run.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from graphql import OperationDefinitionNode

from db.session import create_engine
from schema import schema
from server.cli_base import (
    SubParsers,
    UsageError,
    database,
    describe_database,
    note,
    prepare_database,
)
from server.graphql_http import DocumentPreparer, graphql_schema_of
from server.persisted import list_documents, register_trusted
from server.settings import Settings


def register(commands: SubParsers) -> None:
    """Add the `documents` command to the `laborhub` subparsers `commands`."""
    documents: argparse.ArgumentParser = commands.add_parser(
        "documents",
        help="register trusted GraphQL documents (persisted queries) and list them",
        description="Register trusted GraphQL documents (persisted queries) and list them.",
    )
    actions = documents.add_subparsers(dest="action", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="store .graphql files (one document each) as trusted; prints `sha256  name`",
        description="Store .graphql files (one document each) as trusted documents.",
    )
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.set_defaults(handler=cmd_documents_add)
    listing = actions.add_parser(
        "list", help="list stored documents", description="List stored documents."
    )
    listing.add_argument("--all", action="store_true", help="include untrusted (APQ) documents too")
    listing.set_defaults(handler=cmd_documents_list)


def read_document(path: Path) -> tuple[str, str]:
    """`(name, text)` of a .graphql file, after checking it against the schema."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from exc
    prepared = DocumentPreparer(graphql_schema_of(schema)).prepare_now(text)
    if prepared.errors or prepared.document is None:
        raise UsageError(f"{path}: {prepared.errors[0].message}")
    document = prepared.document
    names = [
        d.name.value
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name is not None
    ]
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = names[0] if len(names) == 1 and len(operations) == 1 else path.stem
    return name, text


def cmd_documents_add(settings: Settings, args: argparse.Namespace) -> int:
    documents = [read_document(path) for path in args.files]  # all checked before storing
    with database(settings) as url:
        note(f"database: {describe_database(settings, url)}")
        asyncio.run(prepare_database(url))
        registered = asyncio.run(_register(url, documents))
    for sha, name in registered:
        print(f"{sha}  {name}")
    return 0


def cmd_documents_list(settings: Settings, args: argparse.Namespace) -> int:
    with database(settings) as url:
        note(f"database: {describe_database(settings, url)}")
        asyncio.run(prepare_database(url))
        rows = asyncio.run(_list(url, trusted_only=not args.all))
    for row in rows:
        kind = "trusted" if row.trusted else "apq"
        print(f"{row.sha256}  {kind:<7}  {row.name or '-'}")
    return 0


async def _register(url: str, documents: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        return await register_trusted(engine, documents)
    finally:
        await engine.dispose()


async def _list(url: str, *, trusted_only: bool) -> list[Any]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        return list(await list_documents(engine, trusted_only=trusted_only))
    finally:
        await engine.dispose()


__all__ = ["read_document", "register"]
