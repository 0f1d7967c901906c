"""Building each operation's context; a refused token is a 401 with a Bearer challenge, and too
many refused ones from one address a 429."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from server.auth import AuthenticationError, TooManyFailures
from server.graphql_http.errors import RequestError
from server.ratelimit import retry_after_header

ContextFactory = Callable[[Request], Any]
"""Builds the per-request context; may return an awaitable."""

_NOT_IN_QUOTED_STRING = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


async def build_context(context_factory: ContextFactory, request: Request) -> Any:
    try:
        context = context_factory(request)
        if inspect.isawaitable(context):
            context = await context
    except AuthenticationError as exc:
        challenge = bearer_challenge(exc.message)
        raise RequestError(
            401, exc.message, {"WWW-Authenticate": challenge}, code="UNAUTHENTICATED"
        ) from exc
    except TooManyFailures as exc:
        retry_after = {"Retry-After": retry_after_header(exc.retry_after)}
        raise RequestError(429, exc.message, retry_after, code="RATE_LIMITED") from exc
    return context


def bearer_challenge(message: str) -> str:
    """`WWW-Authenticate` for a refused token (RFC 6750 section 3; its charset is ASCII)."""
    description = _NOT_IN_QUOTED_STRING.sub("?", message.replace('"', "'"))
    return f'Bearer error="invalid_token", error_description="{description}"'
