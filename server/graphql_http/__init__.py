"""The /graphql endpoint: GraphQL over HTTP (https://graphql.github.io/graphql-over-http/draft/).

One ASGI class (`endpoint.GraphQLEndpoint`) around `schema.execute`: it reads the request
(`requests`: POST JSON or GET query string), negotiates the response media type
(`negotiation`), parses and validates the document once (`preparation`, `selections`), picks
the operation (`operations`), executes it with a per-request context (`context`), counts SQL
statements, and answers with the status code the specification asks for (`responses`).
Unexpected exceptions never reach the client: they are logged to `laborhub.errors` with an
error id, and the client sees only that id (`errors`).

Abuse limits, in the order they apply (each refusal is a GraphQL error with an
`extensions.code`, before any resolver runs):

1. body size (413), content type (415: only `application/json` is executed over POST, which
   keeps cross-site form posts out), batch size (400 `BATCH_TOO_LARGE`: a POSTed JSON array
   is a batch, run in order, answered with an array; GET never batches);
2. the context factory: too many failed credentials from the client's address -> 429
   `RATE_LIMITED` with `Retry-After`; `AuthenticationError` -> 401 `UNAUTHENTICATED` with
   `WWW-Authenticate`;
3. the rate limiter, per principal, one token per operation (429 `RATE_LIMITED`, `Retry-After`:
   `throttling`);
4. persisted queries (server/persisted.py): APQ and the trusted-documents mode;
5. the document, once per text (`preparation`): its length, parsing with a token limit, the
   selection bounds, validation with every rule and limit (depth, aliases; suggestions hidden
   when `hide_suggestions`); then the operation's method (no mutation over GET), variable
   coercion;
6. the document checks (server/limits.py: query cost, NUL characters, partner agreements,
   introspection); only then is an APQ document stored, and the operation executed.
"""

from __future__ import annotations

from server.graphql_http.context import ContextFactory, bearer_challenge
from server.graphql_http.endpoint import GraphQLEndpoint, graphql_schema_of
from server.graphql_http.errors import (
    RequestError,
    error_log,
    format_error,
    internal_error_message,
    is_unexpected,
    log_unexpected,
    silence_strawberry_error_log,
)
from server.graphql_http.negotiation import GRAPHQL_RESPONSE_JSON, JSON, negotiate, wants_ide
from server.graphql_http.operations import check_operation_allowed, select_operation
from server.graphql_http.preparation import DocumentLimits, DocumentPreparer, PreparedDocument
from server.graphql_http.requests import (
    MAX_BATCH_SIZE,
    MAX_BODY_BYTES,
    GraphQLParams,
    json_type,
    params_from_mapping,
    params_from_query_string,
    read_json_body,
)
from server.graphql_http.responses import (
    Outcome,
    error_body,
    error_response,
    json_response,
    result_body,
    result_response,
)
from server.graphql_http.throttling import principal_of

__all__ = [
    "GRAPHQL_RESPONSE_JSON",
    "JSON",
    "MAX_BATCH_SIZE",
    "MAX_BODY_BYTES",
    "ContextFactory",
    "DocumentLimits",
    "DocumentPreparer",
    "GraphQLEndpoint",
    "GraphQLParams",
    "Outcome",
    "PreparedDocument",
    "RequestError",
    "bearer_challenge",
    "check_operation_allowed",
    "error_body",
    "error_log",
    "error_response",
    "format_error",
    "graphql_schema_of",
    "internal_error_message",
    "is_unexpected",
    "json_response",
    "json_type",
    "log_unexpected",
    "negotiate",
    "params_from_mapping",
    "params_from_query_string",
    "principal_of",
    "read_json_body",
    "result_body",
    "result_response",
    "select_operation",
    "silence_strawberry_error_log",
    "wants_ide",
]
