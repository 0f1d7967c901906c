"""Structured logging: one JSON object per line on stderr."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO

# Attributes a caller may pass with `extra=` that belong in the log line.
EXTRA_FIELDS = ("error_id",)


class JsonLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        fields = getattr(record, "request", None)  # a request's line (graphql_http.request_log)
        if isinstance(fields, dict):
            line.update((key, value) for key, value in fields.items() if key not in line)
        if record.exc_info:
            line["traceback"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _StderrJsonHandler(logging.StreamHandler[TextIO]):
    """The handler `configure_logging` installs; replaced, not duplicated, on a second call."""


def configure_logging(level: str | int = "INFO") -> None:
    """Send every log record (the app's, uvicorn's, SQLAlchemy's) to stderr as JSON lines.

    Call it after uvicorn has configured its loggers (e.g. at app startup): it reroutes them.
    """
    handler = _StderrJsonHandler(sys.stderr)
    handler.setFormatter(JsonLineFormatter())
    root = logging.getLogger()
    for existing in [h for h in root.handlers if isinstance(h, _StderrJsonHandler)]:
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Alembic narrates every revision check at INFO; /readyz checks on every probe.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
