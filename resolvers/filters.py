"""Conditions shared by the list filters: region subtrees, code prefixes, keywords, ranges."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement

from db.codes import (
    is_division_code_format,
    is_industry_code_format,
    is_occupation_code_format,
)
from db.models import Industry, Occupation, Region
from db.models.base import table_of
from resolvers.divisions import within_division, within_prefix
from resolvers.errors import BadArgument
from resolvers.loaders import Loaders


async def in_region(
    loaders: Loaders, column: ColumnElement[Any], code: str, argument: str
) -> ColumnElement[bool]:
    """Rows whose region is `code` or lies under it (a province matches all its counties)."""
    if not is_division_code_format(code):
        raise BadArgument(argument, f"'{code[:32]}' is not a 6-digit division code")
    if await loaders.row_by_key(table_of(Region), "code").load(code) is None:
        raise BadArgument(argument, f"unknown region code '{code}'")
    return within_division(column, code)


async def in_industry(
    loaders: Loaders, column: ColumnElement[Any], code: str, argument: str
) -> ColumnElement[bool]:
    """Rows in industry `code` or under it (section `C` matches every manufacturing class)."""
    if not is_industry_code_format(code):
        raise BadArgument(argument, f"'{code[:32]}' is not a GB/T 4754 industry code")
    if await loaders.row_by_key(table_of(Industry), "code").load(code) is None:
        raise BadArgument(argument, f"unknown industry code '{code}'")
    return within_prefix(column, code)


async def is_occupation(
    loaders: Loaders, column: ColumnElement[Any], code: str, argument: str
) -> ColumnElement[bool]:
    if not is_occupation_code_format(code):
        raise BadArgument(argument, f"'{code[:32]}' is not an occupation code like 4-02-07-10")
    if await loaders.row_by_key(table_of(Occupation), "code").load(code) is None:
        raise BadArgument(argument, f"unknown occupation code '{code}'")
    return column == code


def contains_keyword(
    column: ColumnElement[Any], keyword: str, argument: str
) -> ColumnElement[bool]:
    text = keyword.strip()
    if not text:
        raise BadArgument(argument, "must not be blank")
    if len(text) > 64:
        raise BadArgument(argument, "must be at most 64 characters")
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


MAX_AMOUNT = Decimal("9999999999.99")  # what NUMERIC(12, 2) money columns hold


def is_amount(value: Decimal) -> bool:
    """A money amount the database can hold: finite, not negative, below 10^10."""
    return value.is_finite() and 0 <= value <= MAX_AMOUNT


def checked_amount(value: Decimal | None, argument: str) -> Decimal | None:
    if value is not None and not is_amount(value):
        raise BadArgument(argument, f"must be an amount from 0 to {MAX_AMOUNT}")
    return value


def check_range(low: Any, high: Any, argument: str) -> None:
    if low is not None and high is not None and low > high:
        raise BadArgument(argument, "the lower bound is above the upper bound")
