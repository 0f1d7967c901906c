"""Reads compiled into SQL: one statement per root field that returns the field's finished JSON.

`compile_query` takes a validated query operation, its coerced variables and the viewer, and
gives for each root field a statement built from the declarations (`resolvers.catalog`):
root lists with their filter and `orderBy`, `node`/`nodes`, connections with `totalCount`
and `pageInfo`, nested to-one and to-many relations and paged relations per parent, every
table read under the viewer's row policy. `run_compiled` runs them and assembles `data`.
For a partner, each personal-data object also carries the row its read is audited under,
which `take_audited` takes out of the data for the audit.

A root field it does not compile (one selecting a field resolved in Python, a reference
list, introspection, bad arguments) comes back as a `Fallback`, which the caller answers on
the resolver path, the same way; an operation that is not a query raises `NotCompiled`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLObjectType,
    GraphQLSchema,
    NameNode,
    OperationDefinitionNode,
    OperationType,
)
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    column,
    func,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from db.session import count_statement, reader_of, replanning
from resolvers.access import Viewer
from resolvers.catalog import decode_node_id
from resolvers.compiler.filters import compiled_filter
from resolvers.compiler.json_sql import (
    AUDITED,
    BOUND,
    BadValue,
    Compiler,
    NotCompiled,
    adapt,
    literal_json,
)
from resolvers.compiler.rankings import ranking_statement
from resolvers.compiler.selections import Selections
from resolvers.compiler.variables import bound_variables, variable_of, variable_shape
from resolvers.database import Database, ReadSource
from resolvers.declarations import Entity, Ranking, declaration_of
from resolvers.errors import BadArgument
from resolvers.rankings import audits
from resolvers.reads import Reads
from resolvers.tracing import statement_span
from resolvers.viewer_parameters import VIEWER, viewer_parameter, viewer_value

MAX_NODES = 100


@dataclass(frozen=True)
class CompiledField:
    """One root field: its response key and the statement (SQL text for asyncpg and its
    parameters) that returns its JSON, or for `__typename` the type's name."""

    key: str  # the response key (alias or name)
    sql: str | None  # None for `__typename`
    parameters: tuple[Any, ...] = ()
    typename: str | None = None
    # (index in `parameters`, binding): the parameters a request's variables give.
    variables: tuple[tuple[int, Callable[[dict[str, Any]], Any]], ...] = ()
    # (index in `parameters`, name): the parameters that hold what the row policies read of
    # the viewer (`resolvers.viewer_parameters`).
    viewer_values: tuple[tuple[int, str], ...] = ()
    # Its JSON carries audit marks for anyone (a ranking's), not only for a partner.
    audited: bool = False
    # Planned for its values at every run (a ranking's: `db.session.REPLAN`).
    replanned: bool = False

    def bound(self, variables: dict[str, Any], viewer: Viewer) -> tuple[Any, ...]:
        """The parameters for a request whose variables have the same shape
        (`variable_shape`) and whose viewer has the same policy shape: each variable-bound
        one computed from that request's variables (a BadArgument when it can't be: the
        resolver path then answers), each viewer value that request's viewer's."""
        if not self.variables and not self.viewer_values:
            return self.parameters
        parameters = list(self.parameters)
        for index, binding in self.variables:
            parameters[index] = binding(variables)
        for index, name in self.viewer_values:
            parameters[index] = viewer_value(viewer, name)
        return tuple(parameters)

class DriverSql(NamedTuple):
    sql: str
    parameters: tuple[Any, ...]
    bound: tuple[tuple[int, str, Process], ...]  # (index, parameter name, processor)
    viewer_values: tuple[tuple[int, str], ...]  # (index, viewer parameter name)


@dataclass(frozen=True)
class Fallback:
    """A root field left to the resolver path: its response key, the field nodes that ask
    for it, and why (for the logs)."""

    key: str
    nodes: tuple[FieldNode, ...]
    reason: str
    by_value: bool = False  # a value the resolver path refuses (`json_sql.BadValue`)


@dataclass(frozen=True)
class Query:
    """A validated query operation to compile: its document, coerced variables and reads."""

    schema: GraphQLSchema
    document: Any
    operation: OperationDefinitionNode
    variables: dict[str, Any]
    reads: Reads


async def compile_query(query: Query) -> list[CompiledField | Fallback]:
    """One statement per root field of a query (see the module docstring), in the order of
    the response, or a Fallback for each root field the resolver path must answer;
    NotCompiled for an operation that is not a query."""
    return await _compile(query)


_DIALECT = PGDialect_asyncpg()


MAX_PARAMETERS = 32_767  # what PostgreSQL's protocol carries


Process = Callable[[Any], Any] | None
"""A SQL type's bind processor (a value as the driver takes it), if it has one."""


def driver_sql(statement: Select[Any]) -> DriverSql:
    """`statement` as asyncpg takes it: `$n` placeholders, the values for them (one
    placeholder per distinct value: a policy repeated in every subquery sends its values
    once), which of them are bound to variables (index, parameter name, processor) and which
    hold a value of the viewer's (index, name: `resolvers.viewer_parameters`)."""
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    values = compiled.construct_params()
    numbers: dict[tuple[Any, ...], int] = {}
    renumbered: dict[str, str] = {}
    parameters: list[Any] = []
    bound: list[tuple[int, str, Process]] = []
    viewer_values: list[tuple[int, str]] = []
    for position, name in enumerate(compiled.positiontup or (), start=1):
        bind = compiled.binds[name]
        process = bind.type.bind_processor(_DIALECT)
        value = values[name] if process is None else process(values[name])
        of_viewer = viewer_parameter(name)
        try:
            marker: tuple[Any, ...] = (repr(bind.type), type(value), value)
            if name.startswith(BOUND):  # a variable's: never shared with a constant
                marker = (name, *marker)
            elif of_viewer is not None:  # the viewer's: nor is this
                marker = (VIEWER + of_viewer, *marker)
            number = numbers.get(marker)
        except TypeError:  # an unhashable value (a list): a placeholder of its own
            marker, number = (position,), None
        if number is None:
            parameters.append(value)
            number = numbers[marker] = len(parameters)
            if name.startswith(BOUND):
                bound.append((number - 1, name, process))
            elif of_viewer is not None:
                viewer_values.append((number - 1, of_viewer))
        renumbered[str(position)] = str(number)
    if len(parameters) > MAX_PARAMETERS:
        raise NotCompiled("too many parameters for one statement")
    # The text holds no `$` but its placeholders: the values the plan writes into it are
    # names, formats and type names (`json_sql.constant` refuses any other).
    sql = _PLACEHOLDER.sub(lambda found: "$" + renumbered[found[1]], str(compiled))
    return DriverSql(sql, tuple(parameters), tuple(bound), tuple(viewer_values))


_PLACEHOLDER = re.compile(r"\$(\d+)")


async def _compile(query: Query) -> list[CompiledField | Fallback]:
    schema, document, operation, variables, reads = (
        query.schema, query.document, query.operation, query.variables, query.reads
    )
    viewer = reads.viewer
    if operation.operation is not OperationType.QUERY:
        raise NotCompiled("not a query")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    selections = Selections(fragments, variables)
    compiler = Compiler(schema, selections, viewer)
    query_type = schema.query_type
    assert query_type is not None
    roots = selections.of([_root_node(operation)], query_type)
    compiled: list[CompiledField | Fallback] = []
    for key, nodes in roots.items():
        name = nodes[0].name.value
        try:
            if name == "__typename":
                compiled.append(CompiledField(key, None, typename=query_type.name))
                continue
            if name.startswith("__"):
                raise NotCompiled("introspection")
            statement = await _root_statement(compiler, query_type, nodes, reads)
        except BadValue as reason:
            compiled.append(Fallback(key, tuple(nodes), str(reason), by_value=True))
            continue
        except NotCompiled as reason:
            compiled.append(Fallback(key, tuple(nodes), str(reason)))
            continue
        driven = driver_sql(statement)
        bindings = tuple(
            (index, _processed(compiler.bindings[name], process))
            for index, name, process in driven.bound
        )
        ranked = isinstance(declaration_of(query_type.fields[name]), Ranking)
        compiled.append(
            CompiledField(
                key, driven.sql, driven.parameters, variables=bindings,
                viewer_values=driven.viewer_values, audited=ranked and audits(viewer),
                replanned=ranked,
            )
        )
    return compiled


def _processed(
    binding: Callable[[dict[str, Any]], Any], process: Process
) -> Callable[[dict[str, Any]], Any]:
    """`binding`, its value as the driver takes it."""
    if process is None:
        return binding
    return lambda variables: process(binding(variables))


def _root_node(operation: OperationDefinitionNode) -> FieldNode:
    """A stand-in field whose selection is the operation's, for collecting its root fields."""
    return FieldNode(name=NameNode(value="query"), selection_set=operation.selection_set)


async def _root_statement(
    compiler: Compiler, query_type: GraphQLObjectType, nodes: list[FieldNode], reads: Reads
) -> Select[Any]:
    name = nodes[0].name.value
    field = query_type.fields[name]
    arguments = compiler.arguments(field, nodes[0])
    declared = declaration_of(field)
    if isinstance(declared, Entity):
        return select(await _list_json(compiler, declared, field, nodes, arguments, reads))
    if isinstance(declared, Ranking):
        return ranking_statement(compiler, declared, field, nodes)
    if name == "node":
        variable = variable_of(nodes[0], "id")
        return select(_node_json(compiler, nodes, arguments["id"], "id", reads, variable))
    if name == "nodes":
        ids = arguments["ids"]
        if len(ids) > MAX_NODES:
            raise NotCompiled("too many ids")
        return _nodes_json(compiler, nodes, ids, reads)
    raise NotCompiled(f"Query.{name}")


async def _list_json(
    compiler: Compiler,
    entity: Entity,
    field: Any,
    nodes: list[FieldNode],
    arguments: dict[str, Any],
    reads: Reads,
) -> ColumnElement[Any]:
    request = compiler.page_request(arguments)
    try:
        where = await compiled_filter(compiler, reads, entity, arguments.get("filter"), nodes[0])
    except BadArgument as error:
        raise BadValue(error.message) from None
    order = arguments.get("orderBy") or {}
    columns = {column.key: name for name, column in entity.orderings.items()}
    name = columns.get(_value(order.get("field")), next(iter(entity.orderings)))
    descending = _value(order.get("direction", "desc")) == "desc"
    ordering = entity.ordering(name, descending=descending)
    rows = entity.table.alias()
    adapted = [adapt(condition, entity.table, rows) for condition in where]
    cursor_variable = variable_of(nodes[0], request.cursor_argument)
    return compiler.page_json(
        entity, nodes, field.type, ordering, request, rows, adapted, cursor_variable
    )


def _value(value: Any) -> Any:
    """An enum argument's value, whether graphql-core hands the member or its value."""
    return getattr(value, "value", value)


def _key_of(variable: str, variables: dict[str, Any]) -> Any:
    named = decode_node_id(variables[variable], variable)
    if named is None:
        raise BadArgument(variable, "names no type")
    return named[1]


def _node_json(
    compiler: Compiler,
    nodes: list[FieldNode],
    global_id: str,
    argument: str,
    reads: Reads,
    variable: str | None = None,
) -> ColumnElement[Any]:
    """`node(id:)`: the object, or null. With `variable`, its key is a parameter bound to
    that variable (`CompiledField.bound`), so one plan serves every ID of the same type."""
    try:
        named = decode_node_id(global_id, argument)
    except BadArgument as error:
        raise BadValue(error.message) from None
    if named is None or not reads.may_reach(named[0].name):
        return literal_json("null")
    entity, key = named
    assert entity.key is not None
    row = entity.table.alias()
    fields = compiler.fields_of(nodes, entity)
    value = key if variable is None else compiler.bound(
        variable, key, entity.key.type, partial(_key_of, variable)
    )
    found = (
        select(compiler.object_json(entity, fields, row))
        .where(row.c[entity.key.key] == value, compiler.visible_in(entity, row))
    )
    return found.scalar_subquery()



def _nodes_json(
    compiler: Compiler, nodes: list[FieldNode], ids: list[str], reads: Reads
) -> Select[Any]:
    """`nodes(ids:)`: the objects in the order of the ids, null where none is visible. Each
    type named is read once, for all its ids (arrays of keys and positions as parameters),
    so the statement grows with the types asked for, not with the ids."""
    by_type: dict[str, tuple[Entity, list[Any], list[int]]] = {}
    for position, global_id in enumerate(ids, start=1):
        try:
            named = decode_node_id(global_id, f"ids[{position - 1}]")
        except BadArgument as error:
            raise BadValue(error.message) from None
        if named is None or not reads.may_reach(named[0].name):
            continue
        entity, key = named
        _, keys, positions = by_type.setdefault(entity.name, (entity, [], []))
        keys.append(key)
        positions.append(position)
    parts = []
    for entity, keys, positions in by_type.values():
        assert entity.key is not None
        asked = func.unnest(
            bindparam(None, keys, type_=ARRAY(entity.key.type)),
            bindparam(None, positions, type_=ARRAY(Integer)),
        ).table_valued(column("key", entity.key.type), column("position", Integer))
        asked = asked.render_derived()
        row = entity.table.alias()
        fields = compiler.fields_of(nodes, entity)
        parts.append(
            select(asked.c.position, compiler.object_json(entity, fields, row).label("found"))
            .select_from(asked.join(row, row.c[entity.key.key] == asked.c.key))
            .where(compiler.visible_in(entity, row))
        )
    every = (
        func.generate_series(1, len(ids)).table_valued(column("position", Integer))
        .render_derived()
    )
    if not parts:
        listed = func.json_agg(aggregate_order_by(literal_json("null"), every.c.position))
        return select(func.coalesce(listed, literal_json("[]"))).select_from(every)
    found = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery()
    listed = func.json_agg(aggregate_order_by(found.c.found, every.c.position))
    return select(func.coalesce(listed, literal_json("[]"))).select_from(
        every.outerjoin(found, found.c.position == every.c.position)
    )


async def run_compiled(
    database: Database,
    compiled: list[CompiledField],
    parameters: list[tuple[Any, ...]],
    *,
    parsed: bool = True,
) -> dict[str, Any]:
    """Run each root field's statement on one pooled connection, in autocommit (the
    statement pool, which runs them again on a new connection if that one was lost, or the
    engine's), of the replica when the request's route allows it, else of the primary (see
    `Database.read`); the operation's `data`. Without `parsed`, each root field's value is the
    JSON text PostgreSQL made, as an `orjson.Fragment` that goes into the response as it is."""
    run = partial(_run_compiled_on, compiled, parameters, parsed)
    return await database.read(run)


async def _run_compiled_on(
    compiled: list[CompiledField],
    parameters: list[tuple[Any, ...]],
    parsed: bool,
    source: ReadSource,
) -> dict[str, Any]:
    if source.statements is not None:
        run = partial(_run_on, compiled=compiled, parameters=parameters, parsed=parsed)
        return await source.statements.run(run)
    async with reader_of(source.engine).connect() as pooled:
        driver = (await pooled.get_raw_connection()).driver_connection
        assert driver is not None
        return await _run_on(driver, compiled, parameters, parsed)


def take_audited(value: Any, found: dict[str, set[Any]]) -> None:
    """Take the audit marks (`json_sql.AUDITED`) out of a partner's data, each into `found`
    (type name -> keys, as `resolvers.reads.AuditedReads` keeps them)."""
    if isinstance(value, dict):
        mark = value.pop(AUDITED, None)
        if mark is not None:
            type_name, key = mark
            found.setdefault(type_name, set()).add(key)
        for item in value.values():
            take_audited(item, found)
    elif isinstance(value, list):
        for item in value:
            take_audited(item, found)


async def _run_on(
    connection: Any,
    compiled: list[CompiledField],
    parameters: list[tuple[Any, ...]],
    parsed: bool = True,
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for part, values in zip(compiled, parameters, strict=True):
        if part.sql is None:
            data[part.key] = part.typename
            continue
        count_statement()
        with statement_span(part.sql):
            async with replanning(connection) if part.replanned else nullcontext():
                value = await connection.fetchval(part.sql, *values)
        if isinstance(value, str):
            value = orjson.loads(value) if parsed else orjson.Fragment(value)
        data[part.key] = value
    return data


__all__ = [
    "CompiledField",
    "Fallback",
    "NotCompiled",
    "Query",
    "bound_variables",
    "compile_query",
    "driver_sql",
    "run_compiled",
    "take_audited",
    "variable_shape",
]
