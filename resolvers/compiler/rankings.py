"""A ranking root field (`resolvers.declarations.Ranking`: `recommendedJobs`...) as one
statement: its user errors, decided in SQL (the subject unseen is NOT_FOUND, a refusal that
holds answers its code; a caller of another role is answered by the plan alone), and the
ranked rows with each target object as its selection asks, in ranking order, every table
read under the viewer's policy. The answer carries the audit marks of the subject and of
each personal row ranked, as `resolvers.rankings.rank` notes them on the resolver path.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import orjson
from graphql import FieldNode, GraphQLField, GraphQLObjectType, get_named_type
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    exists,
    func,
    not_,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from resolvers.catalog import CATALOG
from resolvers.compiler.json_sql import (
    AUDITED,
    BadValue,
    Compiler,
    constant,
    json_object,
    literal_json,
)
from resolvers.compiler.variables import variable_of
from resolvers.declarations import Ranking
from resolvers.errors import BadArgument
from resolvers.rankings import audits, ranking_size, subject_key


def ranking_statement(
    compiler: Compiler, ranking: Ranking, field: GraphQLField, nodes: list[FieldNode]
) -> Select[Any]:
    arguments = compiler.arguments(field, nodes[0])
    answer = get_named_type(field.type)
    assert isinstance(answer, GraphQLObjectType)
    codes, viewer = ranking.codes, compiler.viewer
    if viewer.role not in ranking.roles:
        refused = _errors_json(compiler, answer, nodes, None, codes["NOT_ALLOWED"],
                               ranking.refusal)
        return select(_answer_json(compiler, answer, nodes, literal_json("[]"), refused))
    try:
        size = ranking_size(ranking, arguments.get("first"))
        key = subject_key(ranking, arguments[ranking.argument])
    except BadArgument as error:
        raise BadValue(error.message) from None
    subject = CATALOG.entity(ranking.subject)
    subject_column = subject.key
    assert subject_column is not None
    key_sql = _bound_key(compiler, ranking, nodes[0], key, subject_column.type)
    first_sql = _bound_size(compiler, ranking, nodes[0], size)
    row = subject.table.alias("ranked_for")

    def holds(*conditions: Any) -> ColumnElement[bool]:
        return exists(
            select(1).select_from(row)
            .where(row.c[subject_column.key] == key_sql, compiler.visible_in(subject, row),
                   *conditions)
        )

    refusals = [
        (holds(refusal.sql(row)), _errors_json(compiler, answer, nodes, ranking.argument,
                                               refusal.code, refusal.message))
        for refusal in ranking.refusals
    ]
    missing = _errors_json(compiler, answer, nodes, ranking.argument, codes["NOT_FOUND"],
                           f"No such {ranking.subject}.")
    errors = case((not_(holds()), missing), *refusals, else_=literal_json("[]"))
    ranked = ranking.ranked(viewer, key_sql, first_sql).subquery("ranked")
    items = _items_json(compiler, ranking, answer, nodes, ranked)
    mark = None
    if audits(viewer):
        listed = and_(holds(), *(not_(holds(r.sql(row))) for r in ranking.refusals))
        mark = case((listed, func.json_build_array(constant(ranking.subject), key_sql)))
    return select(_answer_json(compiler, answer, nodes, items, errors, mark))


def _bound_key(
    compiler: Compiler, ranking: Ranking, node: FieldNode, key: Any, type_: Any
) -> ColumnElement[Any]:
    variable = variable_of(node, ranking.argument)
    if variable is None:
        return constant(key, type_)
    return compiler.bound(
        variable, key, type_, lambda variables: subject_key(ranking, variables[variable])
    )


def _bound_size(
    compiler: Compiler, ranking: Ranking, node: FieldNode, size: int
) -> ColumnElement[Any] | int:
    variable = variable_of(node, "first")
    if variable is None:
        return size
    return compiler.bound(
        f"{variable}__size", size, Integer,
        lambda variables: ranking_size(ranking, variables.get(variable)),
    )


def _part_type(answer: GraphQLObjectType, field: str) -> GraphQLObjectType:
    part = get_named_type(answer.fields[field].type)
    assert isinstance(part, GraphQLObjectType)
    return part


def _answer_json(
    compiler: Compiler,
    answer: GraphQLObjectType,
    nodes: list[FieldNode],
    items: ColumnElement[Any],
    errors: ColumnElement[Any],
    mark: ColumnElement[Any] | None = None,
) -> ColumnElement[Any]:
    """The answer object (`JobRecommendations`) with the fields its selection asks."""
    parts = {"recommendations": items, "userErrors": errors}
    pairs = []
    for key, part_nodes in compiler.selections.of(nodes, answer).items():
        name = part_nodes[0].name.value
        pairs.append((key, constant(answer.name, String) if name == "__typename" else parts[name]))
    if mark is not None:
        pairs.append((AUDITED, mark))
    return json_object(pairs)


def _errors_json(
    compiler: Compiler,
    answer: GraphQLObjectType,
    nodes: list[FieldNode],
    argument: str | None,
    code: Enum,
    message: str,
) -> ColumnElement[Any]:
    """`userErrors` holding one error, as its selection asks: a constant."""
    error_type = _part_type(answer, "userErrors")
    values = {
        "__typename": error_type.name, "field": None if argument is None else [argument],
        "code": code.name, "message": message,
    }
    asked = compiler.selections.of(_parts(compiler, answer, nodes, "userErrors"), error_type)
    error = {key: values[part[0].name.value] for key, part in asked.items()}
    return literal_json(orjson.dumps([error]).decode())


def _parts(
    compiler: Compiler, answer: GraphQLObjectType, nodes: list[FieldNode], name: str
) -> list[FieldNode]:
    """The field nodes of `nodes`' selections that ask for the answer's part `name`."""
    return [
        part for key_nodes in compiler.selections.of(nodes, answer).values()
        for part in key_nodes if part.name.value == name
    ]


def _items_json(
    compiler: Compiler,
    ranking: Ranking,
    answer: GraphQLObjectType,
    nodes: list[FieldNode],
    ranked: Any,
) -> ColumnElement[Any]:
    """The ranked rows as the `recommendations` list, in ranking order."""
    asked = _parts(compiler, answer, nodes, "recommendations")
    if not asked:
        return literal_json("[]")
    item_type = _part_type(answer, "recommendations")
    target = CATALOG.entity(ranking.target)
    assert target.key is not None
    row = target.table.alias("ranked_row")
    pairs: list[tuple[str, Any]] = []
    for key, part_nodes in compiler.selections.of(asked, item_type).items():
        name = part_nodes[0].name.value
        if name == "__typename":
            value: Any = constant(item_type.name, String)
        elif name in ("score", "reasons"):
            value = ranked.c[name]
        else:  # the ranked object
            value = compiler.object_json(target, compiler.fields_of(part_nodes, target), row)
        pairs.append((key, value))
    if target.personal and audits(compiler.viewer):
        pairs.append((AUDITED, func.json_build_array(constant(target.name), ranked.c.key)))
    listed = func.json_agg(aggregate_order_by(json_object(pairs), ranked.c.position))
    return (
        select(func.coalesce(listed, literal_json("[]")))
        .select_from(ranked.join(row, row.c[target.key.key] == ranked.c.key))
        .where(compiler.visible_in(target, row))
        .scalar_subquery()
    )


__all__ = ["ranking_statement"]
