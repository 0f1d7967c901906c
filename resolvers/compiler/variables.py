"""Which variables a compiled plan holds as parameters, and what of their values it depends on.

A plan is kept per operation and per the shape of its variables (`variable_shape`), so that
one plan serves every value a parameter can take. A variable is bound when each of its uses,
anywhere in the document, is one of these, all of one kind:

- `ID`: the `id` of a root `node`, or the subject's ID of a ranking (`recommendedJobs`'s
  `workerId`); the plan depends on the type the ID names;
- `CURSOR`: the `after`/`before` of a root list; the plan depends on the ordering the cursor
  was made under;
- `FILTER`: the whole `filter` of a root list, or a filter object or list of them inside an
  inline one (`not: $f`, `or: $fs`, `or: [$f, ...]`); the plan depends on which of its fields
  are given, at any depth of `and`, `or` and `not` (and how many filters their lists hold),
  and on the values of those whose rule is not `bound` (`resolvers.declarations.Bound`);
- `FILTER_FIELD`: one field whose rule is bound in a root list's inline `filter`, at any
  depth of `and`, `or` and `not`; the plan depends on whether it is given;
- `PAGE_SIZE`: the `first` or `last` of any connection, at the root or nested; the plan
  depends on whether it is given.

A value the plan can't take (an ID or a cursor that doesn't decode) keeps its own shape: the
resolver path says what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLSchema,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    visit,
)

from resolvers.catalog import decode_node_id
from resolvers.declarations import Entity, Ranking, declaration_of, graphql_name
from resolvers.errors import BadArgument
from resolvers.pagination import cursor_ordering

ID, CURSOR, FILTER, FILTER_FIELD, PAGE_SIZE = "id", "cursor", "filter", "filter field", "page size"
BOUND_VALUE = "bound"
"""What a bound filter value counts as in a shape."""

Kind = tuple[Any, ...]
"""`(ID,)`, `(CURSOR,)`, `(FILTER, bound field names)`, `(FILTER_FIELD,)` or `(PAGE_SIZE,)`."""
PAGE_SIZE_ARGUMENTS = ("first", "last")

VariableReader = Callable[[dict[str, Any]], Any]
"""`reader(variables)`: one value a request's variables give."""


def bound_variables(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> dict[str, Kind]:
    """The variables of `operation` a plan holds as parameters, each with its kind."""
    uses: dict[str, int] = {}
    kinds: dict[str, list[Kind]] = {}

    class Uses(Visitor):
        def enter_variable(self, node: VariableNode, *_args: Any) -> None:
            uses[node.name.value] = uses.get(node.name.value, 0) + 1

        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            for argument in PAGE_SIZE_ARGUMENTS:
                name = variable_of(node, argument)
                if name is not None:
                    kinds.setdefault(name, []).append((PAGE_SIZE,))

    visit(document, Uses())  # every use, in fragments too
    for definition in operation.variable_definitions or ():
        uses[definition.variable.name.value] -= 1  # its declaration is not a use
    query_type = schema.query_type
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives:
            continue
        field = None if query_type is None else query_type.fields.get(selection.name.value)
        declared = declaration_of(field)
        for name, kind in _bound_uses(selection, declared):
            kinds.setdefault(name, []).append(kind)
    return {
        name: found[0] for name, found in kinds.items()
        if len(set(found)) == 1 and uses.get(name) == len(found)
    }


def _bound_uses(selection: FieldNode, declared: object) -> list[tuple[str, Kind]]:
    subject = (
        "id" if selection.name.value == "node"
        else declared.argument if isinstance(declared, Ranking) else None
    )
    if subject is not None:
        name = variable_of(selection, subject)
        return [] if name is None else [(name, (ID,))]
    if not isinstance(declared, Entity):
        return []
    found = [
        (name, (CURSOR,)) for name in (variable_of(selection, "after"),
                                        variable_of(selection, "before"))
        if name is not None
    ]
    whole = variable_of(selection, "filter")
    if whole is not None:
        return [*found, (whole, (FILTER, bound_filter_fields(declared)))]
    given = argument_value(selection, "filter")
    if isinstance(given, ObjectValueNode):
        found += _inline_filter_uses(given, bound_filter_fields(declared))
    return found


LOGIC_NAMES = ("and", "or", "not")
"""The fields of every filter that hold filters (`resolvers.filters.LOGIC`)."""


def _inline_filter_uses(given: ObjectValueNode, bound: frozenset[str]) -> list[tuple[str, Kind]]:
    """The bound variables of an inline filter object, at any depth."""
    found: list[tuple[str, Kind]] = []
    pending: list[Any] = [given]
    while pending:
        current = pending.pop()
        if isinstance(current, ListValueNode):
            pending += current.values
            continue
        if isinstance(current, VariableNode):  # a filter or a list of filters
            found.append((current.name.value, (FILTER, bound)))
            continue
        if not isinstance(current, ObjectValueNode):
            continue
        for item in current.fields:
            name = item.name.value
            if name in LOGIC_NAMES:
                pending.append(item.value)
            elif isinstance(item.value, VariableNode) and name in bound:
                found.append((item.value.name.value, (FILTER_FIELD,)))
    return found


def bound_filter_fields(entity: Entity) -> frozenset[str]:
    """The GraphQL names of the filter fields whose rule a plan can hold as a parameter."""
    return frozenset(
        graphql_name(name) for name, rule in entity.filters.items() if rule.bound is not None
    )


def variable_shape(variables: dict[str, Any], bound: dict[str, Kind]) -> dict[str, Any]:
    """`variables` with each bound one (`bound_variables`) replaced by what a plan depends on
    (see the module docstring)."""
    shape = dict(variables)
    for name, (kind, *detail) in bound.items():
        value = variables.get(name)
        if value is None:
            continue
        if kind in (FILTER_FIELD, PAGE_SIZE):
            shape[name] = BOUND_VALUE
        elif kind == FILTER:
            [fields] = detail
            shape[name] = filter_shape(value, fields)
        elif not isinstance(value, str):
            continue
        elif kind == ID:
            try:
                named = decode_node_id(value, name)
            except BadArgument:
                continue
            shape[name] = (ID, None if named is None else named[0].name)
        else:
            ordering = cursor_ordering(value)
            if ordering is not None:
                shape[name] = (CURSOR, ordering)
    return shape


def filter_shape(value: Any, fields: frozenset[str]) -> Any:
    """What a plan depends on of a filter's value (or a list of filters'): the values of the
    fields in `fields` only as given, at any depth of `and`, `or` and `not`."""
    if isinstance(value, list):
        return [filter_shape(item, fields) for item in value]
    if not isinstance(value, dict):
        return value
    return {
        key: filter_shape(item, fields) if key in LOGIC_NAMES
        else BOUND_VALUE if key in fields and item is not None else item
        for key, item in value.items()
    }


def variable_of(node: FieldNode, argument: str) -> str | None:
    """The variable that gives `argument` of `node` whole, if one does."""
    given = argument_value(node, argument)
    return given.name.value if isinstance(given, VariableNode) else None


def argument_value(node: FieldNode, argument: str) -> Any:
    """The value node of `argument` of `node`, if given."""
    for given in node.arguments or ():
        if given.name.value == argument:
            return given.value
    return None


def filter_reader(node: FieldNode, path: tuple[str | int, ...]) -> VariableReader | None:
    """How a request's variables give the value at `path` (GraphQL names and list indices,
    ending in a field's name) of `node`'s filter, when a variable gives it: the whole filter,
    a filter object or list of them on the way, or that field."""
    given = argument_value(node, "filter")
    for depth, step in enumerate(path):
        if isinstance(given, VariableNode):
            return _variable_reader(given.name.value, path[depth:])
        if isinstance(step, int):
            if isinstance(given, ListValueNode):
                given = given.values[step] if step < len(given.values) else None
            # else: one filter given for a list, which holds it alone
        elif isinstance(given, ObjectValueNode):
            given = next((item.value for item in given.fields if item.name.value == step), None)
        else:
            return None
    if isinstance(given, VariableNode):
        return _variable_reader(given.name.value, ())
    return None


def _variable_reader(name: str, rest: tuple[str | int, ...]) -> VariableReader:
    def read(variables: dict[str, Any]) -> Any:
        value = variables.get(name)
        for step in rest:
            if isinstance(step, int):
                if isinstance(value, list):
                    value = value[step] if step < len(value) else None
            elif isinstance(value, dict):
                value = value.get(step)
            else:
                return None
        return value

    return read
