"""Expected mutation failures, returned as data in each payload's `userErrors`."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any, Protocol, TypeVar

import strawberry

from resolvers.writes import Problem


@strawberry.interface(
    description="An expected failure: nothing was changed. Each domain has its own code enum."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the input field at fault, e.g. [\"input\", \"purpose\"]."
    )
    message: str


C = TypeVar("C", bound=Enum)
C_contra = TypeVar("C_contra", bound=Enum, contravariant=True)
E_co = TypeVar("E_co", bound=UserError, covariant=True)
E = TypeVar("E", bound=UserError)


class ErrorType(Protocol[C_contra, E_co]):
    """A domain's error type (`JobError`), made with a member of its code enum."""

    def __call__(self, *, field: list[str] | None, message: str, code: C_contra) -> E_co: ...


def user_errors(error_type: ErrorType[C, E], problems: Iterable[Problem[C]]) -> list[E]:
    """The payload form of `problems`: `error_type`s whose code is each problem's own."""
    return [
        error_type(
            field=["input", *p.field] if p.field else None, message=p.message, code=p.code
        )
        for p in problems
    ]


_ERROR_TYPES: dict[type[Enum], Any] = {}


def error_type_of(codes: type[Enum]) -> Any:
    """`JobError` for `JobErrorCode`: a user error whose code is a member of `codes` (one type
    per enum, made on first use)."""
    made = _ERROR_TYPES.get(codes)
    if made is None:
        if not hasattr(codes, "_enum_definition"):
            strawberry.enum(codes, description=codes.__doc__)
        name = codes.__name__.removesuffix("Code")
        made = strawberry.type(type(name, (UserError,), {"__annotations__": {"code": codes}}))
        _ERROR_TYPES[codes] = made
    return made
