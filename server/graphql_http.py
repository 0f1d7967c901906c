"""The /graphql endpoint: GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/).

One ASGI class around `schema.execute`: it reads the request (POST JSON or GET query string),
negotiates the response media type, picks the operation, executes it with a per-request
context, counts SQL statements, and answers with the status code the specification asks for.
Unexpected exceptions never reach the client: they are logged to `laborhub.errors` with an
error id, and the client sees only that id.

Abuse limits, in the order they apply (each refusal is a GraphQL error with an
`extensions.code`, before any resolver runs):

1. body size (413), content type (415: only `application/json` is executed over POST, which
   keeps cross-site form posts out), batch size (400 `BATCH_TOO_LARGE`: a POSTed JSON array
   is a batch, run in order, answered with an array; GET never batches);
2. the context factory: `AuthenticationError` -> 401 `UNAUTHENTICATED` with `WWW-Authenticate`;
3. the rate limiter, per principal, one token per operation (429 `RATE_LIMITED`, `Retry-After`);
4. persisted queries (server/persisted.py): APQ and the trusted-documents mode;
5. parsing, the operation's method (no mutation over GET), validation (suggestions hidden when
   `hide_suggestions`), variable coercion;
6. the document checks (server/limits.py: query cost, introspection), then execution, where the
   schema's own extensions (depth, aliases, tokens) apply.
"""

from __future__ import annotations

import inspect
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)
from graphql.execution.values import get_variable_values
from graphql.language import DocumentNode
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.http.ides import get_graphql_ide_html
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType as StrawberryOperationType

from db.session import start_counting
from server.auth import AuthenticationError
from server.limits import DocumentCheck
from server.persisted import DocumentStore, PersistedQueryError, resolve_document
from server.ratelimit import RateLimiter, retry_after_header

MAX_BODY_BYTES = 1024 * 1024
MAX_BATCH_SIZE = 10
# A parse guard, far above any real query; the schema may set a stricter MaxTokensLimiter.
MAX_DOCUMENT_TOKENS = 50_000
CACHED_QUERY_CHARS = 8 * 1024

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"

ContextFactory = Callable[[Request], Any]
"""Builds the per-request context; may return an awaitable."""

T = TypeVar("T")

error_log = logging.getLogger("laborhub.errors")

_ALLOWED_OPERATIONS = {
    "GET": {StrawberryOperationType.QUERY},
    "POST": {StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION},
}


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


@dataclass(frozen=True)
class GraphQLParams:
    query: str | None  # None: a persisted query sent by hash only
    variables: dict[str, Any] | None = None
    operation_name: str | None = None
    extensions: dict[str, Any] | None = None


@dataclass
class Outcome:
    """The answer to one operation: its body, and the status and headers if it came alone."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class GraphQLEndpoint:
    """ASGI app serving one schema; `context_factory(request)` builds each operation's context.

    `document_checks` run on every parsed, validated operation before it executes (see
    `server.limits.DocumentCheck`); `rate_limiter` throttles per principal; `documents` enables
    persisted queries (APQ), and `trusted_documents_only` runs nothing but trusted documents.
    """

    def __init__(
        self,
        schema: BaseSchema,
        context_factory: ContextFactory,
        *,
        graphiql: bool = True,
        expose_sql_stats: bool = False,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_batch_size: int = MAX_BATCH_SIZE,
        document_checks: Sequence[DocumentCheck] = (),
        rate_limiter: RateLimiter | None = None,
        documents: DocumentStore | None = None,
        trusted_documents_only: bool = False,
        hide_suggestions: bool = False,
    ) -> None:
        self.schema = schema
        self.graphql_schema = graphql_schema_of(schema)
        self.context_factory = context_factory
        self.graphiql_html = get_graphql_ide_html("graphiql") if graphiql else None
        self.expose_sql_stats = expose_sql_stats
        self.max_body_bytes = max_body_bytes
        self.max_batch_size = max_batch_size
        self.document_checks = tuple(document_checks)
        self.rate_limiter = rate_limiter
        self.documents = documents
        self.trusted_documents_only = trusted_documents_only
        self.hide_suggestions = hide_suggestions
        self._validate_cached = lru_cache(maxsize=256)(self._validate_text)
        silence_strawberry_error_log()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except Exception as exc:
            error_id = log_unexpected(exc, path=None)
            return error_response(500, internal_error_message(error_id), JSON)

    async def _handle(self, request: Request) -> Response:
        if request.method not in _ALLOWED_OPERATIONS:
            message = f"Method {request.method} is not allowed; use GET or POST."
            return error_response(405, message, JSON, {"Allow": "GET, POST"})
        if self.graphiql_html is not None and wants_ide(request):
            return HTMLResponse(self.graphiql_html)
        media_type = negotiate(request.headers.get("accept"))
        if media_type is None:
            message = (
                f"Can't answer with any type in Accept; use {GRAPHQL_RESPONSE_JSON} or {JSON}."
            )
            return error_response(406, message, JSON)
        counter = start_counting()
        response = await self._respond(request, media_type)
        if self.expose_sql_stats:
            response.headers["X-SQL-Statements"] = str(counter.value)
        return response

    async def _respond(self, request: Request, media_type: str) -> Response:
        try:
            operations, is_batch = await self._read_operations(request)
            context = await self._build_context(request)
            self._throttle(request, context, len(operations))
        except RequestError as exc:
            return error_response(exc.status, exc.message, media_type, exc.headers, exc.code)
        outcomes: list[Outcome] = []
        for index, params in enumerate(operations):
            if index > 0:  # each operation of a batch gets a fresh context (and loaders)
                try:
                    context = await self._build_context(request)
                except RequestError as exc:
                    outcomes.append(Outcome(exc.status, error_body(exc.message, exc.code)))
                    continue
            outcomes.append(await self._run(request, params, context, media_type))
        if is_batch:
            return json_response([outcome.body for outcome in outcomes], 200, media_type)
        [outcome] = outcomes
        return json_response(outcome.body, outcome.status, media_type, outcome.headers)

    async def _read_operations(self, request: Request) -> tuple[list[GraphQLParams], bool]:
        """The operations to run, and whether they came as a batch (a JSON array)."""
        if request.method == "GET":
            return [params_from_query_string(request.query_params)], False
        raw = await read_json_body(request, self.max_body_bytes)
        if not isinstance(raw, list):
            return [params_from_mapping(raw)], False
        if not raw:
            raise RequestError(400, "The batch is empty: send at least one operation.")
        if len(raw) > self.max_batch_size:
            raise RequestError(
                400,
                f"The batch holds {len(raw)} operations, over the limit of "
                f"{self.max_batch_size} (max batch size): split it.",
                code="BATCH_TOO_LARGE",
            )
        return [params_from_mapping(entry, entry=i) for i, entry in enumerate(raw)], True

    async def _build_context(self, request: Request) -> Any:
        try:
            context = self.context_factory(request)
            if inspect.isawaitable(context):
                context = await context
        except AuthenticationError as exc:
            challenge = bearer_challenge(exc.message)
            raise RequestError(
                401, exc.message, {"WWW-Authenticate": challenge}, code="UNAUTHENTICATED"
            ) from exc
        return context

    def _throttle(self, request: Request, context: Any, operations: int) -> None:
        if self.rate_limiter is None:
            return
        wait = self.rate_limiter.take(principal_of(context, request), operations)
        if wait is None:
            return
        retry_after = retry_after_header(wait)
        raise RequestError(
            429,
            f"Rate limit exceeded: {self.rate_limiter.describe()} per caller. "
            f"Retry after {retry_after} s.",
            {"Retry-After": retry_after},
            code="RATE_LIMITED",
        )

    async def _run(
        self, request: Request, params: GraphQLParams, context: Any, media_type: str
    ) -> Outcome:
        try:
            result = await self._run_operation(request, params, context)
        except RequestError as exc:
            return Outcome(exc.status, error_body(exc.message, exc.code), exc.headers)
        except PersistedQueryError as exc:
            if exc.status is not None:
                return Outcome(exc.status, error_body(exc.message, exc.code))
            error = GraphQLError(exc.message, extensions={"code": exc.code})
            result = PreExecutionError(data=None, errors=[error])
        except GraphQLError as error:
            result = PreExecutionError(data=None, errors=[error])
        status, body = result_body(result, media_type)
        return Outcome(status, body)

    async def _run_operation(
        self, request: Request, params: GraphQLParams, context: Any
    ) -> ExecutionResult:
        resolved = await resolve_document(
            request,
            params.query,
            params.extensions,
            self.documents,
            trusted_only=self.trusted_documents_only,
        )
        if resolved is None:
            raise RequestError(400, "Missing parameter 'query': the GraphQL document to execute.")
        document = parse_document(resolved.query)
        operation = select_operation(document, params.operation_name)
        check_operation_allowed(operation, request.method)
        errors = self._validate(resolved.query, document)
        if errors:
            return PreExecutionError(data=None, errors=errors)
        variables = get_variable_values(
            self.graphql_schema,
            operation.variable_definitions or (),
            params.variables or {},
            hide_suggestions=self.hide_suggestions,
        )
        if isinstance(variables, list):
            return PreExecutionError(data=None, errors=variables)
        for check in self.document_checks:
            errors = check(self.graphql_schema, document, operation, variables.coerced, context)
            if errors:
                return PreExecutionError(data=None, errors=errors)
        if resolved.store_as is not None and self.documents is not None:
            await self._persist(request, resolved.store_as, resolved.query)
        return await self.schema.execute(
            resolved.query,
            variable_values=params.variables,
            context_value=context,
            operation_name=params.operation_name,
            allowed_operation_types=_ALLOWED_OPERATIONS[request.method],
            operation_extensions=params.extensions,
        )

    def _validate(self, query: str, document: DocumentNode) -> list[GraphQLError]:
        if len(query) <= CACHED_QUERY_CHARS:
            return list(self._validate_cached(query))
        return self._validate_document(document)

    def _validate_text(self, query: str) -> tuple[GraphQLError, ...]:
        return tuple(self._validate_document(parse_document(query)))

    def _validate_document(self, document: DocumentNode) -> list[GraphQLError]:
        return validate(self.graphql_schema, document, hide_suggestions=self.hide_suggestions)

    async def _persist(self, request: Request, sha256: str, query: str) -> None:
        """Store an APQ document; a failure to store is logged and the query still runs."""
        assert self.documents is not None
        try:
            await self.documents.add(request, sha256, query)
        except Exception as exc:
            log_unexpected(exc, path=None)


def graphql_schema_of(schema: BaseSchema) -> GraphQLSchema:
    inner = getattr(schema, "_schema", None)
    if not isinstance(inner, GraphQLSchema):
        raise TypeError(f"{type(schema).__name__} does not expose its GraphQLSchema as _schema")
    return inner


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


_NOT_IN_QUOTED_STRING = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def bearer_challenge(message: str) -> str:
    """`WWW-Authenticate` for a refused token (RFC 6750 section 3; its charset is ASCII)."""
    description = _NOT_IN_QUOTED_STRING.sub("?", message.replace('"', "'"))
    return f'Bearer error="invalid_token", error_description="{description}"'


# --- reading the request -------------------------------------------------------------------


def wants_ide(request: Request) -> bool:
    return (
        request.method == "GET"
        and "query" not in request.query_params
        and "extensions" not in request.query_params
        and "text/html" in request.headers.get("accept", "")
    )


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
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RequestError(400, "The request body is not valid UTF-8.") from exc
    except json.JSONDecodeError as exc:
        raise RequestError(400, f"The request body is not valid JSON: {exc}.") from exc


async def _read_limited(request: Request, limit: int) -> bytes:
    too_large = f"The request body exceeds the limit of {limit} bytes."
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise RequestError(413, too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(413, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


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
        return GraphQLParams(
            query=query,
            variables=_optional(raw, "variables", dict),
            operation_name=_optional(raw, "operationName", str),
            extensions=_optional(raw, "extensions", dict),
        )
    except RequestError as exc:
        if entry is None:
            raise
        raise RequestError(exc.status, f"Batch entry {entry}: {exc.message}") from exc


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


# --- choosing the operation ----------------------------------------------------------------


def parse_document(query: str) -> DocumentNode:
    """Parse (cached for short queries); raises GraphQLSyntaxError for the client to see."""
    if len(query) <= CACHED_QUERY_CHARS:
        return _parse_cached(query)
    return parse(query, max_tokens=MAX_DOCUMENT_TOKENS)


@lru_cache(maxsize=256)
def _parse_cached(query: str) -> DocumentNode:
    return parse(query, max_tokens=MAX_DOCUMENT_TOKENS)


def select_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode:
    """The operation to run, by the rules of GraphQL's GetOperation()."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        if len(operations) == 1:
            return operations[0]
        if not operations:
            raise GraphQLError("The document contains no operation to execute.")
        raise GraphQLError("Must provide operation name if query contains multiple operations.")
    for operation in operations:
        if operation.name is not None and operation.name.value == name:
            return operation
    raise GraphQLError(f"Unknown operation named '{name}'.")


def check_operation_allowed(operation: OperationDefinitionNode, method: str) -> None:
    if operation.operation == OperationType.SUBSCRIPTION:
        raise GraphQLError("Subscriptions are not supported over HTTP by this endpoint.")
    if operation.operation == OperationType.MUTATION and method != "POST":
        raise RequestError(
            405, f"Mutations can't be sent with {method}; send them with POST.", {"Allow": "POST"}
        )


# --- content negotiation -------------------------------------------------------------------


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when neither is acceptable.

    Highest quality wins; on a tie a type the client named beats a wildcard match, and
    application/graphql-response+json beats application/json only when named.
    `*/*` and a missing header mean application/json (legacy clients).
    """
    if accept is None or not accept.strip():
        return JSON
    ranges = [_media_range(part) for part in accept.split(",") if part.strip()]
    best: str | None = None
    best_key = (0.0, False, False)
    for candidate in (JSON, GRAPHQL_RESPONSE_JSON):
        quality, named = _quality(candidate, ranges)
        key = (quality, named, named and candidate == GRAPHQL_RESPONSE_JSON)
        if quality > 0 and key > best_key:
            best, best_key = candidate, key
    return best


def _media_range(part: str) -> tuple[str, float]:
    media_type, *params = (piece.strip() for piece in part.split(";"))
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = min(max(float(value), 0.0), 1.0)
            except ValueError:
                quality = 0.0
    return media_type.lower(), quality


def _quality(candidate: str, ranges: list[tuple[str, float]]) -> tuple[float, bool]:
    """The quality of the most specific matching range, and whether it names `candidate`."""
    major = candidate.split("/")[0]
    specificity = {candidate: 2, f"{major}/*": 1, "*/*": 0}
    matches = [(specificity[r], q) for r, q in ranges if r in specificity]
    if not matches:
        return 0.0, False
    level, quality = max(matches)
    return quality, level == 2


# --- writing the response ------------------------------------------------------------------


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
    if request_error and any(is_unexpected(error) for error in errors):
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


def json_response(
    body: object, status: int, media_type: str, headers: Mapping[str, str] | None = None
) -> Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return Response(
        content, status_code=status, media_type=f"{media_type}; charset=utf-8", headers=headers
    )


def format_error(error: GraphQLError) -> dict[str, Any]:
    if not is_unexpected(error):
        return dict(error.formatted)
    assert error.original_error is not None
    error_id = log_unexpected(error.original_error, path=error.path)
    masked: dict[str, Any] = {"message": internal_error_message(error_id)}
    if error.locations:
        masked["locations"] = [location.formatted for location in error.locations]
    if error.path is not None:
        masked["path"] = error.path
    masked["extensions"] = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
    return masked


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


__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "MAX_BATCH_SIZE",
    "MAX_BODY_BYTES",
    "ContextFactory",
    "GraphQLEndpoint",
    "GraphQLParams",
    "bearer_challenge",
    "negotiate",
    "principal_of",
]
