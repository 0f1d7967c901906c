"""What seeding one table takes: its columns, the generator of its rows, the expected count."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

import asyncpg

from db.models.base import Base, table_of
from db.seed.scales import Scale
from db.seed.world import Row, World


def unknown_count(scale: Scale) -> int | None:
    """The expected count of a table whose size follows from the draws, not from the scale."""
    return None


Prepare = Callable[[asyncpg.Connection, World], Awaitable[object]]
"""What a table needs before its rows are copied in (the partitions they go to)."""


@dataclass(frozen=True)
class Load:
    """One table to fill: its columns, its rows, and how many are expected (if known)."""

    table: str
    columns: Sequence[str]
    rows: Callable[[World], Iterator[Row]]
    expected: Callable[[Scale], int | None]
    prepare: Prepare | None = None

    @classmethod
    def of(
        cls,
        model: type[Base],
        rows: Callable[[World], Iterator[Row]],
        expected: Callable[[Scale], int | None] = unknown_count,
        *,
        defaulted: Sequence[str] = (),
        prepare: Prepare | None = None,
    ) -> Load:
        """Every column of `model`'s table in the table's order (which the rows follow), but
        the `defaulted` ones and the generated ones, which the server fills."""
        table = table_of(model)
        missing = sorted(set(defaulted).difference(table.c.keys()))
        if missing:
            raise ValueError(f"defaulted: table {table.name} has no column {', '.join(missing)}")
        columns = tuple(
            column.name for column in table.c
            if column.name not in defaulted and column.computed is None
        )
        return cls(table.name, columns, rows, expected, prepare)
