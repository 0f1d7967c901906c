"""Rate limiting per principal: one token per operation, refused with 429 and `Retry-After`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from server.graphql_http.errors import RequestError
from server.ratelimit import RateLimiter, retry_after_header


def throttle(
    rate_limiter: RateLimiter | None, request: Request, context: Any, operations: int
) -> None:
    if rate_limiter is None:
        return
    wait = rate_limiter.take(principal_of(context, request), operations)
    if wait is None:
        return
    retry_after = retry_after_header(wait)
    raise RequestError(
        429,
        f"Rate limit exceeded: {rate_limiter.describe()} per caller. Retry after {retry_after} s.",
        {"Retry-After": retry_after},
        code="RATE_LIMITED",
    )


def principal_of(context: Any, request: Request) -> str:
    """Whom a request counts against: the viewer's principal; anonymous ones by address."""
    viewer = getattr(context, "viewer", None)
    principal = getattr(viewer, "principal", None)
    role = getattr(getattr(viewer, "role", None), "value", "anonymous")
    if isinstance(principal, str) and (
        role != "anonymous" or getattr(viewer, "client_address", None)
    ):
        return principal
    host = request.client.host if request.client is not None else "unknown"
    return f"anonymous:{host}"
