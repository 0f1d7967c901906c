"""What a check of an operation sees before the operation runs, and the shape of a check.

The endpoint runs its checks, in order, on every operation that parsed and validated, with
its variables coerced, and before execution, so a refused operation never reaches a resolver
or the database (`server.limits.default_document_checks` lists the app's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode


@dataclass(frozen=True)
class CheckedOperation:
    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode  # the one chosen to run
    variables: dict[str, Any]  # its coerced variable values, defaults applied
    context: Any  # what the endpoint's context factory built (`schema.context.Context`)


DocumentCheck = Callable[[CheckedOperation], list[GraphQLError]]
"""`check(operation) -> errors`; no errors lets the operation run."""
