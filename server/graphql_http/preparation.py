"""Preparing a document to run: parse it once, bound it, validate it once; cached by its text.

Every limit on the document applies here, before any resolver runs, in the order of their
cost, so the work a client can cause is bounded before the expensive steps start:

1. its length (`max_characters`, checked before lexing);
2. parsing, which stops at `max_tokens` tokens and `max_comments` comments;
3. the selection bounds (server/graphql_http/selections.py): `max_selections` in all,
   `max_repeated_fields` of one response name at one place, which bound the one quadratic
   validation rule;
4. validation with every rule: GraphQL's specified rules, Strawberry's (`@oneOf`, `Maybe`),
   depth (`max_depth`) and aliases (`max_aliases`), stopping after `max_validation_errors`.

At the limits a document costs some 20 ms to lex and 40 ms to validate (on a slow core). That
work runs in `PREPARING_THREADS` threads, not on the event loop, so clients sending new costly
documents queue behind each other while the loop keeps serving everyone else (with four such
clients /healthz answered in 25 ms instead of 90-250 ms on the loop; tests/test_abuse.py).
The result, valid or not, is cached by the document's text in an LRU bounded in entries and in
characters, so a document sent again costs a lookup and no thread; a refused document is kept
without its parsed form. What depends on the variables or the caller (query cost, partner
agreements, NUL characters, introspection) is checked per request by the endpoint's document
checks (server/limits.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
    specified_rules,
    validate,
)
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from server.caches import BoundedCache
from server.graphql_http.selections import selection_limit_error

PREPARING_THREADS = 2
CACHED_DOCUMENTS = 1_024
CACHED_CHARACTERS = 256 * 1024  # of document text; the parsed documents take ~100 times that

_PREPARING = ThreadPoolExecutor(PREPARING_THREADS, thread_name_prefix="graphql-prepare")


@dataclass(frozen=True)
class DocumentLimits:
    """The static limits on a document (see the module docstring)."""

    max_characters: int = 65_536
    max_tokens: int = 5_000
    max_comments: int = 1_000
    max_selections: int = 2_000
    max_repeated_fields: int = 20
    max_depth: int = 16
    max_aliases: int = 30
    max_validation_errors: int = 20


@dataclass(frozen=True)
class PreparedDocument:
    """A document as parsed (None when it did not parse) and the errors refusing it."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...] = ()


def validation_rules(limits: DocumentLimits) -> tuple[type[ASTValidationRule], ...]:
    """Every rule a document must pass: GraphQL's, Strawberry's own, and the limits."""
    return (
        *specified_rules,
        MaybeNullValidationRule,
        OneOfInputValidationRule,
        max_depth_rule(limits.max_depth, None),
        max_aliases_rule(limits.max_aliases),
    )


class DocumentPreparer:
    """Parses, bounds and validates documents against one schema, cached by their text."""

    def __init__(
        self,
        schema: GraphQLSchema,
        limits: DocumentLimits | None = None,
        *,
        hide_suggestions: bool = False,
        cached_documents: int = CACHED_DOCUMENTS,
        cached_characters: int = CACHED_CHARACTERS,
    ) -> None:
        self.schema = schema
        self.limits = limits or DocumentLimits()
        self.hide_suggestions = hide_suggestions
        self.rules = validation_rules(self.limits)
        self._cache: BoundedCache[str, PreparedDocument] = BoundedCache(
            cached_documents, cached_characters, weigh=lambda text, _prepared: len(text)
        )

    async def prepare(self, text: str) -> PreparedDocument:
        if len(text) > self.limits.max_characters:
            return PreparedDocument(None, (_too_long(len(text), self.limits.max_characters),))
        prepared = self._cache.get(text)
        if prepared is None:
            loop = asyncio.get_running_loop()
            prepared = await loop.run_in_executor(_PREPARING, self.prepare_now, text)
            self._cache.put(text, prepared)
        return prepared

    def prepare_now(self, text: str) -> PreparedDocument:
        """Parse, bound and validate `text` here and now: no cache, no thread (the endpoint
        calls it in a preparing thread; tools such as `laborhub documents add` directly)."""
        limits = self.limits
        if len(text) > limits.max_characters:
            return PreparedDocument(None, (_too_long(len(text), limits.max_characters),))
        try:
            document = parse(
                text, max_lexical_tokens=limits.max_tokens, max_comments=limits.max_comments
            )
        except GraphQLError as error:
            # graphql-core's own limits abort parsing with a syntax error: a limit all the same
            limit = "Parsing aborted." in error.message
            code = "QUERY_TOO_COMPLEX" if limit else "GRAPHQL_PARSE_FAILED"
            return PreparedDocument(None, (_coded(error, code),))
        refused = selection_limit_error(
            document,
            max_selections=limits.max_selections,
            max_repeats=limits.max_repeated_fields,
        )
        if refused is not None:
            return PreparedDocument(None, (refused,))  # kept without its (large) document
        errors = validate(
            self.schema,
            document,
            self.rules,
            max_errors=limits.max_validation_errors,
            hide_suggestions=self.hide_suggestions,
        )
        return PreparedDocument(
            document, tuple(_coded(e, "GRAPHQL_VALIDATION_FAILED") for e in _explained(errors))
        )


def _coded(error: GraphQLError, code: str) -> GraphQLError:
    """`error` with `code` as its `extensions.code`, unless it has one."""
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code}
    return error


def _too_long(length: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"The document is {length} characters long, over the limit of {limit} "
        "(max characters): send a shorter one (values belong in variables).",
        extensions={"code": "QUERY_TOO_COMPLEX", "maxCharacters": limit},
    )


def _explained(errors: Sequence[GraphQLError]) -> tuple[GraphQLError, ...]:
    """graphql-core's bare "Validation aborted." (its work budget ran out) made clear."""
    return tuple(
        GraphQLError(
            "The document is too complex to validate (too many fields selected together at "
            "the same places): select fewer fields.",
            extensions={"code": "QUERY_TOO_COMPLEX"},
        )
        if isinstance(error, ValidationAbortedError) and error.message == "Validation aborted."
        else error
        for error in errors
    )


__all__ = [
    "CACHED_CHARACTERS",
    "CACHED_DOCUMENTS",
    "DocumentLimits",
    "DocumentPreparer",
    "PreparedDocument",
    "validation_rules",
]
