"""Errors: refused requests, and unexpected exceptions masked behind a logged error id.

Unexpected exceptions never reach the client: they are logged to `laborhub.errors` with an
error id, and the client sees only that id. A database that can't be reached (or has no
connection free in time) is not a bug: the client is told so, with the code
`SERVICE_UNAVAILABLE` (HTTP 503 and `Retry-After` when nothing could run), and one warning line
is logged, without a traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError

from db.session import database_unavailable
from server.graphql_http.request_log import note_error_id

error_log = logging.getLogger("laborhub.errors")

UNAVAILABLE_CODE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = (
    "The database is unavailable or too busy to answer now; try again in a few seconds."
)
RETRY_AFTER_SECONDS = 5


class RequestError(Exception):
    """The HTTP request can't be executed; answered with `status` and one error, no `data`."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})
        self.code = code


def format_error(error: GraphQLError) -> dict[str, Any]:
    if not is_unexpected(error):
        return dict(error.formatted)
    assert error.original_error is not None
    if database_unavailable(error.original_error):
        note_unavailable(error.original_error, path=error.path)
        masked: dict[str, Any] = {"message": UNAVAILABLE_MESSAGE}
        extensions: dict[str, Any] = {"code": UNAVAILABLE_CODE}
    else:
        error_id = log_unexpected(error.original_error, path=error.path)
        masked = {"message": internal_error_message(error_id)}
        extensions = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
    if error.locations:
        masked["locations"] = [location.formatted for location in error.locations]
    if error.path is not None:
        masked["path"] = error.path
    masked["extensions"] = extensions
    return masked


def is_unavailable(error: GraphQLError) -> bool:
    """Whether an unexpected error is the database being unavailable."""
    return is_unexpected(error) and database_unavailable(error.original_error)  # type: ignore[arg-type]


def note_unavailable(exc: BaseException, path: list[str | int] | None) -> None:
    where = ".".join(map(str, path)) if path else "request"
    error_log.warning("The database is unavailable at %s: %s: %s", where, type(exc).__name__, exc)


def is_unexpected(error: GraphQLError) -> bool:
    """Whether an error comes from a bug rather than from the request or a deliberate raise.

    GraphQLErrors raised on purpose keep their message. So do errors located in the document
    but not in the result (a scalar refusing a literal or a variable): they describe the input.
    """
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    return not (error.path is None and error.nodes)


def internal_error_message(error_id: str) -> str:
    return f"Internal server error (error id: {error_id})"


def log_unexpected(exc: BaseException, path: list[str | int] | None) -> str:
    error_id = uuid.uuid4().hex
    note_error_id(error_id)
    where = ".".join(map(str, path)) if path else "request"
    error_log.error(
        "Unexpected %s at %s (error id: %s)",
        type(exc).__name__,
        where,
        error_id,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"error_id": error_id},
    )
    return error_id


def silence_strawberry_error_log() -> None:
    """Stop Strawberry logging every GraphQL error with its traceback.

    The endpoint logs each unexpected error itself, once, with the id the client sees.
    """
    logger = logging.getLogger("strawberry.execution")
    logger.propagate = False
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())
