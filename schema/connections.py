"""Relay connections with keyset cursors and a lazily counted `totalCount`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Table

from resolvers.lists import list_page, ordering, relation_page
from resolvers.loaders import Relation
from resolvers.pagination import Ordering, Page, PageRequest, page_request
from schema.node import Node

if TYPE_CHECKING:
    from schema.context import Info

NodeT = TypeVar("NodeT", bound=Node)


@strawberry.enum(description="Sort direction.")
class OrderDirection(Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description="Opaque; pass it as `after` or `before`.")
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="The page's nodes without edges, for small payloads.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @strawberry.field(description="How many objects the whole list holds (under the filter).")
    async def total_count(self) -> int:
        return await self.count()


def connection(
    node_type: type[NodeT], page: Page, count: Callable[[], Awaitable[int]]
) -> Connection[NodeT]:
    edges = [
        Edge(cursor=cursor, node=node_type.from_row(row))
        for row, cursor in zip(page.rows, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        count=count,
    )


async def related(
    info: Info,
    node_type: type[NodeT],
    relation: Relation,
    parent_key: Any,
    order: Ordering,
    page: PageArgs,
) -> Connection[NodeT]:
    """A page of a one-to-many relation, batched over every parent in the request."""
    found, count = await relation_page(
        info.context.loaders, relation, parent_key, order, page.request()
    )
    return connection(node_type, found, count)


@dataclass(frozen=True)
class PageArgs:
    """The Relay paging arguments every connection field takes."""

    first: int | None
    after: str | None
    last: int | None
    before: str | None

    def request(self) -> PageRequest:
        return page_request(self.first, self.after, self.last, self.before)


async def listed(
    info: Info,
    node_type: type[NodeT],
    table: Table,
    where: Sequence[ColumnElement[bool]],
    order: tuple[Enum, OrderDirection],
    page: PageArgs,
) -> Connection[NodeT]:
    """A page of a top-level list under a filter and an `orderBy`."""
    request = page.request()
    field, direction = order
    found, count = await list_page(
        info.context.loaders,
        table,
        where,
        ordering(table, str(field.value), descending=direction is OrderDirection.DESC),
        request,
    )
    return connection(node_type, found, count)
