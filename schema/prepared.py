"""Executing a document that was parsed and validated before `schema.execute`, as it stands.

The HTTP endpoint parses every document once, with its token limit, and validates it once,
with every rule and limit (server/graphql_http/preparation.py). Strawberry's `execute` takes
the text and would parse and validate it again; within `running_prepared(text, document)`
the `UsePreparedDocument` extension hands Strawberry that document instead and marks it
validated, so neither happens twice. Outside the block (other callers) Strawberry parses and
validates as usual.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

_prepared: ContextVar[tuple[str, DocumentNode] | None] = ContextVar(
    "laborhub_prepared_document", default=None
)


@contextmanager
def running_prepared(query: str, document: DocumentNode) -> Iterator[None]:
    """Within the block, `schema.execute(query, ...)` runs `document`, already validated."""
    token = _prepared.set((query, document))
    try:
        yield
    finally:
        _prepared.reset(token)


class UsePreparedDocument(SchemaExtension):
    """Use the document of `running_prepared` for the query it was prepared from."""

    def on_parse(self) -> Iterator[None]:
        prepared = _prepared.get()
        context = self.execution_context
        if prepared is not None and prepared[0] is context.query:
            context.graphql_document = prepared[1]
        yield

    def on_validate(self) -> Iterator[None]:
        prepared = _prepared.get()
        context = self.execution_context
        if prepared is not None and context.graphql_document is prepared[1]:
            context.pre_execution_errors = []  # validated: Strawberry validates only if None
        yield


__all__ = ["UsePreparedDocument", "running_prepared"]
