"""Employers, identified by their unified social credit code (GB 32100)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, code_column, created_at_column, enum_column, id_column
from db.models.enums import EmployerSize


class Employer(Base):
    __tablename__ = "employers"
    __table_args__ = (Index("ix_employers_created_at_id", "created_at", "id"),)

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(128), index=True)
    credit_code: Mapped[str] = mapped_column(code_column(18), unique=True)
    industry_code: Mapped[str] = mapped_column(
        code_column(5), ForeignKey("industries.code"), index=True
    )
    region_code: Mapped[str] = mapped_column(
        code_column(6), ForeignKey("regions.code"), index=True
    )
    size: Mapped[EmployerSize] = mapped_column(enum_column(EmployerSize))
    # A platform of new employment forms (delivery, ride-hailing): pays per order.
    is_platform: Mapped[bool] = mapped_column(Boolean, server_default="false")
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = created_at_column()
    version: Mapped[int] = mapped_column(Integer, server_default="1")
