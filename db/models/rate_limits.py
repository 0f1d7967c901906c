"""Rate-limit buckets shared by every process of the hub (`db.rate_buckets` syncs them).

UNLOGGED: the buckets are soft state. They are not written to the WAL (cheap to update every
second, not shipped to replicas) and are emptied after a crash, which only ever errs in the
callers' favour. One row per limiter and principal: the tokens it had at `updated_at`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Double, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class RateBucket(Base):
    __tablename__ = "rate_buckets"
    __table_args__ = ({"prefixes": ["UNLOGGED"]},)

    limiter: Mapped[str] = mapped_column(String(32), primary_key=True)
    principal: Mapped[str] = mapped_column(Text, primary_key=True)
    tokens: Mapped[float] = mapped_column(Double)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=text("now()"), index=True
    )
