"""Errors a client caused: they reach the response with their message and a stable code.

Expected failures of mutations are not exceptions but data: see `resolvers.writes.Problem`.
"""

from __future__ import annotations

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
