"""Per-request DataLoaders: one batched statement per relation per request.

Each batch runs on its own pooled connection (sibling resolvers run concurrently, and one
connection must never serve two tasks at once), in autocommit mode because reads need no
transaction round trips. Loaders are made on first use and kept for the request, keyed by
what they load, so every parent asking for the same relation shares one batch.

Every statement made here applies the viewer's row policy (`resolvers.policies.visible`), so
what a viewer may not see is absent from pages, counts and lookups alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Column, ColumnElement, Executable, Table, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.dataloader import DataLoader

from resolvers.access import Viewer
from resolvers.data_types import AUDITED_AS
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
from resolvers.policies import visible


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


def _grouped(rows: Sequence[RowMapping], column: str) -> defaultdict[Any, list[RowMapping]]:
    groups: defaultdict[Any, list[RowMapping]] = defaultdict(list)
    for row in rows:
        groups[row[column]].append(row)
    return groups


class Loaders:
    def __init__(self, engine: AsyncEngine, viewer: Viewer) -> None:
        self._reader = reader_of(engine)
        self.viewer = viewer
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}
        # Personal-data rows a partner read in this request: type name -> keys (audited).
        self.partner_reads: defaultdict[str, set[int]] = defaultdict(set)
        # The types a partner's agreement reaches, set by the agreement check before anything
        # runs; None (check not run) reaches nothing.
        self.partner_reach: frozenset[str] | None = None

    def may_reach(self, type_name: str) -> bool:
        """Whether the viewer's agreement (if a partner's) reaches `type_name`."""
        if self.viewer.partner is None:
            return True
        return self.partner_reach is not None and type_name in self.partner_reach

    def visible(self, table: Table) -> ColumnElement[bool]:
        return visible(self.viewer, table)

    def note_reads(self, table: Table, rows: Sequence[RowMapping]) -> None:
        """Remember which personal-data rows a partner's request returned."""
        audited = AUDITED_AS.get(table.name)
        if self.viewer.partner is not None and audited is not None:
            type_name, column = audited
            self.partner_reads[type_name].update(row[column] for row in rows)

    async def rows(self, statement: Executable) -> list[RowMapping]:
        """Run a statement that already applies `self.visible` to every table it reads."""
        async with self._reader.connect() as connection:
            return list((await connection.execute(statement)).mappings())

    async def scalar(self, statement: Executable) -> Any:
        async with self._reader.connect() as connection:
            return (await connection.execute(statement)).scalar_one()

    async def visible_rows(
        self, table: Table, *where: ColumnElement[bool], order_by: Sequence[Column[Any]] = ()
    ) -> list[RowMapping]:
        """Every row of `table` under `where` that the viewer may see (small lists only)."""
        statement = select(*readable_columns(table)).where(*where, self.visible(table))
        found = await self.rows(statement.order_by(*order_by))
        self.note_reads(table, found)
        return found

    def _loader(
        self, key: Hashable, load: Callable[..., Awaitable[list[Any]]], *args: Any
    ) -> DataLoader[Any, Any]:
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = DataLoader(load_fn=partial(load, *args))
        return loader

    def row_by_key(self, table: Table, column: str = "id") -> DataLoader[Any, RowMapping | None]:
        """RowByKeyLoader: the visible row whose unique `column` equals the key, or None."""
        return self._loader(("row", table.name, column), self._rows_by_key, table, column)

    async def _rows_by_key(
        self, table: Table, column: str, keys: Sequence[Any]
    ) -> list[RowMapping | None]:
        found = await self.visible_rows(table, matches_any(table.c[column], keys))
        by_key = {row[column]: row for row in found}
        return [by_key.get(k) for k in keys]

    def rows_by_parent(self, relation: Relation) -> DataLoader[Any, list[RowMapping]]:
        """RowsByParentLoader: every row of a small relation (skills, intentions, children)."""
        return self._loader(("rows", relation.cache_key), self._rows_by_parent, relation)

    async def _rows_by_parent(
        self, relation: Relation, keys: Sequence[Any]
    ) -> list[list[RowMapping]]:
        found = await self.visible_rows(
            relation.table,
            matches_any(relation.column, keys),
            *relation.where,
            order_by=list(relation.table.primary_key.columns),
        )
        groups = _grouped(found, relation.parent_column)
        return [groups.get(k, []) for k in keys]

    def page_by_parent(
        self, relation: Relation, ordering: Ordering, request: PageRequest
    ) -> DataLoader[Any, Page]:
        """PageByParentLoader: the same page of a relation for every parent, in one query."""
        key = ("page", relation.cache_key, ordering.name, request)
        return self._loader(key, self._pages_by_parent, relation, ordering, request)

    async def _pages_by_parent(
        self, relation: Relation, ordering: Ordering, request: PageRequest, keys: Sequence[Any]
    ) -> list[Page]:
        where = (*relation.where, self.visible(relation.table))
        found = await self.rows(
            per_parent_page_query(relation.table, relation.column, keys, where, ordering, request)
        )
        self.note_reads(relation.table, found)
        groups = _grouped(found, relation.parent_column)
        return [page_from_rows(groups.get(k, []), ordering, request) for k in keys]

    def count_by_parent(self, relation: Relation) -> DataLoader[Any, int]:
        """CountByParentLoader: how many visible rows of the relation each parent has."""
        return self._loader(("count", relation.cache_key), self._counts_by_parent, relation)

    async def _counts_by_parent(self, relation: Relation, keys: Sequence[Any]) -> list[int]:
        where = (*relation.where, self.visible(relation.table))
        found = await self.rows(count_per_parent_query(relation.column, keys, where))
        counts = {row[relation.parent_column]: row["count"] for row in found}
        return [counts.get(k, 0) for k in keys]
