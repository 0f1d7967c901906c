"""Reads compiled into SQL: one statement per root field that returns the field's finished JSON.

`compile_query` takes a validated query operation, its coerced variables and the viewer, and
gives for each root field a statement built from the declarations (`resolvers.catalog`):
root lists with their filter and `orderBy`, `node`/`nodes`, connections with `totalCount`
and `pageInfo`, nested to-one and to-many relations and paged relations per parent, every
table read under the viewer's row policy. `run_compiled` runs them and assembles `data`.

What it does not compile (fields resolved in Python, cursors, reference lists, partners,
whose reads are audited row by row, bad arguments) raises `NotCompiled`, and the caller runs
the operation on the resolver path instead, which answers everything the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

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
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from db.session import count_statement
from resolvers.catalog import decode_node_id
from resolvers.compiler.json_sql import Compiler, NotCompiled, adapt, literal_json
from resolvers.compiler.selections import Selections
from resolvers.database import Database
from resolvers.declarations import Entity, declaration_of, graphql_name
from resolvers.errors import BadArgument
from resolvers.filters import filter_conditions
from resolvers.reads import Reads, reader_of

MAX_NODES = 100


@dataclass(frozen=True)
class CompiledField:
    """One root field: its response key and the statement (SQL text for asyncpg and its
    parameters) that returns its JSON, or for `__typename` the type's name."""

    key: str  # the response key (alias or name)
    sql: str | None  # None for `__typename`
    parameters: tuple[Any, ...] = ()
    typename: str | None = None


@dataclass(frozen=True)
class Query:
    """A validated query operation to compile: its document, coerced variables and reads."""

    schema: GraphQLSchema
    document: Any
    operation: OperationDefinitionNode
    variables: dict[str, Any]
    reads: Reads


async def compile_query(query: Query) -> list[CompiledField]:
    """One statement per root field of a query (see the module docstring); NotCompiled when
    any root field can't be compiled."""
    return await _compile(query)


_DIALECT = PGDialect_asyncpg()


def driver_sql(statement: Select[Any]) -> tuple[str, tuple[Any, ...]]:
    """`statement` as asyncpg takes it: `$n` placeholders and the values for them."""
    compiled = statement.compile(dialect=_DIALECT, compile_kwargs={"render_postcompile": True})
    values = compiled.construct_params()
    parameters = []
    for name in compiled.positiontup or ():
        value = values[name]
        process = compiled.binds[name].type.bind_processor(_DIALECT)
        parameters.append(value if process is None else process(value))
    return str(compiled), tuple(parameters)


async def _compile(query: Query) -> list[CompiledField]:
    schema, document, operation, variables, reads = (
        query.schema, query.document, query.operation, query.variables, query.reads
    )
    viewer = reads.viewer
    if operation.operation is not OperationType.QUERY:
        raise NotCompiled("not a query")
    if viewer.partner is not None:
        raise NotCompiled("a partner's reads are audited by row")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    selections = Selections(fragments, variables)
    compiler = Compiler(schema, selections, viewer)
    query_type = schema.query_type
    assert query_type is not None
    roots = selections.of([_root_node(operation)], query_type)
    compiled = []
    for key, nodes in roots.items():
        name = nodes[0].name.value
        if name == "__typename":
            compiled.append(CompiledField(key, None, typename=query_type.name))
            continue
        if name.startswith("__"):
            raise NotCompiled("introspection")
        sql, parameters = driver_sql(await _root_statement(compiler, query_type, nodes, reads))
        compiled.append(CompiledField(key, sql, parameters))
    return compiled


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
    if name == "node":
        return select(_node_json(compiler, nodes, arguments["id"], "id"))
    if name == "nodes":
        ids = arguments["ids"]
        if len(ids) > MAX_NODES:
            raise NotCompiled("too many ids")
        found = [_node_json(compiler, nodes, value, f"ids[{i}]") for i, value in enumerate(ids)]
        return select(func.json_build_array(*found))
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
        where = await filter_conditions(reads, entity, _filter_values(entity, arguments))
    except BadArgument as error:
        raise NotCompiled(error.message) from None
    order = arguments.get("orderBy") or {}
    columns = {column.key: name for name, column in entity.orderings.items()}
    name = columns.get(_value(order.get("field")), next(iter(entity.orderings)))
    descending = _value(order.get("direction", "desc")) == "desc"
    ordering = entity.ordering(name, descending=descending)
    rows = entity.table.alias()
    adapted = [adapt(condition, entity.table, rows) for condition in where]
    return compiler.page_json(entity, nodes, field.type, ordering, request, rows, adapted)


def _value(value: Any) -> Any:
    """An enum argument's value, whether graphql-core hands the member or its value."""
    return getattr(value, "value", value)


def _filter_values(entity: Entity, arguments: dict[str, Any]) -> SimpleNamespace | None:
    """The `filter` argument as the rules read it: Python names, enum members."""
    given = arguments.get("filter")
    if given is None:
        return None
    values = {}
    for name, rule in entity.filters.items():
        value = given.get(graphql_name(name))
        enum_class = getattr(rule.column.type, "enum_class", None)
        if value is not None and enum_class is not None:
            value = enum_class(value)
        values[name] = value
    return SimpleNamespace(**values)


def _node_json(
    compiler: Compiler, nodes: list[FieldNode], global_id: str, argument: str
) -> ColumnElement[Any]:
    try:
        named = decode_node_id(global_id, argument)
    except BadArgument as error:
        raise NotCompiled(error.message) from None
    if named is None:
        return literal_json("null")
    entity, key = named
    assert entity.key is not None
    row = entity.table.alias()
    object_type = compiler.schema.get_type(entity.name)
    assert isinstance(object_type, GraphQLObjectType)
    fields = compiler.selections.of(nodes, object_type)
    found = (
        select(compiler.object_json(entity, fields, row))
        .where(row.c[entity.key.key] == key, compiler.visible_in(entity, row))
    )
    return found.scalar_subquery()



async def run_compiled(database: Database, compiled: list[CompiledField]) -> dict[str, Any]:
    """Run each root field's statement on one pooled connection, in autocommit (the
    database's statement pool, or the engine's); the operation's `data`."""
    if database.statements is not None:
        async with database.statements.acquire() as connection:
            return await _run_on(connection, compiled)
    async with reader_of(database.engine).connect() as pooled:
        driver = (await pooled.get_raw_connection()).driver_connection
        assert driver is not None
        return await _run_on(driver, compiled)


async def _run_on(connection: Any, compiled: list[CompiledField]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for part in compiled:
        if part.sql is None:
            data[part.key] = part.typename
            continue
        count_statement()
        value = await connection.fetchval(part.sql, *part.parameters)
        data[part.key] = orjson.loads(value) if isinstance(value, str) else value
    return data


__all__ = ["CompiledField", "NotCompiled", "Query", "compile_query", "driver_sql", "run_compiled"]
