"""Errors a client caused: they reach the response with their message and a stable code."""

from __future__ import annotations

from graphql import GraphQLError


class BadArgument(GraphQLError):
    """An argument value that is well-typed but unusable (a junk cursor, a page too big)."""

    def __init__(self, argument: str, problem: str) -> None:
        super().__init__(
            f"Invalid value for argument '{argument}': {problem}",
            extensions={"code": "BAD_USER_INPUT", "argument": argument},
        )
