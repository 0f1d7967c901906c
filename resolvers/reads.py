"""The read gateway: the one way resolvers read rows, each read under the viewer's row policy.

A `Reads` lives for one request. Every method takes a declared entity or relation and applies
that entity's row policy itself, so what a viewer may not see is absent from pages, counts
and lookups alike, and no caller can forget it. Lookups and relations are batched through
per-request DataLoaders (`BatchLoaders`): one statement per relation per request, whatever the
list sizes. Each batch runs on its own pooled connection (sibling resolvers run concurrently,
and one connection must never serve two tasks at once), in autocommit mode because reads need
no transaction round trips (but behind PgBouncer: see `db.session.reader_of`), on the read
replica when the request's route allows it (`resolvers.database.Database.read`). Which
personal-data rows a partner read is noted on the way (`AuditedReads`) for the audit trail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import partial
from typing import Any

from sqlalchemy import Column, ColumnElement, Executable, func, select
from sqlalchemy.engine import RowMapping
from strawberry.dataloader import DataLoader

from db.session import REPLAN, reader_of
from resolvers.access import Viewer
from resolvers.catalog import CATALOG, audited_as, visible
from resolvers.database import Database, ReadSource
from resolvers.declarations import Condition, Entity, ToMany
from resolvers.metrics import DATALOADER_BATCH_SIZE
from resolvers.pagination import (
    Ordering,
    Page,
    PageRequest,
    count_per_parent_query,
    matches_any,
    page_from_rows,
    page_query,
    per_parent_page_query,
    readable_columns,
)
from resolvers.tracing import span

Count = Callable[[], Awaitable[int]]

class BatchLoaders:
    """The request's DataLoaders, made on first use and kept, keyed by what they load, so
    every parent asking for the same relation shares one batch (`<Result>By<Key>Loader`)."""

    def __init__(self) -> None:
        self._loaders: dict[Hashable, DataLoader[Any, Any]] = {}

    def get(
        self, key: Hashable, load: Callable[..., Awaitable[list[Any]]], *args: Any
    ) -> DataLoader[Any, Any]:
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = DataLoader(load_fn=_traced(key, partial(load, *args)))
        return loader


def _traced(
    key: Hashable, load: Callable[[list[Any]], Awaitable[list[Any]]]
) -> Callable[[list[Any]], Awaitable[list[Any]]]:
    """`load`, each batch in a span naming the loader (`row Job`, `rows Job.employer`...)
    and the batch's size, which the loader's histogram also records."""
    name = " ".join(map(_loader_part, key)) if isinstance(key, tuple) else str(key)
    sizes = DATALOADER_BATCH_SIZE.labels(name)

    async def batch(keys: list[Any]) -> list[Any]:
        sizes.observe(len(keys))
        with span("dataloader batch", {"laborhub.loader": name, "laborhub.batch_size": len(keys)}):
            return await load(keys)

    return batch


def _loader_part(part: Any) -> str:
    if isinstance(part, ToMany):  # by the column its rows point through
        return f"{part.target}.{part.via.key}"
    return part if isinstance(part, str) else type(part).__name__


class AuditedReads:
    """Which personal-data rows a request returned that the audit trail records: type name ->
    keys. A partner's every personal-data row (`note`); anyone's rows noted by name
    (`note_keys`: a ranking's subject and the people it ranks)."""

    def __init__(self, viewer: Viewer) -> None:
        self._partner = viewer.partner is not None
        self.reads: defaultdict[str, set[Any]] = defaultdict(set)
        # Set while the compiled path lets the resolver path answer part of an operation:
        # the compiled path then audits what both read, once (server.compiled_reads).
        self.audit_deferred = False

    def note_keys(self, type_name: str, keys: Sequence[Any]) -> None:
        self.reads[type_name].update(keys)

    def note(self, entity: Entity, rows: Sequence[RowMapping]) -> None:
        audited = audited_as(entity) if self._partner else None
        if audited is not None:
            type_name, column = audited
            self.reads[type_name].update(row[column] for row in rows)


async def _rows_on(statement: Executable, source: ReadSource) -> list[RowMapping]:
    async with reader_of(source.engine).connect() as connection:
        return list((await connection.execute(statement)).mappings())


async def _scalar_on(statement: Executable, source: ReadSource) -> Any:
    async with reader_of(source.engine).connect() as connection:
        return (await connection.execute(statement)).scalar_one()


async def _replanned_rows_on(statement: Executable, source: ReadSource) -> list[RowMapping]:
    async with source.engine.begin() as connection:  # a transaction, for `SET LOCAL`
        await connection.exec_driver_sql(REPLAN)
        return list((await connection.execute(statement)).mappings())


def _grouped(rows: Sequence[RowMapping], column: str) -> defaultdict[Any, list[RowMapping]]:
    groups: defaultdict[Any, list[RowMapping]] = defaultdict(list)
    for row in rows:
        groups[row[column]].append(row)
    return groups


class Reads:
    """One request's reads (see the module docstring)."""

    def __init__(self, database: Database, viewer: Viewer) -> None:
        self._database = database
        self.viewer = viewer
        self._batches = BatchLoaders()
        self.audit_log = AuditedReads(viewer)
        # The types a partner's agreement reaches, set by the agreement check before anything
        # runs; None (check not run) reaches nothing.
        self.partner_reach: frozenset[str] | None = None

    def may_reach(self, type_name: str) -> bool:
        """Whether the viewer's agreement (if a partner's) reaches `type_name`."""
        if self.viewer.partner is None:
            return True
        return self.partner_reach is not None and type_name in self.partner_reach

    def _where(self, entity: Entity) -> Condition:
        return visible(self.viewer, entity.table)

    async def _rows(self, statement: Executable) -> list[RowMapping]:
        return await self._database.read(partial(_rows_on, statement))

    async def ranked_rows(self, statement: Executable) -> list[RowMapping]:
        """The rows of a ranking's statement, which applies the row policies itself, planned
        for its values (`db.session.REPLAN`)."""
        return await self._database.read(partial(_replanned_rows_on, statement))

    async def _read(
        self, entity: Entity, *where: ColumnElement[bool], order_by: Sequence[Any] = ()
    ) -> list[RowMapping]:
        statement = select(*readable_columns(entity.table)).where(*where, self._where(entity))
        found = await self._rows(statement.order_by(*order_by))
        self.audit_log.note(entity, found)
        return found

    # --- lookups by key -------------------------------------------------------------------

    async def node(self, entity: Entity, key: Any) -> RowMapping | None:
        """The row of `entity` with key `key` that the viewer may see, or None; a partner sees
        only the types its agreement reaches (the agreement check refuses other fields; this
        covers `node`/`nodes`, whose type only the ID tells). RowByKeyLoader."""
        if entity.key is None or not self.may_reach(entity.name):
            return None
        loader = self._batches.get(("row", entity.name), self._rows_by_key, entity, entity.key)
        row: RowMapping | None = await loader.load(key)
        return row

    async def target(self, type_name: str, key: Any) -> RowMapping | None:
        """The row of the declared type `type_name` with key `key` (a relation's target)."""
        return await self.node(CATALOG.entity(type_name), key)

    async def _rows_by_key(
        self, entity: Entity, column: Column[Any], keys: Sequence[Any]
    ) -> list[RowMapping | None]:
        found = await self._read(entity, matches_any(column, keys))
        by_key = {row[column.key]: row for row in found}
        return [by_key.get(k) for k in keys]

    # --- relations ------------------------------------------------------------------------

    async def children(self, relation: ToMany, parent_key: Any) -> list[RowMapping]:
        """Every row of a small relation (skills, intentions, children). RowsByParentLoader."""
        entity = CATALOG.entity(relation.target)
        loader = self._batches.get(("rows", relation), self._rows_by_parent, entity, relation)
        rows: list[RowMapping] = await loader.load(parent_key)
        return rows

    async def _rows_by_parent(
        self, entity: Entity, relation: ToMany, keys: Sequence[Any]
    ) -> list[list[RowMapping]]:
        order = list(entity.table.primary_key.columns)
        found = await self._read(
            entity, matches_any(relation.via, keys), *relation.where, order_by=order
        )
        groups = _grouped(found, relation.via.key)
        return [groups.get(k, []) for k in keys]

    async def count(self, relation: ToMany, parent_key: Any) -> int:
        """How many visible rows of the relation the parent has. CountByParentLoader."""
        entity = CATALOG.entity(relation.target)
        loader = self._batches.get(("count", relation), self._counts_by_parent, entity, relation)
        found: int = await loader.load(parent_key)
        return found

    async def _counts_by_parent(
        self, entity: Entity, relation: ToMany, keys: Sequence[Any]
    ) -> list[int]:
        where = (*relation.where, self._where(entity))
        found = await self._rows(count_per_parent_query(relation.via, keys, where))
        counts = {row[relation.via.key]: row["count"] for row in found}
        return [counts.get(k, 0) for k in keys]

    async def related_page(
        self, relation: ToMany, parent_key: Any, request: PageRequest
    ) -> tuple[Page, Count]:
        """The same page of a relation for every parent, in one query (PageByParentLoader),
        and the parent's count, run only when asked for."""
        assert relation.order is not None, "a paged relation declares its order"
        entity = CATALOG.entity(relation.target)
        key = ("page", relation, request)
        loader = self._batches.get(key, self._pages_by_parent, entity, relation, request)
        page: Page = await loader.load(parent_key)
        return page, partial(self.count, relation, parent_key)

    async def _pages_by_parent(
        self, entity: Entity, relation: ToMany, request: PageRequest, keys: Sequence[Any]
    ) -> list[Page]:
        assert relation.order is not None
        where = (*relation.where, self._where(entity))
        query = per_parent_page_query(entity.table, relation.via, keys, where, relation.order,
                                      request)
        groups = _grouped(await self._rows(query), relation.via.key)
        pages = [page_from_rows(groups.get(k, []), relation.order, request) for k in keys]
        for page in pages:  # the rows shown, not the one more read to tell whether more exist
            self.audit_log.note(entity, page.rows)
        return pages

    # --- lists ----------------------------------------------------------------------------

    async def page(
        self,
        entity: Entity,
        where: Sequence[Condition],
        ordering: Ordering,
        request: PageRequest,
    ) -> tuple[Page, Count]:
        """A page of a top-level list under `where`, and its count, run only when asked for."""
        conditions = (*where, self._where(entity))
        page = page_from_rows(
            await self._rows(page_query(entity.table, conditions, ordering, request)),
            ordering, request,
        )
        self.audit_log.note(entity, page.rows)  # not the one more read to tell if more exist

        async def count() -> int:
            statement = select(func.count()).select_from(entity.table).where(*conditions)
            return int(await self._database.read(partial(_scalar_on, statement)))

        return page, count

    async def listing(
        self, entity: Entity, *where: Condition, order_by: Sequence[Column[Any]] = ()
    ) -> list[RowMapping]:
        """Every visible row of `entity` under `where` (small lists: reference data)."""
        return await self._read(entity, *where, order_by=order_by)
