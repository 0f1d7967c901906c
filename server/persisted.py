"""Persisted queries: Apollo automatic persisted queries (APQ) and trusted documents.

APQ: a client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`.

- With the hash only: the stored document runs; an unknown hash answers (status 200, as Apollo
  clients expect) `PersistedQueryNotFound` / `PERSISTED_QUERY_NOT_FOUND`, and the client sends
  the query again with the hash.
- With the query and the hash: the hash must be the SHA-256 of the query text (else `provided
  sha does not match query`); once the document has parsed, validated and passed the document
  checks it is stored (`persisted_documents`, trusted = false) for the next hash-only request.

Both work over GET (mini-programs use GET so a CDN can cache hash-only requests).

Trusted-documents mode (`LABORHUB_TRUSTED_DOCUMENTS_ONLY=1`): only documents registered with
`laborhub documents add` (trusted = true) run, whether sent by hash or in full (the SHA-256 of
the text must be a trusted one); anything else is refused with `PERSISTED_QUERY_NOT_ALLOWED`
and APQ stores nothing.

The hash is over the exact UTF-8 text of the document: clients must send the registered text
byte for byte, or only its hash. An in-process LRU holds the documents found, so a hit
costs no SQL after the first.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from db.models.access import PersistedDocument

CACHED_DOCUMENTS = 2_048
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")

log = logging.getLogger("laborhub.persisted")


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class PersistedQueryError(Exception):
    """The persisted-query part of a request can't be honoured.

    `status` None: answered like a validation error (400 under application/graphql-response+json,
    200 under application/json); 200 for the errors Apollo clients react to (not found, not
    supported).
    """

    def __init__(self, message: str, code: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status


def not_found() -> PersistedQueryError:
    return PersistedQueryError("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND", status=200)


def not_allowed() -> PersistedQueryError:
    return PersistedQueryError(
        "Only registered documents run here (trusted documents mode): send the hash or the exact "
        "text of a document registered with `laborhub documents add`.",
        "PERSISTED_QUERY_NOT_ALLOWED",
    )


@dataclass(frozen=True)
class StoredDocument:
    document: str
    trusted: bool
    name: str | None = None


class DocumentStore(Protocol):
    """Where persisted documents live; the endpoint passes the request (for its engine)."""

    async def get(self, request: Request, sha256: str, *, trusted: bool) -> StoredDocument | None:
        """The document with this hash (`trusted=True`: only if trusted), or None."""
        ...

    async def add(self, request: Request, sha256: str, document: str) -> None:
        """Store an APQ document (untrusted); a document already stored stays as it is."""
        ...


class SqlDocumentStore:
    """`persisted_documents` in PostgreSQL behind an LRU of the documents found.

    The engine is the constructor's, or else the app's (`request.state.engine`).
    """

    def __init__(self, engine: AsyncEngine | None = None, cache_size: int = CACHED_DOCUMENTS):
        self.engine = engine
        self.cache_size = cache_size
        self._cache: OrderedDict[str, StoredDocument] = OrderedDict()

    async def get(self, request: Request, sha256: str, *, trusted: bool) -> StoredDocument | None:
        cached = self._cache.get(sha256)
        if cached is not None and (cached.trusted or not trusted):
            self._cache.move_to_end(sha256)
            return cached
        # Not cached, or cached as untrusted and perhaps registered as trusted since.
        async with self._engine(request).connect() as connection:
            row = (
                await connection.execute(
                    select(
                        PersistedDocument.document,
                        PersistedDocument.trusted,
                        PersistedDocument.name,
                    ).where(PersistedDocument.sha256 == sha256)
                )
            ).first()
        if row is None:
            return None
        found = StoredDocument(row.document, bool(row.trusted), row.name)
        self._remember(sha256, found)
        return found if found.trusted or not trusted else None

    async def add(self, request: Request, sha256: str, document: str) -> None:
        if sha256 in self._cache:
            return
        async with self._engine(request).begin() as connection:
            await connection.execute(
                insert(PersistedDocument)
                .values(sha256=sha256, document=document, trusted=False)
                .on_conflict_do_nothing(index_elements=[PersistedDocument.sha256])
            )
        self._remember(sha256, StoredDocument(document, trusted=False))

    def _remember(self, sha256: str, stored: StoredDocument) -> None:
        self._cache[sha256] = stored
        self._cache.move_to_end(sha256)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    def _engine(self, request: Request) -> AsyncEngine:
        if self.engine is not None:
            return self.engine
        engine: AsyncEngine = request.state.engine
        return engine


@dataclass(frozen=True)
class ResolvedDocument:
    """The text to run, and the hash to store it under after it passed the checks (APQ)."""

    query: str
    store_as: str | None = None


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The `sha256Hash` of `extensions.persistedQuery`, lower case; None without one."""
    persisted = (extensions or {}).get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise PersistedQueryError(
            "extensions.persistedQuery must be an object with 'version' and 'sha256Hash'.",
            "PERSISTED_QUERY_INVALID",
        )
    if persisted.get("version") != 1:
        raise PersistedQueryError(
            "Unsupported persisted query version: only version 1 is supported.",
            "PERSISTED_QUERY_INVALID",
        )
    sha = persisted.get("sha256Hash")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise PersistedQueryError(
            "extensions.persistedQuery.sha256Hash must be 64 hexadecimal characters.",
            "PERSISTED_QUERY_INVALID",
        )
    return sha.lower()


async def resolve_document(
    request: Request,
    query: str | None,
    extensions: Mapping[str, Any] | None,
    store: DocumentStore | None,
    *,
    trusted_only: bool,
) -> ResolvedDocument | None:
    """The document a request runs, by the rules of the module docstring.

    None when the request names no document at all (no query, no persisted query).
    """
    sha = requested_hash(extensions)
    if sha is None and query is None:
        return None
    if store is None:
        if sha is not None or trusted_only:
            raise PersistedQueryError(
                "PersistedQueryNotSupported", "PERSISTED_QUERY_NOT_SUPPORTED", status=200
            )
        assert query is not None
        return ResolvedDocument(query)
    if query is not None:
        actual = sha256_of(query)
        if sha is not None and sha != actual:
            raise PersistedQueryError(
                "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"
            )
        if trusted_only:
            if await store.get(request, actual, trusted=True) is None:
                raise not_allowed()
            return ResolvedDocument(query)
        return ResolvedDocument(query, store_as=sha)
    assert sha is not None
    stored = await store.get(request, sha, trusted=trusted_only)
    if stored is None:
        raise not_allowed() if trusted_only else not_found()
    return ResolvedDocument(stored.document)


# --- registering trusted documents (for `laborhub documents`) --------------------------------


async def register_trusted(
    engine: AsyncEngine, documents: Iterable[tuple[str | None, str]]
) -> list[tuple[str, str | None]]:
    """Store `(name, text)` documents as trusted (an APQ copy becomes trusted); `(sha, name)`."""
    registered: list[tuple[str, str | None]] = []
    async with engine.begin() as connection:
        for name, text in documents:
            sha = sha256_of(text)
            statement = insert(PersistedDocument).values(
                sha256=sha, document=text, trusted=True, name=name
            )
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[PersistedDocument.sha256],
                    set_={"trusted": True, "name": statement.excluded.name},
                )
            )
            registered.append((sha, name))
    return registered


@dataclass(frozen=True)
class DocumentInfo:
    sha256: str
    name: str | None
    trusted: bool
    created_at: datetime


async def list_documents(engine: AsyncEngine, *, trusted_only: bool) -> list[DocumentInfo]:
    """Stored documents, trusted ones first, by name."""
    table = PersistedDocument
    query = select(table.sha256, table.name, table.trusted, table.created_at).order_by(
        table.trusted.desc(), table.name, table.created_at
    )
    if trusted_only:
        query = query.where(table.trusted.is_(True))
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [DocumentInfo(row.sha256, row.name, bool(row.trusted), row.created_at) for row in rows]


__all__ = [
    "DocumentInfo",
    "DocumentStore",
    "PersistedQueryError",
    "ResolvedDocument",
    "SqlDocumentStore",
    "StoredDocument",
    "list_documents",
    "register_trusted",
    "resolve_document",
    "sha256_of",
]
