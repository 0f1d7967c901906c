"""Errors a client caused: they reach the response with their message and a stable code."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import GraphQLError


class BadArgument(GraphQLError):
    """An argument value that is well-typed but unusable (a junk cursor, a page too big)."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(
            f"Invalid value for argument '{argument}': {problem}",
            extensions={"code": "BAD_USER_INPUT", "argument": argument},
        )


class InvalidValue(ValueError):
    """A value that is not of its type at all (`"abc"` for a Decimal); the message says why,
    for the client, without the argument's name, which the caller adds."""


@dataclass(frozen=True)
class Problem:
    """An expected failure of a mutation: reported in `userErrors`, nothing changed."""

    field: tuple[str, ...]
    code: str  # a member name of the mutation's <Domain>ErrorCode enum
    message: str
