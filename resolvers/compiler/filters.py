"""A root list's `filter` in a compiled plan: the same conditions as on the resolver path
(`resolvers.filters.filter_conditions`, `and`, `or` and `not` at any depth included), with
each value that a variable gives to a bound rule (`resolvers.declarations.Bound`), at any
depth, held as a parameter bound to that variable, so that one plan serves every value
(`resolvers.compiler.variables`). Each request's value is checked as the rule checks it, and
the ranges it bounds with it in its filter object, when the plan binds it: a value the rule
refuses sends the request to the resolver path, which says why."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from graphql import FieldNode

from resolvers.compiler.json_sql import Compiler
from resolvers.compiler.variables import VariableReader, filter_reader
from resolvers.declarations import Condition, Entity, KeyLookup, Rule, graphql_name
from resolvers.filters import LOGIC, Path, check_range, filter_conditions, range_argument


async def compiled_filter(
    compiler: Compiler,
    reads: KeyLookup,
    entity: Entity,
    given: dict[str, Any] | None,
    node: FieldNode,
) -> list[Condition]:
    """The conditions of `given` (the coerced `filter` argument of `node`, a root list of
    `entity`); a BadArgument for a value the resolver path refuses."""
    if given is None:
        return []
    readers: dict[tuple[Path, str], VariableReader] = {}

    def now(path: Path, name: str, variables: dict[str, Any]) -> Any:
        """A field's value in a request: its variable's, or the plan's own."""
        reader = readers.get((path, name))
        if reader is None:
            return rule_value(entity.filters[name], _field_at(given, path, name))
        return rule_value(entity.filters[name], reader(variables))

    async def bind(
        path: Path, name: str, rule: Rule, value: Any, argument: str
    ) -> Condition | None:
        form = rule.bound
        reader = None if form is None else filter_reader(node, (*path, graphql_name(name)))
        if form is None or reader is None:
            return None
        readers[(path, name)] = reader
        ranges = [bounds for bounds in entity.ranges if name in (bounds.low, bounds.high)]

        def binding(variables: dict[str, Any]) -> Any:
            for bounds in ranges:
                low, high = now(path, bounds.low, variables), now(path, bounds.high, variables)
                check_range(low, high, range_argument(bounds, path))
            return form.value_of(now(path, name, variables), argument)

        parameter = compiler.bound(
            f"filter_{graphql_name(name)}", form.value_of(value, argument), form.type, binding
        )
        return form.over(parameter)

    return await filter_conditions(reads, entity, as_filter(entity, given), bind)


def as_filter(entity: Entity, given: dict[str, Any]) -> SimpleNamespace:
    """A coerced filter value as the input object the resolver path gets: each field as
    its rule takes it, `and`, `or` and `not` as filters of their own."""
    values = {
        name: rule_value(rule, given.get(graphql_name(name)))
        for name, rule in entity.filters.items()
    }
    for name in LOGIC:
        inner = given.get(graphql_name(name))
        if isinstance(inner, list):
            values[name] = [as_filter(entity, item) for item in inner]
        else:
            values[name] = None if inner is None else as_filter(entity, inner)
    return SimpleNamespace(**values)


def _field_at(given: Any, path: Path, name: str) -> Any:
    """The value of field `name` of the filter object at `path` in a coerced filter."""
    for step in path:
        if isinstance(step, int):
            given = given[step] if isinstance(given, list) else given
        else:
            given = given.get(step)
    return given.get(graphql_name(name))


def rule_value(rule: Rule, value: Any) -> Any:
    """A coerced filter value as the rule takes it (an enum column's member)."""
    enum_class = getattr(rule.column.type, "enum_class", None)
    if value is not None and enum_class is not None:
        return enum_class(getattr(value, "value", value))
    return value
