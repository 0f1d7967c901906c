"""Writing the response: result bodies, their status codes, and compact UTF-8 JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.responses import Response
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from db.session import database_unavailable
from server.graphql_http.errors import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    format_error,
    internal_error_message,
    is_unavailable,
    is_unexpected,
    log_unexpected,
    note_unavailable,
)
from server.graphql_http.negotiation import GRAPHQL_RESPONSE_JSON, JSON


@dataclass
class Outcome:
    """The answer to one operation: its body, and the status and headers if it came alone."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


def result_body(result: ExecutionResult, media_type: str) -> tuple[int, dict[str, Any]]:
    """The status and body answering one executed (or refused) operation."""
    errors = result.errors or []
    formatted = [format_error(error) for error in errors]
    # No data means the operation never started (parse, validation, variables): a request error.
    request_error = isinstance(result, PreExecutionError) or (
        result.data is None and bool(errors) and all(e.path is None for e in errors)
    )
    body: dict[str, Any] = {} if request_error else {"data": result.data}
    if formatted:
        body["errors"] = formatted
    if result.extensions:
        body["extensions"] = result.extensions
    status = 200
    if request_error and errors and all(is_unavailable(error) for error in errors):
        status = 503
    elif request_error and any(is_unexpected(error) for error in errors):
        status = 500
    elif request_error and media_type == GRAPHQL_RESPONSE_JSON:
        status = 400
    return status, body


def result_response(result: ExecutionResult, media_type: str) -> Response:
    status, body = result_body(result, media_type)
    return json_response(body, status, media_type)


def error_response(
    status: int,
    message: str,
    media_type: str,
    headers: Mapping[str, str] | None = None,
    code: str | None = None,
) -> Response:
    return json_response(error_body(message, code), status, media_type, headers)


def error_body(message: str, code: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": message}
    if code is not None:
        error["extensions"] = {"code": code}
    return {"errors": [error]}


def _standard_json(body: object) -> bytes:
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # an error message quoting a lone surrogate the client sent
        return json.dumps(body, separators=(",", ":")).encode("ascii")


def json_response(
    body: object, status: int, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    try:
        content = orjson.dumps(body)
    except TypeError:  # what orjson refuses: a lone surrogate a client sent, an int over 64 bits
        content = _standard_json(body)
    return Response(
        content, status_code=status, media_type=f"{media_type}; charset=utf-8", headers=headers
    )


def unexpected_response(exc: Exception) -> Response:
    """The answer to a request that failed outside any operation's execution (finding who
    asks, a stored document...): 503 when the database is unavailable, else a masked 500."""
    if database_unavailable(exc):
        outcome = unavailable_outcome(exc)
        return json_response(outcome.body, outcome.status, JSON, outcome.headers)
    error_id = log_unexpected(exc, path=None)
    return error_response(500, internal_error_message(error_id), JSON)


def unavailable_outcome(exc: BaseException) -> Outcome:
    """503, `SERVICE_UNAVAILABLE` and `Retry-After`: the database could not answer `exc`."""
    note_unavailable(exc, path=None)
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return Outcome(503, error_body(UNAVAILABLE_MESSAGE, UNAVAILABLE_CODE), headers)
