"""Global-ID lookups: which table holds each node type, and how its key is spelled."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from resolvers.data_types import NODE_TABLES
from resolvers.global_ids import code_key, int_key
from resolvers.loaders import Loaders

__all__ = ["NODE_TABLES", "key_column", "load_row", "parse_key"]


def key_column(type_name: str) -> str:
    return "id" if "id" in NODE_TABLES[type_name].c else "code"


def parse_key(type_name: str, text: str) -> Any | None:
    """The typed key behind a global ID's text, or None when it is not one the type can have
    (written canonically: see `resolvers.global_ids`)."""
    if key_column(type_name) == "code":
        return code_key(type_name, text)
    return int_key(text)


async def load_row(loaders: Loaders, type_name: str, key: Any) -> RowMapping | None:
    """The row the viewer may see, or None; a partner sees only types its agreement reaches
    (the agreement check refuses other fields, this covers `node`/`nodes`, whose type only
    the ID tells)."""
    if not loaders.may_reach(type_name):
        return None
    return await loaders.row_by_key(NODE_TABLES[type_name], key_column(type_name)).load(key)
