"""Every declared write as a root mutation field, made from its declaration alone.

For a `resolvers.writes.Write` named `registerWorker` returning a `Worker`:

- `RegisterWorkerInput`: its input dataclass's fields in order (camelCased, with their
  defaults and descriptions; a `GlobalId` is an `ID`), and `idempotencyKey` when it is
  idempotent;
- `RegisterWorkerPayload { worker: Worker  userErrors: [WorkerError!]! }`, where `WorkerError`
  carries a member of the write's code enum (`WorkerErrorCode`), one error type per enum;
- `registerWorker(input: RegisterWorkerInput!): RegisterWorkerPayload!`, which runs
  `resolvers.writes.perform` for the request's viewer.

So a new mutation is declared in `resolvers/` and appears here with nothing written twice.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import types
import typing
from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

from resolvers.declarations import snake_name
from resolvers.global_ids import GlobalId
from resolvers.writes import WRITES, Write, perform
from schema.context import Info
from schema.errors import error_type_of, user_errors
from schema.node import record_type

IDEMPOTENCY_KEY_DOC = (
    "Retrying with the same key returns what the first call did; another input with the same "
    "key is IDEMPOTENCY_KEY_REUSED."
)


def mutation_type(*bases: type) -> type:
    """The root `Mutation` type: `bases` (types with mutations of their own), then every
    declared write, by name (whatever order their modules were imported in)."""
    namespace = {snake_name(name): mutation_field(WRITES[name]) for name in sorted(WRITES)}
    return strawberry.type(type("Mutation", bases, namespace))


def mutation_field(write: Write[Any, Any]) -> StrawberryField:
    upper = write.name[0].upper() + write.name[1:]
    input_type = _input_type(write, f"{upper}Input")
    object_field = snake_name(write.returns.name)
    error_type = error_type_of(write.codes)
    payload_type = strawberry.type(
        type(f"{upper}Payload", (), {
            "__annotations__": {
                object_field: record_type(write.returns.name) | None,
                "user_errors": list[error_type],  # type: ignore[valid-type]
            },
        }),
        description=f"What `{write.name}` did: the {_words(write.returns.name)}, or why not.",
    )
    fields = [field.name for field in dataclasses.fields(write.input)]
    record = record_type(write.returns.name)

    async def resolve(info: Info, input: Any) -> Any:
        request = write.input(**{name: getattr(input, name) for name in fields})
        key = getattr(input, "idempotency_key", None)
        context = info.context
        outcome = await perform(
            write, context.database.engine, context.database.vault, context.viewer, request, key
        )
        found = None if outcome.row is None else record.from_row(outcome.row)
        errors = user_errors(error_type, outcome.problems)
        return payload_type(**{object_field: found, "user_errors": errors})

    resolve.__annotations__ = {"info": Info, "input": input_type, "return": payload_type}
    return strawberry.mutation(resolver=resolve, name=write.name, description=_described(write))


def _input_type(write: Write[Any, Any], name: str) -> type:
    hints = typing.get_type_hints(write.input)
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__annotations__": annotations}
    for field in dataclasses.fields(write.input):
        annotations[field.name] = _graphql_type(hints[field.name])
        options: dict[str, Any] = {"description": field.metadata.get("doc")}
        if field.default is not dataclasses.MISSING:
            options["default"] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            options["default_factory"] = field.default_factory
        namespace[field.name] = strawberry.field(**options)
    if write.idempotent:
        annotations["idempotency_key"] = str | None
        namespace["idempotency_key"] = strawberry.field(
            default=None, description=IDEMPOTENCY_KEY_DOC
        )
    doc = write.input.__doc__
    description = None if doc is None else " ".join(doc.split())  # one paragraph
    return strawberry.input(type(name, (), namespace), description=description)


def _graphql_type(hint: Any) -> Any:
    """`hint` with each `GlobalId` in it an `ID`."""
    if hint is GlobalId:
        return strawberry.ID
    origin, arguments = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, map(_graphql_type, arguments))
    if origin is list:
        return list[_graphql_type(arguments[0])]  # type: ignore[misc]
    return hint


def _words(name: str) -> str:
    """`SkillSurvey` -> `skill survey`."""
    return snake_name(name).replace("_", " ")


def _described(write: Write[Any, Any]) -> str:
    """The write's description, and the roles that may call it (the others get NOT_ALLOWED)."""
    if write.roles is None:
        return write.description
    roles = ", ".join(sorted(role.name for role in write.roles))
    return f"{write.description} Roles: {roles}; others get NOT_ALLOWED."
