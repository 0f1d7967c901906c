"""Reading the operations to run from a request: GET query string, POST JSON body, batches.

Only `application/json` is executed over POST, which keeps cross-site form posts out; the body
is refused past a size limit (413). A POSTed JSON array is a batch, run in order and answered
with an array; GET never batches.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from starlette.requests import ClientDisconnect, Request

from resolvers.input_values import text_problem
from server.graphql_http.errors import RequestError
from server.graphql_http.negotiation import JSON

MAX_BODY_BYTES = 1024 * 1024
MAX_BATCH_SIZE = 10

T = TypeVar("T")


@dataclass(frozen=True)
class GraphQLParams:
    query: str | None  # None: a persisted query sent by hash only
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


async def read_operations(
    request: Request, max_body_bytes: int, max_batch_size: int
) -> tuple[list[GraphQLParams], bool]:
    """The operations to run, and whether they came as a batch (a JSON array)."""
    if request.method == "GET":
        return [params_from_query_string(request.query_params)], False
    raw = await read_json_body(request, max_body_bytes)
    if not isinstance(raw, list):
        return [params_from_mapping(raw)], False
    if not raw:
        raise RequestError(400, "The batch is empty: send at least one operation.")
    if len(raw) > max_batch_size:
        raise RequestError(
            400,
            f"The batch holds {len(raw)} operations, over the limit of "
            f"{max_batch_size} (max batch size): split it.",
            code="BATCH_TOO_LARGE",
        )
    return [params_from_mapping(entry, entry=i) for i, entry in enumerate(raw)], True


async def read_json_body(request: Request, limit: int) -> object:
    media_type, charset = _content_type(request.headers.get("content-type"))
    if media_type is None:
        raise RequestError(415, f"Missing Content-Type header; send {JSON}.")
    if media_type != JSON:
        raise RequestError(415, f"Unsupported Content-Type {media_type!r}; send {JSON}.")
    if charset not in (None, "utf-8", "utf8"):
        raise RequestError(415, f"Unsupported charset {charset!r}; send utf-8.")
    body = await _read_limited(request, limit)
    if not body.strip():
        raise RequestError(400, "The request body is empty; send a JSON object with a 'query'.")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass  # json says exactly what is wrong, or reads what orjson won't (lone surrogates)
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RequestError(400, "The request body is not valid UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"The request body is not valid JSON: {exc}.") from exc
    except RecursionError:
        raise RequestError(400, "The request body nests too deep.") from None


async def _read_limited(request: Request, limit: int) -> bytes:
    too_large = f"The request body exceeds the limit of {limit} bytes."
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, too_large)
    chunks: list[bytes] = []
    size = 0
    while True:  # the ASGI messages as they come (a small body is one message)
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestError(413, too_large)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _content_type(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.strip():
        return None, None
    media_type, *params = (part.strip() for part in header.split(";"))
    charset = None
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return media_type.lower(), charset


def params_from_query_string(query_params: Mapping[str, str]) -> GraphQLParams:
    raw: dict[str, object] = {
        "query": query_params.get("query"),
        "operationName": query_params.get("operationName") or None,
    }
    for name in ("variables", "extensions"):
        text = query_params.get(name)
        if text:
            try:
                raw[name] = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RequestError(400, f"Parameter '{name}' is not valid JSON: {exc}.") from exc
    return params_from_mapping(raw)


def params_from_mapping(raw: object, entry: int | None = None) -> GraphQLParams:
    """The parameters of one operation; `entry` is its index in a batch."""
    if not isinstance(raw, dict):
        if entry is not None:
            raise RequestError(
                400, f"Batch entry {entry} must be a JSON object, not {json_type(raw)}."
            )
        raise RequestError(
            400,
            "The request body must be a JSON object (or an array of them, a batch), "
            f"not {json_type(raw)}.",
        )
    try:
        query = raw.get("query")
        if query is not None and not isinstance(query, str):
            raise RequestError(400, f"Parameter 'query' must be a string, not {json_type(query)}.")
        operation_name = _optional(raw, "operationName", str)
        _check_text("query", query)
        _check_text("operationName", operation_name)
        return GraphQLParams(
            query=query,
            variables=_optional(raw, "variables", dict),
            operation_name=operation_name,
            extensions=_optional(raw, "extensions", dict),
        )
    except RequestError as exc:
        if entry is None:
            raise
        raise RequestError(exc.status, f"Batch entry {entry}: {exc.message}") from exc


def _check_text(name: str, text: str | None) -> None:
    """The document and the operation name must be text (JSON can escape a lone surrogate,
    `"\\ud800"`, which is not); values in variables are checked where they are used."""
    problem = None if text is None else text_problem(text)
    if problem is not None:
        raise RequestError(400, f"Parameter '{name}': {problem}.", code="BAD_USER_INPUT")


def _optional(raw: dict[str, object], name: str, kind: type[T]) -> T | None:
    value = raw.get(name)
    if value is None or isinstance(value, kind):
        return value
    expected = "an object" if kind is dict else "a string"
    raise RequestError(400, f"Parameter '{name}' must be {expected}, not {json_type(value)}.")


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
