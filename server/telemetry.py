"""Tracing with OpenTelemetry, configured from the standard `OTEL_*` environment variables.

- `OTEL_TRACES_EXPORTER`: `none` (the default: no tracer provider, spans cost next to
  nothing), `console` (spans as JSON on stdout) or `otlp` (OTLP over HTTP/protobuf to
  `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, default
  http://localhost:4318).
- `OTEL_SERVICE_NAME` (default `laborhub`), `OTEL_RESOURCE_ATTRIBUTES`.
- `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (default `parentbased_always_on`), read
  by the SDK itself.

The spans (`server.graphql_http` and below make them; nothing here is per request):

- `POST /graphql`: the HTTP request (server kind; continues a W3C `traceparent` sent with it);
- `query JobById` (the operation): its name, type, the SHA-256 of its document, the
  principal's role and which read path answered; never variables or results;
- one client span per SQL statement, SQLAlchemy's (from its events) and the compiled reads'
  (`resolvers.compiler`), with the statement's text (its values are parameters, never in
  the text);
- `dataloader batch`: each DataLoader batch, with its loader and batch size.

No span per GraphQL field unless `LABORHUB_TRACE_FIELDS=1` (Strawberry's extension, on the
resolver path only: the compiled path resolves no field in Python); it costs much more than
the rest together on lists.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.schema.base import BaseSchema

from resolvers.tracing import in_recorded_trace, tracer
from resolvers.tracing import recording as tracing_enabled

log = logging.getLogger("laborhub.telemetry")

EXPORTERS = ("none", "console", "otlp")
DEFAULT_SERVICE_NAME = "laborhub"


class TelemetryError(ValueError):
    """A tracing setting that can't be used; the message names it."""


def span_exporter(environ: Mapping[str, str]) -> SpanExporter | None:
    """The exporter `OTEL_TRACES_EXPORTER` asks for, or None for `none`."""
    name = environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower() or "none"
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_* itself
    raise TelemetryError(
        f"OTEL_TRACES_EXPORTER={name!r} is not supported; use one of {', '.join(EXPORTERS)}"
    )


def configure_tracing(environ: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Install the process's tracer provider as the environment says, once; None when
    tracing is off (or a provider is installed already, e.g. by a test or an agent)."""
    environ = os.environ if environ is None else environ
    exporter = span_exporter(environ)
    if exporter is None or tracing_enabled():
        return None
    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: DEFAULT_SERVICE_NAME}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    log.info("Tracing to %s", type(exporter).__name__)
    return provider


def trace_engine(engine: AsyncEngine) -> None:
    """A client span for each statement the engine sends (when tracing is on), from
    SQLAlchemy's own events (the instrumentation package does not take SQLAlchemy 2.1)."""
    if not tracing_enabled():
        return
    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", _start_statement)
    event.listen(sync_engine, "after_cursor_execute", _end_statement)
    event.listen(sync_engine, "handle_error", _failed_statement)


def _start_statement(
    connection: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _many: bool
) -> None:
    if not in_recorded_trace():  # a place in the stack all the same: the end pops it
        connection.info.setdefault(_SPANS, []).append(None)
        return
    verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    span = tracer.start_span(
        verb,
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": "postgresql",
            "db.system": "postgresql",
            "db.operation.name": verb,
            "db.query.text": statement,
        },
    )
    connection.info.setdefault(_SPANS, []).append(span)


def _end_statement(connection: Any, *_args: Any) -> None:
    started = connection.info.get(_SPANS)
    if started:
        span = started.pop()
        if span is not None:
            span.end()


def _failed_statement(context: Any) -> None:
    connection = context.connection
    started = None if connection is None else connection.info.get(_SPANS)
    if started:
        span = started.pop()
        if span is not None:
            span.set_status(Status(StatusCode.ERROR, type(context.original_exception).__name__))
            span.end()


_SPANS = "laborhub_statement_spans"


def trace_fields(schema: BaseSchema, environ: Mapping[str, str] | None = None) -> None:
    """With `LABORHUB_TRACE_FIELDS=1` (and tracing on), a span per resolved field: Strawberry's
    OpenTelemetry extension, added to `schema` once for the process."""
    environ = os.environ if environ is None else environ
    wanted = environ.get("LABORHUB_TRACE_FIELDS", "").strip().lower() in ("1", "true", "yes")
    extensions = getattr(schema, "extensions", None)
    if not wanted or not tracing_enabled() or extensions is None:
        return
    from strawberry.extensions.tracing import OpenTelemetryExtension

    if OpenTelemetryExtension not in extensions:
        schema.extensions = (*extensions, OpenTelemetryExtension)  # type: ignore[attr-defined]
