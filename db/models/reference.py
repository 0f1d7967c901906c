"""Reference data: regions (GB/T 2260), occupations (职业分类大典 2022), industries (GB/T 4754)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base, code_column, enum_column
from db.models.enums import RegionLevel


class Region(Base):
    __tablename__ = "regions"
    __table_args__ = (CheckConstraint(r"code ~ '^\d{6}$'", name="code_format"),)

    code: Mapped[str] = mapped_column(code_column(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[RegionLevel] = mapped_column(enum_column(RegionLevel))
    parent_code: Mapped[str | None] = mapped_column(
        code_column(6), ForeignKey("regions.code"), index=True
    )
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class OccupationGroup(Base):
    __tablename__ = "occupation_groups"

    code: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(64))


class Occupation(Base):
    __tablename__ = "occupations"
    __table_args__ = (
        CheckConstraint(r"code ~ '^[1-8]-\d{2}-\d{2}-\d{2}$'", name="code_format"),
    )

    code: Mapped[str] = mapped_column(code_column(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    major_group: Mapped[int] = mapped_column(
        SmallInteger, ForeignKey("occupation_groups.code"), index=True
    )


class Industry(Base):
    __tablename__ = "industries"
    __table_args__ = (CheckConstraint(r"code ~ '^[A-T](\d{2,4})?$'", name="code_format"),)

    code: Mapped[str] = mapped_column(code_column(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    section: Mapped[str] = mapped_column(code_column(1), index=True)
    parent_code: Mapped[str | None] = mapped_column(
        code_column(5), ForeignKey("industries.code"), index=True
    )


class Skill(Base):
    __tablename__ = "skills"

    code: Mapped[str] = mapped_column(code_column(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    occupation_code: Mapped[str | None] = mapped_column(
        code_column(10), ForeignKey("occupations.code"), index=True
    )
