"""Conditions shared by the list filters: region subtrees, code prefixes, keywords, ranges."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, any_, literal

from resolvers.catalog import canonical_global_id
from resolvers.declarations import Condition, Entity, Rule, ToOne
from resolvers.divisions import within_division, within_prefix
from resolvers.errors import BadArgument
from resolvers.global_ids import decode_int_id
from resolvers.reference import INDUSTRY, OCCUPATION, REGION

if TYPE_CHECKING:
    from resolvers.reads import Reads


async def _known_code(
    reads: Reads, entity: Entity, code: str, argument: str, form: str, noun: str
) -> str:
    """`code` when it is well formed and present in the reference table of `entity`."""
    assert entity.key_format is not None
    if not entity.key_format(code):
        raise BadArgument(argument, f"'{code[:32]}' is not {form}")
    if await reads.node(entity, code) is None:
        raise BadArgument(argument, f"unknown {noun} code '{code}'")
    return code


async def in_region(
    reads: Reads, column: ColumnElement[Any], code: str, argument: str
) -> Condition:
    """Rows whose region is `code` or lies under it (a province matches all its counties)."""
    await _known_code(reads, REGION, code, argument, "a 6-digit division code", "region")
    return within_division(column, code)


async def in_industry(
    reads: Reads, column: ColumnElement[Any], code: str, argument: str
) -> Condition:
    """Rows in industry `code` or under it (section `C` matches every manufacturing class)."""
    await _known_code(reads, INDUSTRY, code, argument, "a GB/T 4754 industry code", "industry")
    return within_prefix(column, code)


async def is_occupation(
    reads: Reads, column: ColumnElement[Any], code: str, argument: str
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
    reads: Reads, entity: Entity, filter: object | None
) -> list[Condition]:
    """The conditions of a `<Type>Filter` input: the entity's `filters` map its fields to
    SQL; its `ranges` are checked after the rules, which refuse values that can't compare."""
    if filter is None:
        return []
    where = []
    for field, rule in entity.filters.items():
        value = getattr(filter, field)
        if value is not None:
            where.append(await rule(reads, value, f"filter.{_graphql_name(field)}"))
    for bounds in entity.ranges:
        low, high = getattr(filter, bounds.low), getattr(filter, bounds.high)
        check_range(low, high, f"filter.{_graphql_name(bounds.low)}")
    return where


def _graphql_name(field: str) -> str:
    head, *rest = field.rstrip("_").split("_")
    return head + "".join(word.title() for word in rest)


def sync_rule(build: Callable[[Any, str], ColumnElement[bool]]) -> Rule:
    async def rule(_reads: Reads, value: Any, argument: str) -> Condition:
        return build(value, argument)

    return rule


def region_rule(column: ColumnElement[Any]) -> Rule:
    return lambda reads, code, argument: in_region(reads, column, code, argument)


def industry_rule(column: ColumnElement[Any]) -> Rule:
    return lambda reads, code, argument: in_industry(reads, column, code, argument)


def occupation_rule(column: ColumnElement[Any]) -> Rule:
    return lambda reads, code, argument: is_occupation(reads, column, code, argument)


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


def node_rule(relation: ToOne) -> Rule:
    """Rows whose to-one `relation` points to the object a global ID names (an ID of the
    relation's target type)."""
    column, target = relation.via, relation.target
    return sync_rule(lambda value, argument: column == decode_int_id(value, target, argument))


def contains_global_id_rule(array_column: ColumnElement[Any]) -> Rule:
    """Rows whose array of global IDs holds the (canonical) ID given."""
    return sync_rule(
        lambda value, argument: literal(canonical_global_id(str(value), argument))
        == any_(array_column)
    )


def is_set_rule(column: ColumnElement[Any]) -> Rule:
    """`true` asks for rows where `column` is set, `false` for rows where it is not."""
    return sync_rule(lambda wanted, _argument: column.is_not(None) if wanted else column.is_(None))
