"""Declarative base with a naming convention so migrations get stable constraint names."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, DateTime, Enum, MetaData, String, Table, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


UNREAD = {"read": False}
"""`info` of a column no read path returns (a search index's text, say)."""


def code_column(length: int) -> Any:
    """A national-standard code: compared byte-wise so prefix ranges work on every server."""
    return String(length, collation="C")


def enum_column(enum_type: type[enum.Enum]) -> Enum:
    """Enums are stored as their lowercase values in a VARCHAR with a CHECK constraint."""
    return Enum(
        enum_type,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_type),
        values_callable=lambda members: [m.value for m in members],
        name=enum_type.__name__.lower(),
        validate_strings=True,
    )


def id_column() -> Mapped[int]:
    return mapped_column(BigInteger, primary_key=True, autoincrement=True)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, typed as one (SQLAlchemy types `__table__` as any FromClause)."""
    return cast(Table, model.__table__)
