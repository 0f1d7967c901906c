"""Per-request DataLoaders: one batched statement per relation per request.

Each batch runs on its own pooled connection (sibling resolvers run concurrently, and one
connection must never serve two tasks at once), in autocommit mode because reads need no
transaction round trips. Loaders are made on first use and kept for the request, keyed by
what they load, so every parent asking for the same relation shares one batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Column, ColumnElement, Executable, Table, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.pagination import (
    Ordering,
    Page,
    PageRequest,
    count_per_parent_query,
    matches_any,
    page_from_rows,
    per_parent_page_query,
    readable_columns,
)

V = TypeVar("V")


@dataclass(frozen=True)
class Relation:
    """Rows of `table` that belong to a parent through `table.<parent_column>`."""

    table: Table
    parent_column: str
    where: tuple[ColumnElement[bool], ...] = field(default=(), compare=False)
    name: str = ""

    @property
    def column(self) -> Column[Any]:
        return self.table.c[self.parent_column]

    @property
    def cache_key(self) -> str:
        return self.name or f"{self.table.name}.{self.parent_column}"


_readers: WeakKeyDictionary[AsyncEngine, AsyncEngine] = WeakKeyDictionary()


def reader_of(engine: AsyncEngine) -> AsyncEngine:
    """The engine's autocommit twin (same pool), made once per engine rather than per request."""
    reader = _readers.get(engine)
    if reader is None:
        reader = _readers[engine] = engine.execution_options(isolation_level="AUTOCOMMIT")
    return reader


class Loaders:
    def __init__(self, engine: AsyncEngine) -> None:
        self._reader = reader_of(engine)
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    async def rows(self, statement: Executable) -> list[RowMapping]:
        async with self._reader.connect() as connection:
            return list((await connection.execute(statement)).mappings())

    async def scalar(self, statement: Executable) -> Any:
        async with self._reader.connect() as connection:
            return (await connection.execute(statement)).scalar_one()

    def _loader(
        self, key: Hashable, batch: Callable[[Sequence[Any]], Any]
    ) -> DataLoader[Any, Any]:
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = DataLoader(load_fn=batch)
        return loader

    def row_by_key(self, table: Table, column: str = "id") -> DataLoader[Any, RowMapping | None]:
        """RowByKeyLoader: the row whose unique `column` equals the key, or None."""

        async def batch(keys: Sequence[Any]) -> list[RowMapping | None]:
            key_column = table.c[column]
            found = await self.rows(
                select(*readable_columns(table)).where(matches_any(key_column, keys))
            )
            by_key = {row[column]: row for row in found}
            return [by_key.get(k) for k in keys]

        return self._loader(("row", table.name, column), batch)

    def rows_by_parent(self, relation: Relation) -> DataLoader[Any, list[RowMapping]]:
        """RowsByParentLoader: every row of a small relation (skills, intentions, children)."""

        async def batch(keys: Sequence[Any]) -> list[list[RowMapping]]:
            found = await self.rows(
                select(*readable_columns(relation.table))
                .where(matches_any(relation.column, keys), *relation.where)
                .order_by(*relation.table.primary_key.columns)
            )
            grouped: dict[Any, list[RowMapping]] = defaultdict(list)
            for row in found:
                grouped[row[relation.parent_column]].append(row)
            return [grouped.get(k, []) for k in keys]

        return self._loader(("rows", relation.cache_key), batch)

    def page_by_parent(
        self, relation: Relation, ordering: Ordering, request: PageRequest
    ) -> DataLoader[Any, Page]:
        """PageByParentLoader: the same page of a relation for every parent, in one query."""

        async def batch(keys: Sequence[Any]) -> list[Page]:
            found = await self.rows(
                per_parent_page_query(
                    relation.table, relation.column, keys, relation.where, ordering, request
                )
            )
            grouped: dict[Any, list[RowMapping]] = defaultdict(list)
            for row in found:
                grouped[row[relation.parent_column]].append(row)
            return [page_from_rows(grouped.get(k, []), ordering, request) for k in keys]

        return self._loader(("page", relation.cache_key, ordering.name, request), batch)

    def count_by_parent(self, relation: Relation) -> DataLoader[Any, int]:
        """CountByParentLoader: how many rows of the relation each parent has."""

        async def batch(keys: Sequence[Any]) -> list[int]:
            found = await self.rows(count_per_parent_query(relation.column, keys, relation.where))
            counts = {row[relation.parent_column]: row["count"] for row in found}
            return [counts.get(k, 0) for k in keys]

        return self._loader(("count", relation.cache_key), batch)
