"""Reference data (regions, occupations, industries, skills) kept as CSV files next to this module.

`sync_reference_data` upserts every file into its table, one statement per table, parents
before children, so running it again after editing a file updates the rows in place.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import Base

REFERENCE_DIR = Path(__file__).parent / "reference"

# Referenced tables first: occupations need their groups, skills their occupations.
REFERENCE_TABLES: tuple[Table, ...] = tuple(
    Base.metadata.tables[name]
    for name in ("regions", "occupation_groups", "occupations", "industries", "skills")
)


def _parse(column: Column[Any], text: str) -> object:
    """A CSV cell as the column's Python value; an empty cell is NULL."""
    if text == "":
        return None
    python_type = column.type.python_type
    if python_type is date:
        return date.fromisoformat(text)
    return python_type(text)


def read_reference_rows(table: Table) -> list[dict[str, object]]:
    """The rows of `reference/<table>.csv`, whose header names the table's columns."""
    with (REFERENCE_DIR / f"{table.name}.csv").open(encoding="utf-8", newline="") as handle:
        return [
            {name: _parse(table.c[name], text) for name, text in record.items()}
            for record in csv.DictReader(handle)
        ]


async def _upsert(conn: AsyncConnection, table: Table, rows: list[dict[str, object]]) -> None:
    # One multi-row statement: a row may reference a parent further down the same file,
    # because PostgreSQL checks foreign keys at the end of the statement.
    statement = insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={
            column.name: statement.excluded[column.name]
            for column in table.columns
            if not column.primary_key
        },
    )
    await conn.execute(statement)


async def sync_reference_data(conn: AsyncConnection) -> None:
    """Insert or update every reference row from the CSV files (idempotent)."""
    for table in REFERENCE_TABLES:
        await _upsert(conn, table, read_reference_rows(table))
