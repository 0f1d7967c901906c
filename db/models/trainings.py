"""Skills trainings and the enrollments of workers in them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, code_column, created_at_column, enum_column, id_column
from db.models.enums import EnrollmentStatus, TrainingKind, TrainingMode


class Training(Base):
    __tablename__ = "trainings"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("seats_taken >= 0", name="seats_taken"),
        Index("ix_trainings_starts_on_id", "starts_on", "id"),
        Index("ix_trainings_ends_on", "ends_on"),
    )

    id: Mapped[int] = id_column()
    title: Mapped[str] = mapped_column(String(128))
    kind: Mapped[TrainingKind] = mapped_column(enum_column(TrainingKind), index=True)
    mode: Mapped[TrainingMode] = mapped_column(enum_column(TrainingMode), index=True)
    provider: Mapped[str] = mapped_column(String(128))
    partner_employer_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("employers.id"), index=True
    )
    occupation_code: Mapped[str | None] = mapped_column(
        code_column(10), ForeignKey("occupations.code"), index=True
    )
    region_code: Mapped[str] = mapped_column(
        code_column(6), ForeignKey("regions.code"), index=True
    )
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    capacity: Mapped[int] = mapped_column(Integer)
    subsidised: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = created_at_column()
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Enrollments not dropped, kept by a trigger on enrollments (migration 0013); writes that
    # enrol hold the training's row lock while they compare it with the capacity.
    seats_taken: Mapped[int] = mapped_column(Integer, server_default="0")


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        # One enrollment not dropped per worker and training: after a drop, enrol again.
        Index(
            "uq_enrollments_worker_id_training_id_active", "worker_id", "training_id",
            unique=True, postgresql_where=text("status <> 'dropped'"),
        ),
        Index("ix_enrollments_training_id_enrolled_at", "training_id", "enrolled_at", "id"),
        Index("uq_enrollments_certificate_number", "certificate_number", unique=True),
    )

    id: Mapped[int] = id_column()
    worker_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("workers.id"))
    training_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("trainings.id"))
    status: Mapped[EnrollmentStatus] = mapped_column(enum_column(EnrollmentStatus), index=True)
    certificate_number: Mapped[str | None] = mapped_column(String(64))
    enrolled_at: Mapped[datetime] = created_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, server_default="1")
