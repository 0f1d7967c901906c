"""What a check of an operation sees before the operation runs, and the shape of a check.

The endpoint runs its checks, in order, on every operation that parsed and validated, with
its variables coerced, and before execution, so a refused operation never reaches a resolver
or the database (`server.limits.default_document_checks` lists the app's).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import orjson
from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode

from resolvers.compiler.variables import PAGE_SIZE, Kind, bound_variables, variable_shape
from server.caches import BoundedCache


@dataclass(frozen=True)
class CheckedOperation:
    schema: GraphQLSchema
    document: DocumentNode
    operation: OperationDefinitionNode  # the one chosen to run
    variables: dict[str, Any]  # its coerced variable values, defaults applied
    context: Any  # what the endpoint's context factory built (`schema.context.Context`)

    @cached_property
    def key(self) -> Hashable | None:
        """What the operation is, whoever asks: its document's text, its name and its
        variables (canonical JSON), each variable a compiled plan binds as a parameter
        counted by its shape only (`resolvers.compiler.variables`: the type an ID names, the
        ordering a cursor carries, which filter fields and page sizes are given). Equal keys
        are the same operation for every plan and every check that keeps its outcome under
        it, but for the page sizes (`page_sizes`), which the cost depends on. None for a
        document with no source text."""
        source = getattr(self.document.loc, "source", None)
        if source is None:
            return None
        name = self.operation.name.value if self.operation.name else None
        bound = self.bound
        values = variable_shape(self.variables, bound) if bound else self.variables
        return (source.body, name, canonical_json(values))

    @cached_property
    def bound(self) -> dict[str, Kind]:
        """The variables a compiled plan binds as parameters, each with its kind."""
        source = getattr(self.document.loc, "source", None)
        name = self.operation.name.value if self.operation.name else None
        known = (self.schema, None if source is None else source.body, name)
        bound = _bound_variables.get(known) if source is not None else None
        if bound is None:
            bound = bound_variables(self.schema, self.document, self.operation)
            if source is not None:
                _bound_variables.put(known, bound)
        return bound

    @cached_property
    def page_sizes(self) -> tuple[tuple[str, Any], ...]:
        """The values of the variables that give a page size (`first: $n`), which `key`
        counts only as given or not."""
        return tuple(
            (name, self.variables.get(name))
            for name, (kind, *_) in sorted(self.bound.items()) if kind == PAGE_SIZE
        )


_bound_variables: BoundedCache[Hashable, dict[str, Kind]] = BoundedCache(2_048)


def canonical_json(values: Any) -> bytes:
    """`values` as JSON with sorted keys: equal values, equal bytes."""
    try:
        return orjson.dumps(values, option=orjson.OPT_SORT_KEYS, default=repr)
    except TypeError:  # a lone surrogate (the text check refuses it) or a huge integer
        return json.dumps(values, sort_keys=True, default=repr).encode()


DocumentCheck = Callable[[CheckedOperation], list[GraphQLError]]
"""`check(operation) -> errors`; no errors lets the operation run."""

KEPT_OUTCOMES = 2_048


def kept_by_document(check: DocumentCheck, size: int = KEPT_OUTCOMES) -> DocumentCheck:
    """`check`, remembering its outcome per document text and operation name: for checks
    that read nothing but the document (its literals), so that a mutation sent with new
    variables each time (as every mutation is) is not walked again."""
    return _kept(check, size, _document_key)


def kept_by_operation(
    check: DocumentCheck, size: int = KEPT_OUTCOMES, *, by_page_size: bool = False
) -> DocumentCheck:
    """`check`, remembering its outcome per operation (`CheckedOperation.key`, and with
    `by_page_size` the page sizes its variables give): for checks whose outcome depends on
    nothing but the document, the operation and its variables (not on who asks, and with no
    effect on the context), so the same request from any client is not walked twice."""

    def key_of(checked: CheckedOperation) -> Hashable | None:
        key = checked.key
        if key is not None and by_page_size and checked.page_sizes:
            return (key, checked.page_sizes)
        return key

    return _kept(check, size, key_of)


def _document_key(checked: CheckedOperation) -> Hashable | None:
    source = getattr(checked.document.loc, "source", None)
    if source is None:
        return None
    return (source.body, checked.operation.name.value if checked.operation.name else None)


def _kept(
    check: DocumentCheck, size: int, key_of: Callable[[CheckedOperation], Hashable | None]
) -> DocumentCheck:
    """`check`, its outcome kept under `key_of` the operation (run each time when None)."""
    outcomes: BoundedCache[Hashable, list[GraphQLError]] = BoundedCache(size)

    def kept(checked: CheckedOperation) -> list[GraphQLError]:
        key = key_of(checked)
        if key is None:
            return check(checked)
        errors = outcomes.get(key)
        if errors is None:
            errors = check(checked)
            outcomes.put(key, errors)
        return list(errors)

    return kept
