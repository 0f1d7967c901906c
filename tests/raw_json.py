"""Requests whose JSON a well-behaved client would not send: lone surrogates as `\\ud800`.

httpx encodes request JSON as UTF-8 and can't encode a lone surrogate, but JSON text may
escape one, and a server must answer such a body. `post` writes the body with Python's
`json.dumps`, which escapes every non-ASCII character, surrogates included.
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import GraphQLClient, GraphQLResponse


async def post(
    client: GraphQLClient, query: str, variables: dict[str, Any] | None = None
) -> GraphQLResponse:
    response = await client.http.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables or {}}).encode("ascii"),
        headers={
            "content-type": "application/json",
            "accept": "application/graphql-response+json",
            **client.headers,
        },
    )
    return GraphQLResponse(response.status_code, response.json(), response.headers)


def refused(result: GraphQLResponse, *names: str) -> str:
    """The message of a BAD_USER_INPUT refusal, checked to name each of `names`."""
    assert result.status in (200, 400), result.body
    assert result.errors, result.body
    error = result.errors[0]
    assert error.get("extensions", {}).get("code") == "BAD_USER_INPUT", result.body
    message = str(error["message"])
    for name in names:
        assert name in message, (name, message)
    return message
