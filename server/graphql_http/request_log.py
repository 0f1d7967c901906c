"""One JSON line per /graphql request (logger `laborhub.request`, at INFO): its trace and
span ids, operations, duration, status, the principal's role, the read path, the SQL
statements it sent, and the ids of errors masked for the client. Never variables, results or
who the principal is by name: no personal data."""

from __future__ import annotations

import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace

request_log = logging.getLogger("laborhub.request")


@dataclass
class RequestRecord:
    started: float = field(default_factory=time.perf_counter)
    operations: list[str] = field(default_factory=list)
    role: str | None = None
    error_ids: list[str] = field(default_factory=list)


_current: ContextVar[RequestRecord | None] = ContextVar("laborhub_request", default=None)


def begin_request() -> RequestRecord | None:
    """Start recording this request, when its line would be written."""
    if not request_log.isEnabledFor(logging.INFO):
        return None
    record = RequestRecord()
    _current.set(record)
    return record


def note_operation(kind: str, name: str | None, role: str | None) -> None:
    record = _current.get()
    if record is not None:
        record.operations.append(f"{kind} {name}" if name else kind)
        record.role = role


def note_error_id(error_id: str) -> None:
    record = _current.get()
    if record is not None:
        record.error_ids.append(error_id)


def write_request_line(
    record: RequestRecord, status: int, read_path: str | None, statements: int
) -> None:
    context = trace.get_current_span().get_span_context()
    line: dict[str, Any] = {
        "operation": ", ".join(record.operations) or None,
        "status": status,
        "duration_ms": round((time.perf_counter() - record.started) * 1000, 3),
        "role": record.role,
        "read_path": read_path,
        "sql_statements": statements,
    }
    if context.is_valid:
        line["trace_id"] = f"{context.trace_id:032x}"
        line["span_id"] = f"{context.span_id:016x}"
    if record.error_ids:
        line["error_ids"] = record.error_ids
    request_log.info("graphql request", extra={"request": line})
