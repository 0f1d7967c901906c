"""Choosing the operation: parsing the document, picking the operation, the method it needs."""

from __future__ import annotations

from functools import lru_cache

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from graphql.language import DocumentNode
from strawberry.types.graphql import OperationType as StrawberryOperationType

from server.graphql_http.errors import RequestError

# A parse guard, far above any real query; the schema may set a stricter MaxTokensLimiter.
MAX_DOCUMENT_TOKENS = 50_000
CACHED_QUERY_CHARS = 8 * 1024

ALLOWED_OPERATIONS = {
    "GET": {StrawberryOperationType.QUERY},
    "POST": {StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION},
}
"""The operation types each HTTP method may run; other methods are refused (405)."""


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
