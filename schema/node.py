"""The Relay `Node` interface and the row-to-object mapping every node type shares."""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

import strawberry
from sqlalchemy.engine import RowMapping

from resolvers.global_ids import encode_global_id
from resolvers.nodes import NODE_TABLES, load_row
from resolvers.policies import shows_every_row

if TYPE_CHECKING:
    from schema.context import Info


@strawberry.interface(description="An object with a global ID (Relay object identification).")
class Node:
    pk: strawberry.Private[Any]

    @strawberry.field(description="Opaque global ID; `node(id:)` fetches the object again.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id(graphql_name(type(self)), self.pk))

    # Which row column holds the key that the global ID carries.
    key_column: ClassVar[str] = "id"

    @classmethod
    def from_row(cls, row: RowMapping) -> Self:
        """Field names are column names: this is the one field-to-column mapping."""
        values = {name: row[name] for name in _row_fields(cls)}  # type: ignore[arg-type]
        return cls(pk=row[cls.key_column], **values)



@cache
def _row_fields(cls: type) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in dataclasses.fields(cls)
        if f.init and f.name != "pk"
    )


N = TypeVar("N", bound=Node)


def graphql_name(cls: type) -> str:
    return str(cls.__strawberry_definition__.name)  # type: ignore[attr-defined]


async def load_node(info: Info, cls: type[N], key: Any) -> N | None:
    """The `cls` object with database key `key` through the request's batched loader."""
    row = await load_row(info.context.loaders, graphql_name(cls), key)
    return None if row is None else cls.from_row(row)


async def load_required(info: Info, cls: type[N], key: Any) -> N:
    """A non-null to-one relation: its foreign key guarantees the row, and the target's row
    policy shows every row to every viewer (reference data, employers). A relation to any
    other type is nullable and uses `load_node`, since some viewer may not see its target."""
    name = graphql_name(cls)
    if not shows_every_row(NODE_TABLES[name]):
        raise TypeError(f"{name} rows are hidden from some viewers: make the relation nullable")
    found = await load_node(info, cls, key)
    if found is None:
        raise LookupError(f"{name} {key} is referenced but missing")
    return found
