"""The endpoint's spans: the HTTP request and the GraphQL operation (see `server.telemetry`).
With tracing off neither is made."""

from __future__ import annotations

import hashlib
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from starlette.requests import Request

from resolvers.tracing import in_recorded_trace, recording, tracer


def request_span(request: Request) -> AbstractContextManager[Any]:
    """The HTTP request's server span, continuing the trace its `traceparent` names."""
    if not recording():
        return nullcontext()
    method = request.method
    return tracer.start_as_current_span(
        f"{method} {request.url.path}",
        context=propagate.extract(request.headers),
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": method,
            "url.path": request.url.path,
            "url.scheme": request.url.scheme,
            "http.route": request.url.path,
        },
    )


def operation_span(
    kind: str, name: str | None, document: str, role: str | None
) -> AbstractContextManager[Any]:
    """The operation's span: its type, name, document hash and the principal's role."""
    if not in_recorded_trace():
        return nullcontext()
    attributes: dict[str, Any] = {
        "graphql.operation.type": kind,
        "graphql.document.sha256": hashlib.sha256(document.encode()).hexdigest(),
    }
    if name:
        attributes["graphql.operation.name"] = name
    if role:
        attributes["laborhub.role"] = role
    return tracer.start_as_current_span(f"{kind} {name}" if name else kind, attributes=attributes)


def note_read_path(summary: str) -> None:
    """Which read path answered, on the current (operation) span."""
    if in_recorded_trace():
        trace.get_current_span().set_attribute("laborhub.read_path", summary)


def role_of(context: Any) -> str | None:
    role = getattr(getattr(context, "viewer", None), "role", None)
    return getattr(role, "value", None)
