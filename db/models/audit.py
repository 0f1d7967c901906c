"""The append-only audit trail of reads of personal data (a trigger refuses changes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, id_column


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_at_id", "at", "id"),)

    id: Mapped[int] = id_column()
    actor: Mapped[str] = mapped_column(String(160), index=True)
    role: Mapped[str] = mapped_column(String(16))
    operation: Mapped[str] = mapped_column(String(64), index=True)
    record_ids: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    sensitive_fields: Mapped[list[str]] = mapped_column(ARRAY(String(128)))
    purpose: Mapped[str | None] = mapped_column(String(256))
    client_address: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )
