"""Partner API keys, consents to the use of personal data, and registered GraphQL documents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, code_column, created_at_column, id_column


class ApiKey(Base):
    """A partner agency's key. Only a keyed hash of the secret part is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = id_column()
    partner: Mapped[str] = mapped_column(String(128), index=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # shown, used for lookup
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    regions: Mapped[list[str]] = mapped_column(ARRAY(code_column(6)))
    fields: Mapped[list[str] | None] = mapped_column(ARRAY(String(128)))  # NULL: every field
    # GraphQL object types the agreement reaches beyond its scopes' own; NULL: none named.
    types: Mapped[list[str] | None] = mapped_column(ARRAY(String(64)))
    purpose: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Consent(Base):
    """A worker's consent to one purpose (in one version of its text); live until withdrawn."""

    __tablename__ = "consents"
    __table_args__ = (
        Index(
            "uq_consents_live", "worker_id", "purpose", unique=True,
            postgresql_where=text("withdrawn_at IS NULL"),
        ),
    )

    id: Mapped[int] = id_column()
    worker_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workers.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(32))
    granted_at: Mapped[datetime] = created_at_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PersistedDocument(Base):
    """A GraphQL document by its SHA-256: Apollo APQ entries and trusted (registered) ones."""

    __tablename__ = "persisted_documents"

    sha256: Mapped[str] = mapped_column(code_column(64), primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    trusted: Mapped[bool] = mapped_column(Boolean, server_default="false")
    name: Mapped[str | None] = mapped_column(String(256))
    # Who stored an APQ document (a viewer's principal), for per-principal storage quotas.
    stored_by: Mapped[str | None] = mapped_column(String(160), index=True)
    created_at: Mapped[datetime] = created_at_column()
