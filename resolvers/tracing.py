"""Spans for what the read side does (SQL statements sent past SQLAlchemy, DataLoader
batches), made only while a tracer provider records them: with tracing off, a span costs one
type check (`server.telemetry` installs the provider)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import ProxyTracerProvider, SpanKind
from opentelemetry.util.types import AttributeValue

tracer = trace.get_tracer("laborhub")


def recording() -> bool:
    """Whether a real tracer provider is installed."""
    return not isinstance(trace.get_tracer_provider(), ProxyTracerProvider)


def in_recorded_trace() -> bool:
    """Whether the current span records: a span inside a request that was sampled out would
    be sampled out too (the samplers are parent-based), so none is made at all. Making the
    spans that are then dropped cost most of tracing's price at a low sampling ratio."""
    return trace.get_current_span().is_recording()  # never without a real tracer provider


def span(
    name: str,
    attributes: dict[str, AttributeValue] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
) -> AbstractContextManager[Any]:
    """A span around a block (the current one while it runs), or nothing when tracing is off
    or the trace was sampled out."""
    if not in_recorded_trace():
        return nullcontext()
    return tracer.start_as_current_span(name, kind=kind, attributes=attributes)


def statement_span(sql: str) -> AbstractContextManager[Any]:
    """A client span for one SQL query sent straight to the driver."""
    if not in_recorded_trace():
        return nullcontext()
    return tracer.start_as_current_span(
        "SELECT",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": "postgresql",
            "db.system": "postgresql",
            "db.operation.name": "SELECT",
            "db.query.text": sql,
        },
    )
