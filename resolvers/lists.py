"""Pages of top-level lists and of relations, with their lazily run counts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Table, func, select

from resolvers.loaders import Loaders, Relation
from resolvers.pagination import Ordering, Page, PageRequest, page_from_rows, page_query

Count = Callable[[], Awaitable[int]]


def ordering(table: Table, column: str, descending: bool) -> Ordering:
    return Ordering(
        name=f"{column}:{'desc' if descending else 'asc'}",
        column=table.c[column],
        id_column=table.c.id,
        descending=descending,
    )


async def list_page(
    loaders: Loaders,
    table: Table,
    where: Sequence[ColumnElement[bool]],
    order: Ordering,
    request: PageRequest,
) -> tuple[Page, Count]:
    where = (*where, loaders.visible(table))
    rows = await loaders.rows(page_query(table, where, order, request))
    loaders.note_reads(table, rows)

    async def count() -> int:
        return int(await loaders.scalar(select(func.count()).select_from(table).where(*where)))

    return page_from_rows(rows, order, request), count


async def relation_page(
    loaders: Loaders, relation: Relation, parent_key: Any, order: Ordering, request: PageRequest
) -> tuple[Page, Count]:
    page = await loaders.page_by_parent(relation, order, request).load(parent_key)

    async def count() -> int:
        return await loaders.count_by_parent(relation).load(parent_key)

    return page, count
