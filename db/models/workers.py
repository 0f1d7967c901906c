"""Workers, their skills, job intentions and skill surveys. ID numbers and phones are stored
encrypted."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    SmallInteger,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, code_column, created_at_column, enum_column, id_column
from db.models.enums import EducationLevel, Gender


class Worker(Base):
    __tablename__ = "workers"
    __table_args__ = (Index("ix_workers_created_at_id", "created_at", "id"),)

    id: Mapped[int] = id_column()
    name: Mapped[str] = mapped_column(String(64), index=True)
    # Resident ID number (GB 11643): AES-GCM ciphertext, HMAC for exact lookup, masked display.
    id_number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_hash: Mapped[bytes] = mapped_column(LargeBinary, unique=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    gender: Mapped[Gender] = mapped_column(enum_column(Gender))
    birth_date: Mapped[date] = mapped_column(Date)
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_hash: Mapped[bytes | None] = mapped_column(LargeBinary, index=True)
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    hukou_region_code: Mapped[str] = mapped_column(
        code_column(6), ForeignKey("regions.code"), index=True
    )
    current_region_code: Mapped[str | None] = mapped_column(
        code_column(6), ForeignKey("regions.code"), index=True
    )
    education_level: Mapped[EducationLevel] = mapped_column(enum_column(EducationLevel))
    new_employment_form: Mapped[bool] = mapped_column(Boolean, server_default="false")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    version: Mapped[int] = mapped_column(Integer, server_default="1")
    # PIPL art. 24: the worker refused automated recommendations (none ranks them or is made
    # for them), and when they last said either way.
    recommendation_opt_out: Mapped[bool] = mapped_column(Boolean, server_default="false")
    recommendation_preference_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True)
    )


class WorkerSkill(Base):
    __tablename__ = "worker_skills"

    worker_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workers.id", ondelete="CASCADE"), primary_key=True
    )
    skill_code: Mapped[str] = mapped_column(
        code_column(32), ForeignKey("skills.code"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(SmallInteger, server_default="1")


class JobIntention(Base):
    __tablename__ = "job_intentions"

    id: Mapped[int] = id_column()
    worker_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workers.id", ondelete="CASCADE"), index=True
    )
    occupation_code: Mapped[str | None] = mapped_column(
        code_column(10), ForeignKey("occupations.code"), index=True
    )
    region_code: Mapped[str | None] = mapped_column(
        code_column(6), ForeignKey("regions.code"), index=True
    )
    expected_salary: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))


class SurveyOccupation(Base):
    """An occupation a worker's survey intends or names a skill of (any survey of theirs: a
    superset of what their latest says), kept by triggers on `skill_surveys` and `skills`
    (migration 0014), so that ranking workers for a job finds the surveyed ones by index.
    No foreign keys: an index of the surveys, whose rows of a deleted worker are skipped."""

    __tablename__ = "survey_occupations"

    occupation_code: Mapped[str] = mapped_column(String(10), primary_key=True)
    worker_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class SkillSurvey(Base):
    """摸底: what a worker can do, wants and needs, as surveyed at one time. A worker's surveys
    are kept as history; the newest is the one that counts. Codes are checked against their
    reference tables when written (`skills`, `occupations`, current `regions`)."""

    __tablename__ = "skill_surveys"
    __table_args__ = (
        CheckConstraint("expected_salary >= 0", name="expected_salary_non_negative"),
        Index("ix_skill_surveys_worker_id_surveyed_at_id", "worker_id", "surveyed_at", "id"),
        Index("ix_skill_surveys_surveyed_at_id", "surveyed_at", "id"),
    )

    id: Mapped[int] = id_column()
    worker_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("workers.id", ondelete="CASCADE")
    )
    skill_codes: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    intended_occupation_codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)))
    intended_region_codes: Mapped[list[str]] = mapped_column(ARRAY(String(6)))
    expected_salary: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # CNY a month
    willing_to_relocate: Mapped[bool] = mapped_column(Boolean)
    training_needs: Mapped[str | None] = mapped_column(String(1000))
    service_point: Mapped[str | None] = mapped_column(String(128))
    surveyed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    surveyed_by: Mapped[str] = mapped_column(String(160))  # the principal who recorded it
    created_at: Mapped[datetime] = created_at_column()
