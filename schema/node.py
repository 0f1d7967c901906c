"""Objects made from rows, the Relay `Node` interface, and types named rather than imported.

Every object type backed by a declared entity derives from `Record`: its dataclass fields are
the row's columns (the one field-to-column mapping), and defining the class registers it under
its GraphQL name, so a relation names its target type (`named("Employer")`) instead of importing
its module, and no two domain modules import each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Self, TypeVar

import strawberry
from strawberry.types.lazy_type import LazyType

from resolvers.catalog import CATALOG
from resolvers.global_ids import encode_global_id

Row = Mapping[Any, Any]

RECORD_TYPES: dict[str, type[Record]] = {}
"""Every record type by its GraphQL name (the class name), filled as the classes are defined."""


class Record:
    """An object type whose fields are the columns of its entity's rows."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        RECORD_TYPES[cls.__name__] = cls

    @classmethod
    def from_row(cls, row: Row) -> Self:
        return cls(**{name: row[name] for name in _row_fields(cls)})  # type: ignore[arg-type]


@strawberry.interface(description="An object with a global ID (Relay object identification).")
class Node(Record):
    pk: strawberry.Private[Any]

    @strawberry.field(description="Opaque global ID; `node(id:)` fetches the object again.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_global_id(type(self).__name__, self.pk))

    @classmethod
    def from_row(cls, row: Row) -> Self:
        values = {name: row[name] for name in _row_fields(cls)}  # type: ignore[arg-type]
        return cls(pk=row[_key_column(cls)], **values)  # type: ignore[arg-type]


@cache
def _row_fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name != "pk")


@cache
def _key_column(cls: type) -> str:
    key = CATALOG.entity(cls.__name__).key
    assert key is not None, f"{cls.__name__} has no key"
    return key.key


R = TypeVar("R", bound=Record)


def record_type(name: str) -> type[Record]:
    return RECORD_TYPES[name]


def from_row(name: str, row: Row) -> Record:
    """The object of record type `name` that `row` holds."""
    return RECORD_TYPES[name].from_row(row)


@dataclass(frozen=True)
class NamedType(LazyType[str, str]):
    """A type named by its GraphQL name, resolved when the schema is built."""

    def resolve_type(self) -> type[Any]:
        return RECORD_TYPES[self.type_name]


def named(name: str) -> Any:
    """The record type `name`, for an annotation (resolved when the schema is built)."""
    return NamedType(name, module="")


