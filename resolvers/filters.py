"""Conditions shared by the list filters: region subtrees, code prefixes, keywords, ranges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, any_, literal

from db.codes import (
    is_division_code_format,
    is_industry_code_format,
    is_occupation_code_format,
)
from db.models import Industry, Occupation, Region
from db.models.base import table_of
from resolvers.divisions import within_division, within_prefix
from resolvers.errors import BadArgument
from resolvers.global_ids import canonical_global_id, decode_int_id
from resolvers.loaders import Loaders


async def _known_code(
    loaders: Loaders,
    model: type[Region] | type[Industry] | type[Occupation],
    code: str,
    argument: str,
    well_formed: Callable[[str], bool],
    form: str,
    noun: str,
) -> str:
    """`code` when it is well formed and present in the `model` reference table."""
    if not well_formed(code):
        raise BadArgument(argument, f"'{code[:32]}' is not {form}")
    if await loaders.row_by_key(table_of(model), "code").load(code) is None:
        raise BadArgument(argument, f"unknown {noun} code '{code}'")
    return code


async def in_region(
    loaders: Loaders, column: ColumnElement[Any], code: str, argument: str
) -> ColumnElement[bool]:
    """Rows whose region is `code` or lies under it (a province matches all its counties)."""
    form = "a 6-digit division code"
    await _known_code(loaders, Region, code, argument, is_division_code_format, form, "region")
    return within_division(column, code)


async def in_industry(
    loaders: Loaders, column: ColumnElement[Any], code: str, argument: str
) -> ColumnElement[bool]:
    """Rows in industry `code` or under it (section `C` matches every manufacturing class)."""
    form = "a GB/T 4754 industry code"
    await _known_code(loaders, Industry, code, argument, is_industry_code_format, form, "industry")
    return within_prefix(column, code)


async def is_occupation(
    loaders: Loaders, column: ColumnElement[Any], code: str, argument: str
) -> ColumnElement[bool]:
    form = "an occupation code like 4-02-07-10"
    await _known_code(
        loaders, Occupation, code, argument, is_occupation_code_format, form, "occupation"
    )
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


# --- filter inputs as data ------------------------------------------------------------------

Rule = Callable[[Loaders, Any, str], Awaitable[ColumnElement[bool]]]
"""`rule(loaders, value, argument)`: the condition one filter field asks for."""


async def filter_conditions(
    loaders: Loaders, filter: object | None, rules: Mapping[str, Rule]
) -> list[ColumnElement[bool]]:
    """The conditions of a `<Type>Filter` input: `rules` maps its fields to SQL."""
    if filter is None:
        return []
    where = []
    for field, rule in rules.items():
        value = getattr(filter, field)
        if value is not None:
            where.append(await rule(loaders, value, f"filter.{_graphql_name(field)}"))
    return where


def _graphql_name(field: str) -> str:
    head, *rest = field.rstrip("_").split("_")
    return head + "".join(word.title() for word in rest)


def sync_rule(build: Callable[[Any, str], ColumnElement[bool]]) -> Rule:
    async def rule(_loaders: Loaders, value: Any, argument: str) -> ColumnElement[bool]:
        return build(value, argument)

    return rule


def region_rule(column: ColumnElement[Any]) -> Rule:
    return lambda loaders, code, argument: in_region(loaders, column, code, argument)


def industry_rule(column: ColumnElement[Any]) -> Rule:
    return lambda loaders, code, argument: in_industry(loaders, column, code, argument)


def occupation_rule(column: ColumnElement[Any]) -> Rule:
    return lambda loaders, code, argument: is_occupation(loaders, column, code, argument)


def keyword_rule(column: ColumnElement[Any]) -> Rule:
    return sync_rule(lambda text, argument: contains_keyword(column, text, argument))


def equals_rule(column: ColumnElement[Any]) -> Rule:
    return sync_rule(lambda value, _argument: column == value)


def at_least_rule(column: ColumnElement[Any]) -> Rule:
    return sync_rule(lambda value, _argument: column >= value)


def below_rule(column: ColumnElement[Any]) -> Rule:
    return sync_rule(lambda value, _argument: column < value)


def at_most_rule(column: ColumnElement[Any]) -> Rule:
    return sync_rule(lambda value, _argument: column <= value)


def amount_rule(column: ColumnElement[Any], compare: Callable[..., Any]) -> Rule:
    """`compare(column, amount)` for a checked money amount."""
    return sync_rule(lambda value, argument: compare(column, checked_amount(value, argument)))


def node_rule(column: ColumnElement[Any], type_name: str) -> Rule:
    """The row a global ID names (it must name a `type_name`)."""
    return sync_rule(lambda value, argument: column == decode_int_id(value, type_name, argument))


def contains_global_id_rule(array_column: ColumnElement[Any]) -> Rule:
    """Rows whose array of global IDs holds the (canonical) ID given."""
    return sync_rule(
        lambda value, argument: literal(canonical_global_id(str(value), argument))
        == any_(array_column)
    )


def is_set_rule(column: ColumnElement[Any]) -> Rule:
    """`true` asks for rows where `column` is set, `false` for rows where it is not."""
    return sync_rule(lambda wanted, _argument: column.is_not(None) if wanted else column.is_(None))
