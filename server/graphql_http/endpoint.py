"""GraphQLEndpoint: the ASGI app that runs each request through the steps of the package."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode
from graphql.execution.values import get_variable_values
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.schema.base import BaseSchema
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from db.session import StatementCount, database_unavailable, start_counting
from schema.prepared import running_prepared
from server.compiled_reads import Resolve, note_paths, path_summary, read_paths
from server.graphiql import graphiql_html
from server.graphql_http.context import ContextFactory, build_context
from server.graphql_http.errors import (
    RequestError,
    log_unexpected,
    silence_strawberry_error_log,
)
from server.graphql_http.negotiation import GRAPHQL_RESPONSE_JSON, JSON, negotiate, wants_ide
from server.graphql_http.operations import (
    ALLOWED_OPERATIONS,
    check_operation_allowed,
    select_operation,
)
from server.graphql_http.preparation import DocumentLimits, DocumentPreparer, PreparedDocument
from server.graphql_http.request_log import begin_request, note_operation, write_request_line
from server.graphql_http.requests import (
    MAX_BATCH_SIZE,
    MAX_BODY_BYTES,
    GraphQLParams,
    read_operations,
)
from server.graphql_http.responses import (
    Outcome,
    error_body,
    error_response,
    json_response,
    result_body,
    unavailable_outcome,
    unexpected_response,
)
from server.graphql_http.throttling import principal_of, throttle
from server.graphql_http.tracing import note_read_path, operation_span, request_span, role_of
from server.graphql_http.write_position import add_write_position, note_writing, request_route
from server.limits import is_anonymous
from server.metrics import OperationMetrics
from server.operation_checks import CheckedOperation, DocumentCheck
from server.persisted import (
    DocumentStore,
    NotStored,
    PersistedQueryError,
    ResolvedDocument,
    resolve_document,
)
from server.ratelimit import RateLimiter

CompiledRead = Callable[[CheckedOperation, Resolve], Awaitable[ExecutionResult | None]]
"""`compiled_read(checked, resolve)`: the operation's result from compiled SQL, with what
did not compile answered by `resolve`, or None to run it all on the resolver path. It notes
the path of each root field (`server.compiled_reads.note_paths`)."""


@dataclass
class OperationSeen:
    """What is known of the operation a request asked for, once it has been selected."""

    kind: str = "unknown"  # not selected: the request was refused before
    name: str | None = None


class GraphQLEndpoint:
    """ASGI app serving one schema; `context_factory(request)` builds each operation's context.

    Each document is parsed and validated once, within `limits` (see `preparation`);
    `document_checks` run on every valid operation before it executes (see
    `server.operation_checks`); `rate_limiter` throttles per principal; `documents` enables
    persisted queries (APQ), and `trusted_documents_only` runs nothing but trusted documents.
    `compiled_reads` answers what it can from SQL (see `server.compiled_reads`);
    `expose_sql_stats` adds the `X-SQL-Statements` and `X-Read-Path` headers, and
    `explain_read_paths` the `readPaths` extension (root field -> `compiled`/`resolvers`).
    `metrics` records each request and operation (see `server.metrics`).
    A schema with the `schema.prepared.UsePreparedDocument` extension executes the prepared
    document as it is; others parse and validate it once more.
    """

    def __init__(
        self,
        schema: BaseSchema,
        context_factory: ContextFactory,
        *,
        graphiql: bool = True,
        expose_sql_stats: bool = False,
        explain_read_paths: bool = False,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_batch_size: int = MAX_BATCH_SIZE,
        document_checks: Sequence[DocumentCheck] = (),
        compiled_reads: CompiledRead | None = None,
        rate_limiter: RateLimiter | None = None,
        documents: DocumentStore | None = None,
        trusted_documents_only: bool = False,
        hide_suggestions: bool = False,
        limits: DocumentLimits | None = None,
        metrics: OperationMetrics | None = None,
    ) -> None:
        self.schema = schema
        self.graphql_schema = graphql_schema_of(schema)
        self.context_factory = context_factory
        self.graphiql_html = graphiql_html() if graphiql else None
        self.expose_sql_stats = expose_sql_stats
        self.explain_read_paths = explain_read_paths
        self.max_body_bytes = max_body_bytes
        self.max_batch_size = max_batch_size
        self.document_checks = tuple(document_checks)
        self.compiled_reads = compiled_reads
        self.rate_limiter = rate_limiter
        self.documents = documents
        self.trusted_documents_only = trusted_documents_only
        self.hide_suggestions = hide_suggestions
        self.metrics = metrics
        self.preparer = DocumentPreparer(
            self.graphql_schema, limits, hide_suggestions=hide_suggestions
        )
        silence_strawberry_error_log()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        counter = start_counting()
        try:
            response = await self._handle(request, counter)
        except Exception as exc:
            response = unexpected_response(exc)
        if self.metrics is not None:
            elapsed = time.perf_counter() - started
            self.metrics.observe_request(response.status_code, elapsed, counter.value)
        return response

    async def _handle(self, request: Request, counter: StatementCount) -> Response:
        if request.method not in ALLOWED_OPERATIONS:
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
        record = begin_request()
        with request_span(request) as span, read_paths() as paths:
            response = await self._respond(request, media_type)
            summary = ",".join(map(path_summary, paths)) if paths else None
            if span is not None:
                span.set_attribute("http.response.status_code", response.status_code)
            if record is not None:
                write_request_line(record, response.status_code, summary, counter.value)
        if self.expose_sql_stats:  # appended as they are: no response sets them before
            response.raw_headers.append((b"x-sql-statements", b"%d" % counter.value))
            if summary is not None:
                response.raw_headers.append((b"x-read-path", summary.encode("latin-1")))
        return response

    async def _respond(self, request: Request, media_type: str) -> Response:
        try:
            operations, is_batch = await read_operations(
                request, self.max_body_bytes, self.max_batch_size
            )
            request_route(request)  # the write position it sent back, checked
            context = await build_context(self.context_factory, request)
            throttle(self.rate_limiter, request, context, len(operations))
        except RequestError as exc:
            return error_response(exc.status, exc.message, media_type, exc.headers, exc.code)
        outcomes: list[Outcome] = []
        for index, params in enumerate(operations):
            if index > 0:  # each operation of a batch gets a fresh context (and loaders)
                try:
                    context = await build_context(self.context_factory, request)
                except RequestError as exc:
                    outcomes.append(Outcome(exc.status, error_body(exc.message, exc.code)))
                    continue
            outcomes.append(await self._run(request, params, context, media_type))
        if is_batch:
            response = json_response([outcome.body for outcome in outcomes], 200, media_type)
        else:
            [outcome] = outcomes
            response = json_response(outcome.body, outcome.status, media_type, outcome.headers)
        await add_write_position(request, response)
        return response

    async def _run(
        self, request: Request, params: GraphQLParams, context: Any, media_type: str
    ) -> Outcome:
        if self.metrics is None:
            return await self._answer(request, params, context, media_type, OperationSeen())
        started = time.perf_counter()
        seen = OperationSeen()
        outcome = await self._answer(request, params, context, media_type, seen)
        self.metrics.observe_operation(
            seen.kind,
            seen.name,
            time.perf_counter() - started,
            executed="data" in outcome.body,
            error_codes=error_codes(outcome.body),
        )
        return outcome

    async def _answer(
        self,
        request: Request,
        params: GraphQLParams,
        context: Any,
        media_type: str,
        seen: OperationSeen,
    ) -> Outcome:
        try:
            result = await self._run_operation(request, params, context, seen)
        except RequestError as exc:
            return Outcome(exc.status, error_body(exc.message, exc.code), exc.headers)
        except PersistedQueryError as exc:
            if exc.status is not None:
                return Outcome(exc.status, error_body(exc.message, exc.code))
            error = GraphQLError(exc.message, extensions={"code": exc.code})
            result = PreExecutionError(data=None, errors=[error])
        except GraphQLError as error:
            result = PreExecutionError(data=None, errors=[error])
        except Exception as exc:
            if not database_unavailable(exc):
                raise
            return unavailable_outcome(exc)  # the other operations of a batch still run
        status, body = result_body(result, media_type)
        return Outcome(status, body)

    async def _run_operation(
        self, request: Request, params: GraphQLParams, context: Any, seen: OperationSeen
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
        prepared = await self.preparer.prepare(resolved.query)
        if prepared.document is None:
            return PreExecutionError(data=None, errors=list(prepared.errors))
        operation = select_operation(prepared.document, params.operation_name)
        check_operation_allowed(operation, request.method)
        kind = operation.operation.value
        name = operation.name.value if operation.name else None
        seen.kind, seen.name = kind, name
        if kind == "mutation":
            note_writing(request)
        role = role_of(context)
        note_operation(kind, name, role)
        with operation_span(kind, name, resolved.query, role):
            return await self._run_selected(request, params, context, resolved, prepared, operation)

    async def _run_selected(
        self,
        request: Request,
        params: GraphQLParams,
        context: Any,
        resolved: ResolvedDocument,
        prepared: PreparedDocument,
        operation: OperationDefinitionNode,
    ) -> ExecutionResult:
        """The rest of `_run_operation`, once the operation to run is known."""
        assert prepared.document is not None
        if prepared.errors:
            return PreExecutionError(data=None, errors=list(prepared.errors))
        variables = get_variable_values(
            self.graphql_schema,
            operation.variable_definitions or (),
            params.variables or {},
            hide_suggestions=self.hide_suggestions,
        )
        if isinstance(variables, list):
            return PreExecutionError(data=None, errors=variables)
        checked = CheckedOperation(
            self.graphql_schema, prepared.document, operation, variables.coerced, context
        )
        for check in self.document_checks:
            errors = check(checked)
            if errors:
                return PreExecutionError(data=None, errors=errors)
        not_stored = None
        if resolved.store_as is not None:
            not_stored = await self._persist(request, context, resolved.store_as, resolved.query)
        query, document = resolved.query, prepared.document
        assert document is not None

        async def resolve(part: DocumentNode) -> ExecutionResult:
            return await self._execute(request, params, context, query, part)

        with read_paths() as paths:
            result = None
            if self.compiled_reads is not None:
                result = await self.compiled_reads(checked, resolve)
            if result is None:
                result = await resolve(document)
        for taken in paths or [{}]:  # {}: no root field was compiled
            note_paths(taken)
        note_read_path(path_summary(paths[-1]) if paths else "resolvers")
        if self.explain_read_paths and paths and paths[-1]:
            result.extensions = {**(result.extensions or {}), "readPaths": paths[-1]}
        if not_stored is not None:
            persisted = {"stored": False, "code": not_stored.code, "message": not_stored.message}
            result.extensions = {**(result.extensions or {}), "persistedQuery": persisted}
        return result

    async def _execute(
        self,
        request: Request,
        params: GraphQLParams,
        context: Any,
        query: str,
        document: DocumentNode,
    ) -> ExecutionResult:
        """The resolver path: Strawberry executes `document` (the one validated from `query`,
        or a part of it) as it is."""
        with running_prepared(query, document):
            return await self.schema.execute(
                query,
                variable_values=params.variables,
                context_value=context,
                operation_name=params.operation_name,
                allowed_operation_types=ALLOWED_OPERATIONS[request.method],
                operation_extensions=params.extensions,
            )

    async def _persist(
        self, request: Request, context: Any, sha256: str, query: str
    ) -> NotStored | None:
        """Store an APQ document that passed every check; why it was not, when it was not.

        A failure to store is logged and the query still runs.
        """
        assert self.documents is not None
        try:
            await self.documents.add(
                request,
                sha256,
                query,
                owner=principal_of(context, request),
                anonymous=is_anonymous(context),
            )
        except NotStored as refused:
            return refused
        except Exception as exc:
            log_unexpected(exc, path=None)
        return None


def error_codes(body: dict[str, Any]) -> list[str]:
    """The `extensions.code` of each error in an answer (`UNCODED` for an error without)."""
    return [
        (error.get("extensions") or {}).get("code") or "UNCODED"
        for error in body.get("errors") or ()
    ]


def graphql_schema_of(schema: BaseSchema) -> GraphQLSchema:
    inner = getattr(schema, "_schema", None)
    if not isinstance(inner, GraphQLSchema):
        raise TypeError(f"{type(schema).__name__} does not expose its GraphQLSchema as _schema")
    return inner
