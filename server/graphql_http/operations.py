"""Choosing the operation: picking it from the document, and the method it needs."""

from __future__ import annotations

from graphql import GraphQLError, OperationDefinitionNode, OperationType
from graphql.language import DocumentNode
from strawberry.types.graphql import OperationType as StrawberryOperationType

from server.graphql_http.errors import RequestError

ALLOWED_OPERATIONS = {
    "GET": {StrawberryOperationType.QUERY},
    "POST": {StrawberryOperationType.QUERY, StrawberryOperationType.MUTATION},
}
"""The operation types each HTTP method may run; other methods are refused (405)."""


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
