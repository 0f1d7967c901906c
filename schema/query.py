"""Object identification: `node` and `nodes`, for every type with a global ID."""

from __future__ import annotations

import asyncio

import strawberry

from resolvers.catalog import decode_node_id
from resolvers.errors import BadArgument
from schema.context import Info
from schema.node import Node, from_row

MAX_NODES = 100


async def resolve_node(info: Info, global_id: str, argument: str) -> Node | None:
    """The object `global_id` names; None for a type the API doesn't have or a missing row.
    A key the type can't have (`Worker:0577`, `Region:abc`) is a BadArgument."""
    named = decode_node_id(global_id, argument)
    if named is None:
        return None
    entity, key = named
    row = await info.context.reads.node(entity, key)
    return None if row is None else from_row(entity.name, row)  # type: ignore[return-value]


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global ID; null when there is none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id, "id")

    @strawberry.field(description="Objects by global ID, in the same order; null where none.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadArgument("ids", f"at most {MAX_NODES} IDs at once, got {len(ids)}")
        return list(
            await asyncio.gather(
                *(resolve_node(info, value, f"ids[{i}]") for i, value in enumerate(ids))
            )
        )
