"""Apply the Alembic migrations programmatically (used by the CLI, the app and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from db.partitions import is_partition

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def is_tracked(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Whether autogenerate compares this object: trigram indexes exist only where the server
    ships pg_trgm, and the models don't declare them; a partitioned table's partitions are
    made at run time (db/partitions.py), the models declare the partitioned table."""
    if type_ == "table" and name is not None and reflected and is_partition(name):
        return False
    return not (type_ == "index" and name is not None and name.endswith("_trgm"))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Run `alembic upgrade head` on a connection of `engine`, in one transaction."""

    def _upgrade(connection: object) -> None:
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


async def current_revision(engine: AsyncEngine) -> str | None:
    def _current(connection: object) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()  # type: ignore[arg-type]

    async with engine.connect() as connection:
        return await connection.run_sync(_current)
