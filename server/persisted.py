"""Persisted queries: Apollo automatic persisted queries (APQ) and trusted documents.

APQ: a client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`.

- With the hash only: the stored document runs; an unknown hash answers (status 200, as Apollo
  clients expect) `PersistedQueryNotFound` / `PERSISTED_QUERY_NOT_FOUND`, and the client sends
  the query again with the hash.
- With the query and the hash: the hash must be the SHA-256 of the query text (else `provided
  sha does not match query`); once the document has passed every check (parsing, validation
  with all its limits, the document checks) it is stored (`persisted_documents`, trusted =
  false, `stored_by` = the caller's principal) for the next hash-only request.

Storage is bounded (`StorageQuota`): a document over `max_document_bytes` is not stored, and
each principal (an anonymous caller: each client address) stores at most so many documents and
bytes; anonymous callers store nothing in production by default. A document that is not stored
still runs: APQ is an optimisation, and refusing would break clients that fall back to sending
the query in full. The response says so in `extensions.persistedQuery` (`stored: false`, a
`code` and a `message`), and a later hash-only request answers `PersistedQueryNotFound`, on
which Apollo clients send the full query again.

Both work over GET (mini-programs use GET so a CDN can cache hash-only requests).

Trusted-documents mode (`LABORHUB_TRUSTED_DOCUMENTS_ONLY=1`): only documents registered with
`laborhub documents add` (trusted = true) run, whether sent by hash or in full (the SHA-256 of
the text must be a trusted one); anything else is refused with `PERSISTED_QUERY_NOT_ALLOWED`
and APQ stores nothing.

The hash is over the exact UTF-8 text of the document: clients must send the registered text
byte for byte, or only its hash. An in-process LRU (bounded in entries and in bytes) holds the
documents found, so a hit costs no SQL after the first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.requests import HTTPConnection

from db.models.access import PersistedDocument
from server.caches import BoundedCache
from server.settings import Settings

CACHED_DOCUMENTS = 2_048
OWNER_LENGTH = 160  # persisted_documents.stored_by
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


class NotStored(Exception):
    """An APQ document that runs but is not stored; `code` and `message` tell the client."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class StorageQuota:
    """How much APQ storage a principal gets (anonymous ones: per client address)."""

    max_document_bytes: int
    documents: int
    bytes: int
    anonymous_documents: int
    anonymous_bytes: int

    @classmethod
    def from_settings(cls, settings: Settings) -> StorageQuota:
        anonymous_documents, anonymous_bytes = settings.anonymous_apq_quota
        return cls(
            max_document_bytes=settings.apq_max_document_bytes,
            documents=settings.apq_quota_documents,
            bytes=settings.apq_quota_bytes,
            anonymous_documents=anonymous_documents,
            anonymous_bytes=anonymous_bytes,
        )

    def of(self, *, anonymous: bool) -> tuple[int, int]:
        """(documents, bytes) a principal may store."""
        if anonymous:
            return self.anonymous_documents, self.anonymous_bytes
        return self.documents, self.bytes


@dataclass(frozen=True)
class StoredDocument:
    document: str
    trusted: bool
    name: str | None = None


class DocumentStore(Protocol):
    """Where persisted documents live; the endpoint passes the request or WebSocket (for the
    app's engine)."""

    async def get(
        self, request: HTTPConnection, sha256: str, *, trusted: bool
    ) -> StoredDocument | None:
        """The document with this hash (`trusted=True`: only if trusted), or None."""
        ...

    async def add(
        self, request: HTTPConnection, sha256: str, document: str, *, owner: str, anonymous: bool
    ) -> None:
        """Store an APQ document (untrusted) for principal `owner`; one already stored stays
        as it is. Raises NotStored when the size limit or the owner's quota refuses it."""
        ...


class SqlDocumentStore:
    """`persisted_documents` in PostgreSQL behind an LRU of the documents found.

    The engine is the constructor's, or else the app's (`request.state.engine`); the quota and
    the cache's size in bytes are those of `settings` (by default, the default settings).
    """

    def __init__(
        self,
        engine: AsyncEngine | None = None,
        settings: Settings | None = None,
        *,
        cache_size: int = CACHED_DOCUMENTS,
    ) -> None:
        settings = settings or Settings()
        self.engine = engine
        self.quota = StorageQuota.from_settings(settings)
        self.cache: BoundedCache[str, StoredDocument] = BoundedCache(
            cache_size,
            settings.persisted_cache_bytes,
            weigh=lambda _sha, stored: len(stored.document.encode()),
        )

    async def get(
        self, request: HTTPConnection, sha256: str, *, trusted: bool
    ) -> StoredDocument | None:
        cached = self.cache.get(sha256)
        if cached is not None and (cached.trusted or not trusted):
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
        self.cache.put(sha256, found)
        return found if found.trusted or not trusted else None

    async def add(
        self, request: HTTPConnection, sha256: str, document: str, *, owner: str, anonymous: bool
    ) -> None:
        if sha256 in self.cache:
            return
        size = len(document.encode("utf-8"))
        if size > self.quota.max_document_bytes:
            raise NotStored(
                "PERSISTED_QUERY_TOO_LARGE",
                f"Not stored: the document is {size} bytes, over the limit of "
                f"{self.quota.max_document_bytes} bytes for persisted queries. It ran; send it "
                "in full next time (or register it as a trusted document).",
            )
        documents, quota_bytes = self.quota.of(anonymous=anonymous)
        if documents <= 0 or quota_bytes <= 0:
            raise NotStored(
                "PERSISTED_QUERY_NOT_STORED",
                "Not stored: anonymous callers can't store persisted queries here. It ran; "
                "send it in full next time (or register it as a trusted document).",
            )
        stored_by = owner_key(owner)
        async with self._engine(request).begin() as connection:
            if not await _already_stored(connection, sha256):
                await _check_quota(connection, stored_by, size, documents, quota_bytes)
                await connection.execute(
                    insert(PersistedDocument)
                    .values(sha256=sha256, document=document, trusted=False, stored_by=stored_by)
                    .on_conflict_do_nothing(index_elements=[PersistedDocument.sha256])
                )
        self.cache.put(sha256, StoredDocument(document, trusted=False))

    def _engine(self, request: HTTPConnection) -> AsyncEngine:
        if self.engine is not None:
            return self.engine
        engine: AsyncEngine = request.state.engine
        return engine


def owner_key(principal: str) -> str:
    """`stored_by` for a principal: itself, or when longer than the column, a prefix and a hash
    (so two long principals never share a quota)."""
    if len(principal) <= OWNER_LENGTH:
        return principal
    digest = hashlib.sha256(principal.encode("utf-8")).hexdigest()
    return f"{principal[: OWNER_LENGTH - len(digest) - 1]}#{digest}"


async def _already_stored(connection: AsyncConnection, sha256: str) -> bool:
    found = await connection.execute(
        select(PersistedDocument.sha256).where(PersistedDocument.sha256 == sha256)
    )
    return found.first() is not None


async def _check_quota(
    connection: AsyncConnection, stored_by: str, size: int, documents: int, quota_bytes: int
) -> None:
    """Raise NotStored when one more document of `size` bytes exceeds the owner's quota.

    Concurrent stores by one owner wait for each other here, so the quota holds exactly.
    """
    await connection.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:lock, 0))"),
        {"lock": json.dumps(["persisted_documents", stored_by])},
    )
    table = PersistedDocument
    count, used = (
        await connection.execute(
            select(
                func.count(), func.coalesce(func.sum(func.octet_length(table.document)), 0)
            ).where(table.stored_by == stored_by)
        )
    ).one()
    if count + 1 > documents or used + size > quota_bytes:
        raise NotStored(
            "PERSISTED_QUERY_QUOTA_EXCEEDED",
            f"Not stored: this caller's persisted queries would exceed the quota of {documents} "
            f"documents and {quota_bytes} bytes (stored: {count} documents, {used} bytes). "
            "It ran; send it in full next time.",
        )


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
    request: HTTPConnection,
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
        if sha is None and not trusted_only:  # a plain query: nothing to hash it for
            return ResolvedDocument(query)
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
    "NotStored",
    "PersistedQueryError",
    "ResolvedDocument",
    "SqlDocumentStore",
    "StorageQuota",
    "StoredDocument",
    "list_documents",
    "owner_key",
    "register_trusted",
    "resolve_document",
    "sha256_of",
]
