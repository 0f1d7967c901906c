"""Conditions shared by the list filters: region subtrees, code prefixes, keywords, ranges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    String,
    and_,
    any_,
    bindparam,
    false,
    func,
    not_,
    or_,
    true,
)

from resolvers.catalog import canonical_global_id
from resolvers.declarations import (
    Bound,
    Condition,
    Entity,
    KeyLookup,
    Range,
    Rule,
    ToOne,
    graphql_name,
)
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


MAX_KEYWORD_CHARS = 64


def keyword_text(keyword: str, argument: str) -> str:
    """A search term: trimmed, not blank, at most 64 characters."""
    text = keyword.strip()
    if not text:
        raise BadArgument(argument, "must not be blank")
    if len(text) > MAX_KEYWORD_CHARS:
        raise BadArgument(argument, f"must be at most {MAX_KEYWORD_CHARS} characters")
    return text


def keyword_pattern(keyword: str, argument: str) -> str:
    """The ILIKE pattern (escaped with a backslash) of rows containing `keyword`."""
    text = keyword_text(keyword, argument)
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


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

LOGIC = ("and_", "or_", "not_")
"""The attributes every `<Type>Filter` has besides its fields (`schema.fields.listed` adds
them): `and` (a list of filters that all hold; an empty list holds for every row), `or` (a
list of which at least one holds; an empty list holds for none) and `not` (a filter that does
not hold, a row where its condition is NULL included)."""

MAX_FILTER_CONDITIONS = 1_000
"""Conditions one filter argument may hold: each field given and each filter object in an
`and`, `or` or `not` counts one."""
MAX_FILTER_DEPTH = 10
"""How deep `and`, `or` and `not` may nest in one filter argument."""

Path = tuple[str | int, ...]
"""Where a filter object stands in its argument: GraphQL names and list indices
(`("or", 3, "and", 0)` is `filter.or[3].and[0]`)."""

Binder = Callable[[Path, str, Rule, Any, str], Awaitable[Condition | None]]
"""`bind(path, field, rule, value, argument)`: the condition of one field (its Python name)
of the filter object at `path` in another form (a compiled plan's, over a parameter), or
None for the rule's own."""


def path_argument(path: Path, field: str | None = None) -> str:
    """The argument a path names, as errors name it: `filter.or[1].regionCode`."""
    text = "filter"
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else f".{step}"
    return text if field is None else f"{text}.{graphql_name(field)}"


def _given(filter: object, name: str) -> Any:
    """A field of a filter object, an input object or a coerced dict (GraphQL names)."""
    if isinstance(filter, dict):
        return filter.get(graphql_name(name))
    return getattr(filter, name, None)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def filter_objects(filter: object | None) -> Iterator[tuple[Path, object]]:
    """Each filter object of a filter argument (itself first) with its path, depth first, in
    the order they are written; a BadArgument naming the first object past a cap."""
    if filter is None:
        return
    pending: list[tuple[Path, object]] = [((), filter)]
    conditions = 0
    while pending:
        path, current = pending.pop()
        if sum(1 for step in path if isinstance(step, str)) > MAX_FILTER_DEPTH:
            raise BadArgument(
                path_argument(path),
                f"and, or and not may nest at most {MAX_FILTER_DEPTH} deep in one filter",
            )
        conditions += 1 if path else 0
        inner = []
        for name in LOGIC:
            value = _given(current, name)
            if value is None:
                continue
            step = graphql_name(name)
            if name == "not_":
                inner.append(((*path, step), value))
            else:
                inner += [((*path, step, i), item) for i, item in enumerate(_listed(value))]
        if conditions > MAX_FILTER_CONDITIONS:
            raise BadArgument(path_argument(path), _too_many())
        yield path, current
        pending += reversed(inner)


def _too_many() -> str:
    return f"a filter may hold at most {MAX_FILTER_CONDITIONS} conditions"


def filter_fields(entity: Entity, filter: object | None) -> Iterator[tuple[Path, str, Any]]:
    """(path, field's Python name, value) of each field given in a filter argument, at any
    depth; a BadArgument past a cap (`filter_objects`)."""
    conditions = 0
    for path, current in filter_objects(filter):
        conditions += 1 if path else 0
        if conditions > MAX_FILTER_CONDITIONS:
            raise BadArgument(path_argument(path), _too_many())
        for name in entity.filters:
            value = _given(current, name)
            if value is not None:
                conditions += 1
                if conditions > MAX_FILTER_CONDITIONS:
                    raise BadArgument(path_argument(path, name), _too_many())
                yield path, name, value


def filter_size(entity: Entity, filter: object | None) -> int:
    """How many conditions a filter argument holds (see `MAX_FILTER_CONDITIONS`), a
    BadArgument naming where it goes past a cap."""
    objects = sum(1 for path, _current in filter_objects(filter) if path)
    return objects + sum(1 for _field in filter_fields(entity, filter))


async def filter_conditions(
    reads: KeyLookup, entity: Entity, filter: object | None, bind: Binder | None = None
) -> list[Condition]:
    """The conditions of a `<Type>Filter` input (any object with the fields as attributes):
    the entity's `filters` map its fields to SQL, all given fields of one filter object AND
    together with its `and`, `or` and `not` (`LOGIC`); its `ranges` are checked within each
    filter object after the rules, which refuse values that can't compare."""
    if filter is None:
        return []
    filter_size(entity, filter)  # the caps, before any rule looks anything up
    return await _object_conditions(reads, entity, filter, (), bind)


async def _object_conditions(
    reads: KeyLookup, entity: Entity, filter: object, path: Path, bind: Binder | None
) -> list[Condition]:
    where = []
    for field, rule in entity.filters.items():
        value = _given(filter, field)
        if value is None:
            continue
        argument = path_argument(path, field)
        condition = None if bind is None else await bind(path, field, rule, value, argument)
        if condition is None:
            condition = await rule.condition(reads, value, argument)
        where.append(condition)
    for bounds in entity.ranges:
        low, high = _given(filter, bounds.low), _given(filter, bounds.high)
        check_range(low, high, range_argument(bounds, path))
    all_of = _given(filter, "and_")
    if all_of is not None:
        for i, item in enumerate(_listed(all_of)):
            where.append(await _one_condition(reads, entity, item, (*path, "and", i), bind))
    any_of = _given(filter, "or_")
    if any_of is not None:
        held = [
            await _one_condition(reads, entity, item, (*path, "or", i), bind)
            for i, item in enumerate(_listed(any_of))
        ]
        where.append(or_(*held) if held else false())
    negated = _given(filter, "not_")
    if negated is not None:
        inner = await _one_condition(reads, entity, negated, (*path, "not"), bind)
        where.append(not_(func.coalesce(inner, false())))
    return where


async def _one_condition(
    reads: KeyLookup, entity: Entity, filter: object, path: Path, bind: Binder | None
) -> Condition:
    """The conditions of a nested filter object as one (true when it gives none)."""
    where = await _object_conditions(reads, entity, filter, path, bind)
    if not where:
        return true()
    return where[0] if len(where) == 1 else and_(*where)


def range_argument(bounds: Range, path: Path = ()) -> str:
    return path_argument(path, bounds.low)


def sync_rule(column: Column[Any], build: Callable[[Any, str], Condition]) -> Rule:
    """The rule on `column` whose condition `build(value, argument)` makes without a query
    (its SQL may differ from value to value: `bound_rule` when it does not)."""

    async def condition(_reads: KeyLookup, value: Any, argument: str) -> Condition:
        return build(value, argument)

    return Rule(column, condition)


def _as_is(value: Any, _argument: str) -> Any:
    return value


def bound_rule(
    column: Column[Any],
    over: Callable[[ColumnElement[Any]], Condition],
    value_of: Callable[[Any, str], Any] = _as_is,
    type_: Any = None,
    also_reads: tuple[Column[Any], ...] = (),
) -> Rule:
    """The rule on `column` whose condition is `over(parameter)` for every value, the
    parameter holding `value_of(value, argument)` (of `type_`, by default the column's)."""
    form = Bound(over, value_of, column.type if type_ is None else type_)

    async def condition(_reads: KeyLookup, value: Any, argument: str) -> Condition:
        return form.over(bindparam(None, form.value_of(value, argument), type_=form.type))

    return Rule(column, condition, form, also_reads)


def region_rule(column: Column[Any]) -> Rule:
    return Rule(column, lambda reads, code, argument: in_region(reads, column, code, argument))


def industry_rule(column: Column[Any]) -> Rule:
    return Rule(column, lambda reads, code, argument: in_industry(reads, column, code, argument))


def occupation_rule(column: Column[Any]) -> Rule:
    return Rule(
        column, lambda reads, code, argument: is_occupation(reads, column, code, argument)
    )


def keyword_rule(column: Column[Any]) -> Rule:
    return bound_rule(column, lambda pattern: column.ilike(pattern, escape="\\"), keyword_pattern)


def equals_rule(column: Column[Any]) -> Rule:
    return bound_rule(column, lambda value: column == value)


def at_least_rule(column: Column[Any]) -> Rule:
    return bound_rule(column, lambda value: column >= value)


def below_rule(column: Column[Any]) -> Rule:
    return bound_rule(column, lambda value: column < value)


def at_most_rule(column: Column[Any]) -> Rule:
    return bound_rule(column, lambda value: column <= value)


def amount_rule(column: Column[Any], compare: Callable[..., Any]) -> Rule:
    """`compare(column, amount)` for a checked money amount."""
    return bound_rule(column, lambda amount: compare(column, amount), checked_amount)


def node_rule(relation: ToOne) -> Rule:
    """Rows whose to-one `relation` points to the object a global ID names (an ID of the
    relation's target type)."""
    column, target = relation.via, relation.target
    return bound_rule(
        column,
        lambda key: column == key,
        lambda value, argument: decode_int_id(value, target, argument),
    )


def contains_global_id_rule(array_column: Column[Any]) -> Rule:
    """Rows whose array of global IDs holds the (canonical) ID given."""
    return bound_rule(
        array_column,
        lambda global_id: global_id == any_(array_column),
        lambda value, argument: canonical_global_id(str(value), argument),
        String(),
    )


def is_set_rule(column: Column[Any]) -> Rule:
    """`true` asks for rows where `column` is set, `false` for rows where it is not."""
    return sync_rule(
        column, lambda wanted, _argument: column.is_not(None) if wanted else column.is_(None)
    )
