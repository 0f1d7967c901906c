"""What every `laborhub` command shares: the database it works on, notes, usage errors.

Every command that needs a database uses DATABASE_URL when it is set and never starts a
server then; otherwise it uses the embedded PostgreSQL in LABORHUB_HOME (see db/embedded.py).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from db.embedded import EmbeddedPostgres
from db.migrate import current_revision, upgrade_to_head
from db.reference_data import sync_reference_data
from db.session import create_engine
from server.settings import Settings

Command = Callable[[Settings, argparse.Namespace], int]
SubParsers = argparse._SubParsersAction


class UsageError(RuntimeError):
    """The command cannot do what was asked; the message says why."""


def note(message: str) -> None:
    print(f"laborhub: {message}", file=sys.stderr, flush=True)


@contextmanager
def database(settings: Settings, *, keep_running: bool = False) -> Iterator[str]:
    """Yield the URL of the database to use: DATABASE_URL, or the embedded server's."""
    if settings.database_url:
        yield settings.database_url
        return
    with EmbeddedPostgres(settings.home, keep_running=keep_running) as embedded:
        for line in embedded.notes:
            note(line)
        yield embedded.url


def describe_database(settings: Settings, url: str) -> str:
    if settings.database_url:
        return make_url(url).render_as_string(hide_password=True)
    return f"embedded PostgreSQL in {EmbeddedPostgres(settings.home).location} ({url})"


async def prepare_database(url: str) -> str | None:
    """Migrate to head and sync the reference data; returns the revision now current."""
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        await upgrade_to_head(engine)
        async with engine.begin() as connection:
            await sync_reference_data(connection)
        return await current_revision(engine)
    finally:
        await engine.dispose()
