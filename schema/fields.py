"""Fields made from declarations: relations, root lists and their `orderBy` inputs.

A domain's GraphQL types say which declared relation or entity a field shows and how it is
described; these factories make the field: its arguments (the Relay paging arguments, filter,
orderBy), its return type (the target named, not imported), and its resolver, which reads
through the request's gateway. Nullability follows from the declarations: a to-one relation is
non-null only when its column is and its target's policy shows every row to every viewer.
"""

from __future__ import annotations

import dataclasses
import inspect
from enum import Enum
from functools import cache
from typing import Annotated, Any, cast

import strawberry
from strawberry.types.base import get_object_definition

from resolvers.catalog import CATALOG, shows_every_row
from resolvers.declarations import (
    Derived,
    Entity,
    FirstOf,
    Ranking,
    ToMany,
    ToOne,
    graphql_name,
    snake_name,
)
from resolvers.filters import LOGIC
from resolvers.lists import list_page
from resolvers.pagination import page_request
from resolvers.rankings import rank
from schema.connections import Connection, OrderDirection, connection
from schema.context import Info
from schema.errors import error_type_of
from schema.node import from_row, named


def _field(resolve: Any, returns: Any, description: str | None, metadata: object) -> Any:
    resolve.__annotations__["return"] = returns
    return strawberry.field(
        resolver=resolve, description=description, metadata={"declaration": metadata}
    )


def derived(
    declaration: Derived, returns: Any, description: str | None = None, name: str | None = None
) -> Any:
    """A field computed from its own row (`resolvers.declarations.Derived`)."""

    def resolve(self: Any, info: Info) -> Any:
        return declaration.value(self, info.context.viewer)

    resolve.__annotations__["return"] = returns
    return strawberry.field(
        resolver=resolve, name=name, description=description,
        metadata={"declaration": declaration},
    )


def ranked(ranking: Ranking, description: str) -> Any:
    """A ranking root field (`resolvers.declarations.Ranking`): `<name>(<argument>: ID!,
    first: Int)` answering `<Target>Recommendations { recommendations: [<Target>Recommendation!]!
    userErrors: [<Codes>Error!]! }`, each recommendation the target object (`job`), its
    `score` and its `reasons`."""
    target, argument = ranking.target, snake_name(ranking.argument)
    item_field = snake_name(target)
    item = strawberry.type(
        type(f"{target}Recommendation", (), {
            "__annotations__": {item_field: named(target), "score": float, "reasons": list[str]},
            "score": strawberry.field(description="Points out of 100: higher fits better."),
            "reasons": strawberry.field(
                description="Each thing that counted, in words a caseworker can read out "
                "(同一区县, 期望月薪 6500，岗位 6000–9000, 已完成 数控车工 培训)."
            ),
        }),
        description=f"A {snake_name(target).replace('_', ' ')} recommended, with why.",
    )
    error_type = error_type_of(ranking.codes)
    answer = strawberry.type(
        type(f"{target}Recommendations", (), {
            "__annotations__": {
                "recommendations": list[item],  # type: ignore[valid-type]
                "user_errors": list[error_type],  # type: ignore[valid-type]
            },
            "recommendations": strawberry.field(description="Best first; empty with an error."),
        }),
        description=f"What `{ranking.name}` found, or why it made no list.",
    )

    async def resolve(info: Info, **arguments: Any) -> Any:
        outcome = await rank(
            info.context.reads, ranking, arguments[argument], arguments.get("first")
        )
        errors = [
            error_type(
                field=None if p.argument is None else [p.argument], message=p.message,
                code=p.code,
            )
            for p in outcome.problems
        ]
        items = [
            item(**{item_field: from_row(target, r.row), "score": r.score,
                    "reasons": r.reasons})
            for r in outcome.rows
        ]
        return answer(recommendations=items, user_errors=errors)

    first = f"At most this many, 1 to {ranking.most}; {ranking.default} when not given."
    resolve.__signature__ = inspect.Signature([  # type: ignore[attr-defined]
        inspect.Parameter("info", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Info),
        inspect.Parameter(argument, inspect.Parameter.KEYWORD_ONLY, annotation=strawberry.ID),
        inspect.Parameter(
            "first", inspect.Parameter.KEYWORD_ONLY, default=None,
            annotation=Annotated[int | None, strawberry.argument(description=first)],
        ),
    ], return_annotation=answer)
    return strawberry.field(
        resolver=resolve, name=ranking.name, description=description,
        metadata={"declaration": ranking},
    )


def is_required(relation: ToOne) -> bool:
    """Whether every viewer always finds the target (see the module docstring)."""
    return not relation.via.nullable and shows_every_row(CATALOG.entity(relation.target))


def to_one(relation: ToOne, description: str | None = None) -> Any:
    """The object a to-one relation points to; null where there is none or the viewer may
    not see it."""
    target, attribute, required = relation.target, relation.attribute, is_required(relation)

    async def resolve(self: Any, info: Info) -> Any:
        key = getattr(self, attribute)
        row = None if key is None else await info.context.reads.target(target, key)
        if row is None and required:
            raise LookupError(f"{target} {key} is referenced but missing")
        return None if row is None else from_row(target, row)

    returns = named(target) if required else named(target) | None
    return _field(resolve, returns, description, relation)


def to_many(relation: ToMany, description: str | None = None) -> Any:
    """A small one-to-many relation as a plain list (skills, children), in key order."""
    target = relation.target

    async def resolve(self: Any, info: Info) -> Any:
        rows = await info.context.reads.children(relation, self.pk)
        return [from_row(target, row) for row in rows]

    return _field(resolve, list[named(target)], description, relation)  # type: ignore[misc]


def paged(relation: ToMany, description: str | None = None) -> Any:
    """A one-to-many relation as a connection, batched over every parent in the request."""
    target = relation.target

    async def resolve(
        self: Any, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
    ) -> Any:
        request = page_request(first, after, last, before)
        page, count = await info.context.reads.related_page(relation, self.pk, request)
        return connection(target, page, count)

    return _field(resolve, Connection[named(target)], description, relation)  # type: ignore[misc]


FIRST_ROW = page_request(first=1, after=None, last=None, before=None)


def first_of(declaration: FirstOf, description: str | None = None) -> Any:
    """The first row of an ordered relation as one object, or null: the relation's first page
    of one row, batched over every parent like its pages."""
    relation, target = declaration.relation, declaration.target

    async def resolve(self: Any, info: Info) -> Any:
        page, _count = await info.context.reads.related_page(relation, self.pk, FIRST_ROW)
        return from_row(target, page.rows[0]) if page.rows else None

    return _field(resolve, named(target) | None, description, declaration)


def counted(relation: ToMany, description: str | None = None) -> Any:
    """How many rows of a relation the viewer may see."""

    async def resolve(self: Any, info: Info) -> int:
        return await info.context.reads.count(relation, self.pk)

    return _field(resolve, int, description, relation)


def order_input(entity: Entity) -> type:
    """`<Type>OrderField` (the entity's orderings, the first the default) and `<Type>Order`."""
    members = {name: column.key for name, column in entity.orderings.items()}
    field_enum = strawberry.enum(cast(type[Enum], Enum(f"{entity.name}OrderField", members)))
    default = next(iter(field_enum))
    order = type(
        f"{entity.name}Order",
        (),
        {
            "__annotations__": {"field": field_enum, "direction": OrderDirection},
            "__module__": __name__,
            "field": default,
            "direction": OrderDirection.DESC,
        },
    )
    return strawberry.input(
        order,
        description="The order of a list; ties go by ID in the same direction. Rows with no "
        "value of the field (a piece-rate job's MONTHLY_SALARY) come last either way.",
    )


AND_DESCRIPTION = (
    "Filters that must all hold, besides this filter's other fields. An empty list holds "
    "for every row."
)
OR_DESCRIPTION = (
    "Filters of which at least one must hold, besides this filter's other fields. An empty "
    "list holds for no row."
)
NOT_DESCRIPTION = (
    "A filter that must not hold, besides this filter's other fields: a row whose compared "
    "value is null does not hold it, so `not` takes that row in."
)


@cache
def with_logic(filter_input: type) -> type:
    """`filter_input` (a `<Type>Filter` input) with `and`, `or` and `not`, which take the same
    input: every given field of one filter object must hold, those three included
    (`resolvers.filters.LOGIC`). The input keeps its name and description; fields added to
    `filter_input` are picked up as they are."""
    definition = get_object_definition(filter_input, strict=True)
    logical = type(
        filter_input.__name__,
        (filter_input,),
        {"__module__": filter_input.__module__, "__doc__": filter_input.__doc__},
    )
    logical.__annotations__ = {
        "and_": list[logical] | None,  # type: ignore[valid-type]
        "or_": list[logical] | None,  # type: ignore[valid-type]
        "not_": logical | None,
    }
    for python_name, description in zip(
        LOGIC, (AND_DESCRIPTION, OR_DESCRIPTION, NOT_DESCRIPTION), strict=True
    ):
        field = strawberry.field(
            default=None, name=graphql_name(python_name), description=description
        )
        setattr(logical, python_name, field)
    return strawberry.input(
        logical, name=definition.name, description=definition.description
    )


def listed(entity: Entity, filter_input: type, description: str) -> Any:
    """A root list of `entity`: paging arguments, `filter` (`filter_input` with `and`, `or`
    and `not`: `with_logic`) and `orderBy`."""
    fields = {f.name for f in dataclasses.fields(filter_input)} - set(LOGIC)
    if fields != set(entity.filters):
        raise TypeError(
            f"{filter_input.__name__} fields and {entity.name} filter rules differ: "
            f"{sorted(fields ^ set(entity.filters))}"
        )
    order_type = order_input(entity)
    filter_type = with_logic(filter_input)

    async def resolve(
        self: Any, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
        filter: Any = None, order_by: Any = None,
    ) -> Any:
        order = order_by or order_type()
        request = page_request(first, after, last, before)
        sort = (order.field.name, order.direction is OrderDirection.DESC)
        page, count = await list_page(info.context.reads, entity, filter, sort, request)
        return connection(entity.name, page, count)

    resolve.__annotations__["filter"] = filter_type | None
    resolve.__annotations__["order_by"] = order_type | None
    return _field(resolve, Connection[named(entity.name)], description, entity)  # type: ignore[misc]
