"""Conditions shared by the list filters: region subtrees, code prefixes, keywords, ranges."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, ColumnElement, any_, literal

from resolvers.catalog import canonical_global_id
from resolvers.declarations import Condition, Entity, KeyLookup, Rule, ToOne, graphql_name
from resolvers.divisions import within_division, within_prefix
from resolvers.errors import BadArgument
from resolvers.global_ids import decode_int_id
from resolvers.reference import INDUSTRY, OCCUPATION, REGION


async def _known_code(
    reads: KeyLookup, entity: Entity, code: str, argument: str, form: str, noun: str
) -> str:
    """`code` when it is well formed and present in the reference table of `entity`."""
    assert entity.key_format is not None
    if not entity.key_format(code):
        raise BadArgument(argument, f"'{code[:32]}' is not {form}")
    if await reads.node(entity, code) is None:
        raise BadArgument(argument, f"unknown {noun} code '{code}'")
    return code


async def in_region(
    reads: KeyLookup, column: ColumnElement[Any], code: str, argument: str
) -> Condition:
    """Rows whose region is `code` or lies under it (a province matches all its counties)."""
    await _known_code(reads, REGION, code, argument, "a 6-digit division code", "region")
    return within_division(column, code)


async def in_industry(
    reads: KeyLookup, column: ColumnElement[Any], code: str, argument: str
) -> Condition:
    """Rows in industry `code` or under it (section `C` matches every manufacturing class)."""
    await _known_code(reads, INDUSTRY, code, argument, "a GB/T 4754 industry code", "industry")
    return within_prefix(column, code)


async def is_occupation(
    reads: KeyLookup, column: ColumnElement[Any], code: str, argument: str
) -> Condition:
    form = "an occupation code like 4-02-07-10"
    await _known_code(reads, OCCUPATION, code, argument, form, "occupation")
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

async def filter_conditions(
    reads: KeyLookup, entity: Entity, filter: object | None
) -> list[Condition]:
    """The conditions of a `<Type>Filter` input: the entity's `filters` map its fields to
    SQL; its `ranges` are checked after the rules, which refuse values that can't compare."""
    if filter is None:
        return []
    where = []
    for field, rule in entity.filters.items():
        value = getattr(filter, field)
        if value is not None:
            condition = await rule.condition(reads, value, f"filter.{graphql_name(field)}")
            where.append(condition)
    for bounds in entity.ranges:
        low, high = getattr(filter, bounds.low), getattr(filter, bounds.high)
        check_range(low, high, f"filter.{graphql_name(bounds.low)}")
    return where


def sync_rule(column: Column[Any], build: Callable[[Any, str], Condition]) -> Rule:
    """The rule on `column` whose condition `build(value, argument)` makes without a query."""

    async def condition(_reads: KeyLookup, value: Any, argument: str) -> Condition:
        return build(value, argument)

    return Rule(column, condition)


def region_rule(column: Column[Any]) -> Rule:
    return Rule(column, lambda reads, code, argument: in_region(reads, column, code, argument))


def industry_rule(column: Column[Any]) -> Rule:
    return Rule(column, lambda reads, code, argument: in_industry(reads, column, code, argument))


def occupation_rule(column: Column[Any]) -> Rule:
    return Rule(
        column, lambda reads, code, argument: is_occupation(reads, column, code, argument)
    )


def keyword_rule(column: Column[Any]) -> Rule:
    return sync_rule(column, lambda text, argument: contains_keyword(column, text, argument))


def equals_rule(column: Column[Any]) -> Rule:
    return sync_rule(column, lambda value, _argument: column == value)


def at_least_rule(column: Column[Any]) -> Rule:
    return sync_rule(column, lambda value, _argument: column >= value)


def below_rule(column: Column[Any]) -> Rule:
    return sync_rule(column, lambda value, _argument: column < value)


def at_most_rule(column: Column[Any]) -> Rule:
    return sync_rule(column, lambda value, _argument: column <= value)


def amount_rule(column: Column[Any], compare: Callable[..., Any]) -> Rule:
    """`compare(column, amount)` for a checked money amount."""
    return sync_rule(
        column, lambda value, argument: compare(column, checked_amount(value, argument))
    )


def node_rule(relation: ToOne) -> Rule:
    """Rows whose to-one `relation` points to the object a global ID names (an ID of the
    relation's target type)."""
    column, target = relation.via, relation.target
    return sync_rule(
        column, lambda value, argument: column == decode_int_id(value, target, argument)
    )


def contains_global_id_rule(array_column: Column[Any]) -> Rule:
    """Rows whose array of global IDs holds the (canonical) ID given."""
    return sync_rule(
        array_column,
        lambda value, argument: literal(canonical_global_id(str(value), argument))
        == any_(array_column),
    )


def is_set_rule(column: Column[Any]) -> Rule:
    """`true` asks for rows where `column` is set, `false` for rows where it is not."""
    return sync_rule(
        column, lambda wanted, _argument: column.is_not(None) if wanted else column.is_(None)
    )
