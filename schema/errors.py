"""Expected mutation failures, returned as data in each payload's `userErrors`."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry

from resolvers.errors import Problem


@strawberry.interface(
    description="An expected failure: nothing was changed. Each domain has its own code enum."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description="Path to the input field at fault, e.g. [\"input\", \"purpose\"]."
    )
    message: str


E = TypeVar("E", bound=UserError)
C = TypeVar("C", bound=Enum)


def user_errors(
    error_type: type[E], codes: type[C], problems: tuple[Problem, ...]
) -> list[E]:
    """The payload form of `problems`, as `error_type` with its domain's `codes` enum."""
    return [
        error_type(
            field=["input", *p.field] if p.field else None,
            message=p.message,
            code=codes[p.code],  # type: ignore[call-arg]
        )
        for p in problems
    ]
