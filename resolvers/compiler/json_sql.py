"""Selections as SQL that builds their JSON inside PostgreSQL, under the viewer's policies.

`ObjectJson` turns the fields a selection asks of one declared entity into a
`json_build_object(...)` over a row source; `page_json` turns a connection (a root list or a
paged relation of one parent) into one scalar subquery that returns the whole connection:
edges, nodes, pageInfo, totalCount. Relations become correlated subqueries, each reading its
target through the target's row policy. Values are written exactly as the resolver path
serialises them (global IDs, enum names, decimals as strings, ISO date-times in UTC), so both
paths answer the same bytes' worth of data.

Anything this module does not know raises `NotCompiled`; the operation then runs on the
resolver path, which answers everything (and says what is wrong with bad input).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from graphql import (
    FieldNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    get_nullable_type,
)
from graphql.execution.values import get_argument_values
from sqlalchemy import (
    ColumnElement,
    FromClause,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSON, aggregate_order_by, array_agg
from sqlalchemy.sql.util import ClauseAdapter

from resolvers.access import Viewer
from resolvers.catalog import CATALOG, audited_as, visible_over
from resolvers.compiler.selections import Fields, Selections
from resolvers.compiler.variables import variable_of
from resolvers.declarations import (
    Condition,
    Derived,
    Entity,
    FirstOf,
    ToMany,
    ToOne,
    declaration_of,
)
from resolvers.errors import BadArgument
from resolvers.pagination import (
    Ordering,
    PageRequest,
    decode_cursor,
    page_request,
    page_size,
)

MAX_KEYS = 50  # json_build_object takes at most 100 arguments
AUDITED = "@audited"
"""The key under which a partner's object carries the [type, key] its read is audited under
(no GraphQL name or alias can be spelt so); `resolvers.compiler.take_audited` removes it."""


class NotCompiled(Exception):
    """This selection takes the resolver path (the message says why, for the logs)."""


class BadValue(NotCompiled):
    """A value the resolver path refuses (and says why). A plan holding it is not kept:
    another value of the same shape may compile."""



def _python_name(field: GraphQLField) -> str | None:
    definition = field.extensions.get("strawberry-definition")
    if definition is None or definition.base_resolver is not None:
        return None
    return str(definition.python_name)


def constant(value: Any, type_: Any = None) -> ColumnElement[Any]:
    """A value the plan fixes (a key, a type name, a format): written into the SQL text, not
    sent as a parameter. Values a request chooses (its variables) stay parameters. No
    constant holds a `$` (`resolvers.compiler.driver_sql` renumbers the placeholders)."""
    if "$" in str(value):
        raise ValueError(f"a constant may not hold '$': {value!r}")
    return literal(value, type_, literal_execute=True)


def json_object(pairs: list[tuple[str, Any]]) -> ColumnElement[Any]:
    if len(pairs) > MAX_KEYS:
        raise NotCompiled(f"{len(pairs)} fields in one object")
    arguments: list[Any] = []
    for key, value in pairs:
        arguments += [constant(key, String), value]
    return func.json_build_object(*arguments)


def literal_json(text: str) -> ColumnElement[Any]:
    return cast(constant(text, String), JSON)


BASE64_LINE = 57
"""The bytes PostgreSQL's base64 `encode` writes on one line: a longer input gets newlines."""
INTEGER_DIGITS = 20  # the longest a BIGINT is written, sign included


def global_id(type_name: str, key: ColumnElement[Any]) -> ColumnElement[Any]:
    """base64 of `Type:key`, as `resolvers.global_ids.encode_global_id` writes it. An
    integer key's text is ASCII digits, short enough for one base64 line: it is cast to
    bytes as it is; any other key is converted from UTF-8 and its line breaks taken out."""
    text = constant(f"{type_name}:", String) + cast(key, Text)
    integer = isinstance(key.type, Integer)  # BigInteger and SmallInteger are Integers
    if integer and len(type_name) + 1 + INTEGER_DIGITS <= BASE64_LINE:
        return func.encode(cast(text, LargeBinary), constant("base64"))
    encoded = func.encode(func.convert_to(text, constant("UTF8")), constant("base64"))
    return func.replace(encoded, constant("\n"), constant(""))


def date_time(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """An instant as Python's `isoformat()` of it in UTC writes it: microseconds only when
    there are any (the text holds one `.`, before them)."""
    utc = func.timezone(constant("UTC"), column)
    text = func.to_char(utc, constant('YYYY-MM-DD"T"HH24:MI:SS.US'))
    return func.replace(text, constant(".000000"), constant("")) + constant("+00:00")


def cursor_json(ordering: Ordering, source: FromClause) -> ColumnElement[Any]:
    """The cursor of the row `source` holds, as `resolvers.pagination.encode_cursor` writes
    it: URL-safe base64 of `["<ordering>", "<sort value>" or null, <id>]`."""
    column = source.c[ordering.column.key]
    python_type = ordering.column.type.python_type
    if python_type is datetime:
        value = date_time(column)
    elif python_type is date:
        value = func.to_char(column, constant("YYYY-MM-DD"))
    else:
        value = cast(column, Text)
    raw = (
        constant(f"[{json.dumps(ordering.name, ensure_ascii=False)}, ", String)
        + func.coalesce(cast(func.to_json(value), Text), constant("null"))
        + constant(", ", String)
        + cast(source.c[ordering.id_column.key], Text)
        + constant("]", String)
    )
    encoded = func.encode(func.convert_to(raw, constant("UTF8")), constant("base64"))
    return func.translate(
        func.replace(encoded, constant("\n"), constant("")), constant("+/"), constant("-_")
    )


def _first(values: ColumnElement[Any]) -> ColumnElement[Any]:
    return type_coerce(values, ARRAY(Text))[1]


def scalar(column: ColumnElement[Any], graphql_type: Any) -> ColumnElement[Any]:
    """`column` written as the field's GraphQL type serialises it."""
    named = get_named_type(graphql_type)
    nullable = get_nullable_type(graphql_type)
    if isinstance(nullable, GraphQLList):
        if named.name not in {"String", "ID", "Int", "Boolean"}:
            raise NotCompiled(f"a list of {named.name}")
        return column
    if isinstance(named, GraphQLEnumType):
        text = cast(column, String)
        members = [(getattr(v.value, "value", v.value), name) for name, v in named.values.items()]
        if all(isinstance(value, str) and value.upper() == name for value, name in members):
            return func.upper(text)  # every member is named as its value in capitals
        return case(*((text == constant(value), constant(name)) for value, name in members))
    if named.name == "Decimal":
        return cast(column, Text)
    if named.name == "DateTime":
        return date_time(column)
    if named.name == "Date":
        return func.to_char(column, constant("YYYY-MM-DD"))
    if named.name in {"String", "Int", "Boolean", "ID", "Float"}:
        return column
    raise NotCompiled(f"the scalar {named.name}")


BOUND = "variable_"
"""The prefix of a parameter bound to a request variable (see `Compiler.bound`)."""


@dataclass
class Compiler:
    """Compiles the selections of one operation, for one viewer."""

    schema: GraphQLSchema
    selections: Selections
    viewer: Viewer
    # Parameter name -> how a request's variable value becomes that parameter's value.
    bindings: dict[str, Callable[[Any], Any]] = field(default_factory=dict)

    def bound(
        self, name: str, value: Any, type_: Any, binding: Callable[[dict[str, Any]], Any]
    ) -> ColumnElement[Any]:
        """A parameter (`value` in this plan's request) whose value each request computes
        from its variables with `binding` (a BadArgument when it can't: the resolver path
        then answers), so that one plan serves every value of the same shape
        (`resolvers.compiler.variables`)."""
        key = f"{BOUND}{len(self.bindings)}_{name}"
        self.bindings[key] = binding
        return bindparam(key, value, type_=type_)

    def arguments(self, field: GraphQLField, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(field, node, self.selections.variables)
        except GraphQLError as error:
            raise BadValue(f"arguments: {error.message}") from None

    def visible_in(self, entity: Entity, source: FromClause) -> Condition:
        """The entity's row policy over `source` (an alias or a subquery of its table)."""
        return visible_over(self.viewer, entity.table, source)

    # --- objects --------------------------------------------------------------------------

    def object_json(
        self, entity: Entity, fields: Fields, source: FromClause
    ) -> ColumnElement[Any]:
        """The JSON of the object whose row `source` holds, with the fields asked of it."""
        object_type = self.object_type(entity)
        pairs = []
        for key, nodes in fields.items():
            pairs.append((key, self.field_json(entity, object_type, nodes, source)))
        audited = audited_as(entity) if self.viewer.partner is not None else None
        if audited is not None:  # the row a partner read, for the audit (taken out after)
            type_name, column = audited
            pairs.append((AUDITED, func.json_build_array(constant(type_name), source.c[column])))
        return json_object(pairs)

    def field_json(
        self,
        entity: Entity,
        object_type: GraphQLObjectType,
        nodes: list[FieldNode],
        source: FromClause,
    ) -> ColumnElement[Any]:
        name = nodes[0].name.value
        if name == "__typename":
            return constant(object_type.name, String)
        field = object_type.fields.get(name)
        if field is None:
            raise NotCompiled(f"{object_type.name}.{name}")
        declared = declaration_of(field)
        if name == "id" and entity.key is not None:
            return global_id(entity.name, source.c[entity.key.key])
        if isinstance(declared, ToOne):
            return self.to_one_json(declared, nodes, source)
        if isinstance(declared, ToMany):
            return self.to_many_json(entity, declared, field, nodes, source)
        if isinstance(declared, FirstOf):
            return self.first_json(entity, declared.relation, nodes, source)
        if isinstance(declared, Derived):
            return scalar(declared.sql(source, self.viewer), field.type)
        column = _python_name(field)
        if column is None or column not in source.c:
            raise NotCompiled(f"{object_type.name}.{name} is resolved in Python")
        return scalar(source.c[column], field.type)

    def to_one_json(
        self, relation: ToOne, nodes: list[FieldNode], source: FromClause
    ) -> ColumnElement[Any]:
        target = CATALOG.entity(relation.target)
        assert target.key is not None
        row = target.table.alias()
        fields = self.fields_of(nodes, target)
        found = (
            select(self.object_json(target, fields, row))
            .where(row.c[target.key.key] == source.c[relation.via.key])
            .where(self.visible_in(target, row))
        )
        return found.correlate_except(row).scalar_subquery()

    def related(
        self, entity: Entity, relation: ToMany, source: FromClause
    ) -> tuple[Entity, FromClause, list[Condition]]:
        """A to-many relation's target, an alias of its table, and the conditions of the rows
        of the parent in `source` (the relation's own `where` with them; the target's policy
        is the caller's to add)."""
        assert entity.key is not None
        target = CATALOG.entity(relation.target)
        rows = target.table.alias()
        mine = [
            rows.c[relation.via.key] == source.c[entity.key.key],
            *(adapt(c, target.table, rows) for c in relation.where),
        ]
        return target, rows, mine

    def to_many_json(
        self,
        entity: Entity,
        relation: ToMany,
        field: GraphQLField,
        nodes: list[FieldNode],
        source: FromClause,
    ) -> ColumnElement[Any]:
        target, rows, mine = self.related(entity, relation, source)
        seen = [*mine, self.visible_in(target, rows)]
        named = get_named_type(field.type)
        if named.name == "Int":  # a count of the relation
            count = select(func.count()).select_from(rows).where(*seen)
            return count.correlate_except(rows).scalar_subquery()
        if relation.order is None:  # a small list, in key order
            fields = self.fields_of(nodes, target)
            order = [rows.c[c.key] for c in target.table.primary_key.columns]
            items = func.json_agg(aggregate_order_by(self.object_json(target, fields, rows),
                                                     *order))
            listed = select(func.coalesce(items, literal_json("[]"))).where(*seen)
            return listed.correlate_except(rows).scalar_subquery()
        request = self.page_request(self.arguments(field, nodes[0]))
        return self.page_json(target, nodes, field.type, relation.order, request, rows, mine)

    def first_json(
        self, entity: Entity, relation: ToMany, nodes: list[FieldNode], source: FromClause
    ) -> ColumnElement[Any]:
        """The JSON of the first row the viewer sees of an ordered relation of the parent in
        `source`, or null (`FirstOf`)."""
        assert relation.order is not None
        target, rows, mine = self.related(entity, relation, source)
        order = [adapt(o, target.table, rows) for o in relation.order.order_by(False)]
        first = (
            select(self.object_json(target, self.fields_of(nodes, target), rows))
            .where(*mine, self.visible_in(target, rows))
            .order_by(*order)
            .limit(1)
        )
        return first.correlate_except(rows).scalar_subquery()

    def object_type(self, entity: Entity) -> GraphQLObjectType:
        object_type = self.schema.get_type(entity.name)
        assert isinstance(object_type, GraphQLObjectType)
        return object_type

    def fields_of(self, nodes: list[FieldNode], entity: Entity) -> Fields:
        """What `nodes` ask of an object of `entity`."""
        return self.selections.of(nodes, self.object_type(entity))

    # --- connections ----------------------------------------------------------------------

    @staticmethod
    def page_request(arguments: dict[str, Any]) -> PageRequest:
        try:
            return page_request(
                arguments.get("first"), arguments.get("after"), arguments.get("last"),
                arguments.get("before"),
            )
        except BadArgument as error:
            raise BadValue(error.message) from None

    def page_json(
        self,
        entity: Entity,
        nodes: list[FieldNode],
        connection: Any,
        ordering: Ordering,
        request: PageRequest,
        rows: FromClause,
        where: list[Condition],
        cursor_variable: str | None = None,
    ) -> ColumnElement[Any]:
        """One connection of `entity` (of GraphQL type `connection`): the rows of `rows` (an
        alias of its table) under `where` and the viewer's policy, one page of them. With
        `cursor_variable`, the cursor's sort value and id are parameters bound to it."""
        conditions = [*where, self.visible_in(entity, rows)]
        try:
            key = decode_cursor(ordering, request)
        except BadArgument as error:
            raise BadValue(error.message) from None
        if key is not None and cursor_variable is not None:
            variable = cursor_variable

            def part(index: int) -> Callable[[dict[str, Any]], Any]:
                def binding(variables: dict[str, Any]) -> Any:
                    cursor = variables[variable]
                    found = decode_cursor(ordering, dataclasses.replace(request, cursor=cursor))
                    assert found is not None
                    return found[index]
                return binding

            key = (
                self.bound(f"{cursor_variable}__sort", key[0], ordering.column.type, part(0)),
                self.bound(f"{cursor_variable}__id", key[1], ordering.id_column.type, part(1)),
            )
        after = [] if key is None else [
            adapt(ordering.after(key, request.backward), entity.table, rows)
        ]
        order = [adapt(o, entity.table, rows) for o in ordering.order_by(request.backward)]
        rank = func.row_number().over(order_by=order).label("_n")
        size = self.page_size(nodes[0], request)
        page = (
            select(*rows.c, rank).where(*conditions, *after).order_by(*order)
            .limit(size + 1).correlate_except(rows).lateral()
        )
        connection_type = get_named_type(connection)
        assert isinstance(connection_type, GraphQLObjectType)
        pairs = [
            (key_name, self.connection_part(
                entity, connection_type, field_nodes, _Page(page, ordering, request, size),
                rows, conditions,
            ))
            for key_name, field_nodes in self.selections.of(nodes, connection_type).items()
        ]
        # One row, whether or not the parts aggregate over the page (GROUP BY the empty set).
        one = select(json_object(pairs)).select_from(page).group_by(text("()"))
        return one.scalar_subquery()

    def page_size(self, node: FieldNode, request: PageRequest) -> ColumnElement[int] | int:
        """The page's size; when a variable gives it (`first: $n`), a parameter bound to
        that variable, so one plan serves every size."""
        argument = "last" if request.backward else "first"
        variable = variable_of(node, argument)
        if variable is None:
            return request.size
        return self.bound(
            f"{variable}__size", request.size, Integer,
            lambda variables: page_size(argument, variables.get(variable)),
        )

    def part_object(
        self, connection_type: GraphQLObjectType, field: str, nodes: list[FieldNode],
        part: PartJson,
    ) -> ColumnElement[Any]:
        """The JSON of the object a connection's `field` (`edges`, `pageInfo`) holds, each of
        its fields from `part` (`__typename` here)."""
        object_type = get_named_type(connection_type.fields[field].type)
        assert isinstance(object_type, GraphQLObjectType)
        pairs = []
        for key, part_nodes in self.selections.of(nodes, object_type).items():
            name = part_nodes[0].name.value
            value = (
                constant(object_type.name, String) if name == "__typename"
                else part(name, part_nodes)
            )
            if value is None:
                raise NotCompiled(f"{object_type.name}.{name}")
            pairs.append((key, value))
        return json_object(pairs)

    def connection_part(
        self,
        entity: Entity,
        connection_type: GraphQLObjectType,
        nodes: list[FieldNode],
        paged: _Page,
        rows: FromClause,
        conditions: list[Condition],
    ) -> ColumnElement[Any]:
        name = nodes[0].name.value
        page, request, size = paged.rows, paged.request, paged.size
        kept = page.c._n <= size
        in_order = page.c._n.desc() if request.backward else page.c._n

        def in_page_order(item: ColumnElement[Any]) -> ColumnElement[Any]:
            """The page's kept rows' `item`s as a JSON array, in the order asked for."""
            listed = func.json_agg(aggregate_order_by(item, in_order)).filter(kept)
            return func.coalesce(listed, literal_json("[]"))
        if name == "__typename":
            return constant(connection_type.name, String)
        if name == "totalCount":
            count = select(func.count()).select_from(rows).where(*conditions)
            return count.correlate_except(rows).scalar_subquery()
        if name == "nodes":
            return in_page_order(self.object_json(entity, self.fields_of(nodes, entity), page))
        if name == "edges":

            def edge_part(part: str, part_nodes: list[FieldNode]) -> ColumnElement[Any] | None:
                if part == "node":
                    return self.object_json(entity, self.fields_of(part_nodes, entity), page)
                return cursor_json(paged.ordering, page) if part == "cursor" else None

            return in_page_order(self.part_object(connection_type, "edges", nodes, edge_part))
        if name == "pageInfo":
            more = func.count() > size
            from_cursor = constant(request.cursor is not None)

            def info_part(part: str, _nodes: list[FieldNode]) -> ColumnElement[Any] | None:
                if part == "hasNextPage":
                    return from_cursor if request.backward else more
                if part == "hasPreviousPage":
                    return more if request.backward else from_cursor
                if part in ("startCursor", "endCursor"):
                    first_of = (part == "startCursor") != request.backward
                    order = page.c._n if first_of else page.c._n.desc()
                    cursors = array_agg(aggregate_order_by(cursor_json(paged.ordering, page),
                                                           order)).filter(kept)
                    return _first(cursors)
                return None

            return self.part_object(connection_type, "pageInfo", nodes, info_part)
        raise NotCompiled(f"{connection_type.name}.{name}")


PartJson = Callable[[str, list[FieldNode]], ColumnElement[Any] | None]
"""`part(name, nodes)`: the SQL of one field of a connection's part, None for one it lacks."""


@dataclass(frozen=True)
class _Page:
    """A connection's page: the rows (ranked `_n` in the ordering), its ordering, request."""

    rows: FromClause
    ordering: Ordering
    request: PageRequest
    size: ColumnElement[int] | int  # the page size: a parameter bound to a variable, or not


def adapt(condition: Any, table: Table, source: FromClause) -> Any:
    """`condition`, written over `table`, over `source` (an alias or subquery of it)."""
    if source is table:
        return condition
    return ClauseAdapter(source).traverse(condition)


__all__ = ["Compiler", "NotCompiled"]
