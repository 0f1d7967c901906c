"""Pages of top-level lists: the entity's filter, its `orderBy`, the Relay paging arguments."""

from __future__ import annotations

from resolvers.declarations import Entity
from resolvers.filters import filter_conditions
from resolvers.pagination import Page, PageRequest
from resolvers.reads import Count, Reads


async def list_page(
    reads: Reads,
    entity: Entity,
    filter: object | None,
    order: tuple[str, bool],
    request: PageRequest,
) -> tuple[Page, Count]:
    """A page of `entity` under its `filter` input, ordered by `order` (the `orderBy` member
    name and whether descending)."""
    where = await filter_conditions(reads, entity, filter)
    name, descending = order
    return await reads.page(entity, where, entity.ordering(name, descending), request)
