"""Global-ID lookups: which table holds each node type, and how its key is spelled."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from resolvers.data_types import NODE_TABLES
from resolvers.loaders import Loaders

__all__ = ["NODE_TABLES", "key_column", "load_row", "parse_key"]

MAX_INT_KEY = 2**63 - 1


def key_column(type_name: str) -> str:
    return "id" if "id" in NODE_TABLES[type_name].c else "code"


def parse_key(type_name: str, text: str) -> Any | None:
    """The typed key behind a global ID's text, or None when it can't name a row."""
    if key_column(type_name) == "code":
        return text if len(text) <= 32 else None
    if not text.isdigit() or int(text) > MAX_INT_KEY:
        return None
    return int(text)


async def load_row(loaders: Loaders, type_name: str, key: Any) -> RowMapping | None:
    """The row the viewer may see, or None; a partner sees only types its agreement reaches
    (the agreement check refuses other fields, this covers `node`/`nodes`, whose type only
    the ID tells)."""
    if not loaders.may_reach(type_name):
        return None
    return await loaders.row_by_key(NODE_TABLES[type_name], key_column(type_name)).load(key)
