"""What writes check of their input in every domain: money amounts, lists, and codes, which
must be well formed (without SQL) and in their reference tables (in the write's transaction).

A code is checked where it stands in the input: an `Entry` is its path (`("regionCode",)`, or
`("skills", "2")` for the third of a list) and the code, so each problem names the very field
at fault; every code of one vocabulary is looked up in one statement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy import Column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.codes import (
    is_division_code_format,
    is_industry_code_format,
    is_occupation_code_format,
    is_skill_code_format,
)
from db.models import Industry, Occupation, Region, Skill
from db.models.base import table_of
from resolvers.declarations import Condition
from resolvers.filters import MAX_AMOUNT, is_amount
from resolvers.writes import Problem

C = TypeVar("C", bound=Enum)

Entry = tuple[tuple[str, ...], str]
"""A code in a write's input: its path there and the code."""

REGIONS = table_of(Region)


def amount_problem(amount: Decimal) -> str | None:
    """Why `amount` is not a money amount a write takes (0 to MAX_AMOUNT, whole fen), or None."""
    if not is_amount(amount):
        return f"Must be an amount from 0 to {MAX_AMOUNT}."
    if amount != amount.quantize(Decimal("0.01")):
        return "At most two decimal places (fen)."
    return None


def text_length_problem(text: str, most: int, *, blank: bool = False) -> str | None:
    """Why `text` is not 1 to `most` characters once stripped (or, with `blank`, empty), or
    None."""
    stripped = text.strip()
    if not stripped and not blank:
        return "Must not be blank."
    if len(stripped) > most:
        return f"At most {most:,} characters."
    return None


def given(field: str, code: str | None) -> list[Entry]:
    """The code in input `field`, if one is given."""
    return [] if code is None else [((field,), code)]


def entries(field: str, codes: Sequence[str]) -> list[Entry]:
    """Each code of the list in input `field`, named by its index."""
    return [((field, str(index)), code) for index, code in enumerate(codes)]


def list_problems(field: str, values: Sequence[str], most: int, invalid: C) -> list[Problem[C]]:
    """A list of more than `most` values (named as a whole), or each value given twice (named
    by its index)."""
    if len(values) > most:
        return [Problem((field,), invalid, f"At most {most} values.")]
    seen: set[str] = set()
    repeated = []
    for path, value in entries(field, values):
        if value in seen:
            repeated.append(Problem(path, invalid, f"'{value[:32]}' is given twice."))
        seen.add(value)
    return repeated


@dataclass(frozen=True)
class Vocabulary:
    """The codes of one reference table: its code column, how a code is written (and how a
    message says so), what one is called, and which rows count (for regions, current ones)."""

    column: Column[Any]
    well_formed: Callable[[str], bool]
    form: str
    noun: str
    where: tuple[Condition, ...] = ()

    def malformed(self, found: Iterable[Entry], invalid: C) -> list[Problem[C]]:
        """A problem for each code in `found` that is not written as this vocabulary's are."""
        return [
            Problem(path, invalid, f"'{code[:32]}' is not {self.form}.")
            for path, code in found if not self.well_formed(code)
        ]

    def list_problems(
        self, field: str, codes: Sequence[str], most: int, invalid: C
    ) -> list[Problem[C]]:
        """The problems of a list of codes in input `field`: too long, or codes malformed or
        given twice (each named by its index)."""
        return [
            *list_problems(field, codes, most, invalid),
            *self.malformed(entries(field, codes), invalid),
        ]

    async def unknown(
        self, connection: AsyncConnection, found: Sequence[Entry], not_found: C
    ) -> list[Problem[C]]:
        """A problem for each code in `found` that is not in the table (one statement)."""
        codes = {code for _, code in found}
        if not codes:
            return []
        known = set(
            (await connection.execute(
                select(self.column).where(self.column.in_(codes), *self.where)
            )).scalars()
        )
        return [
            Problem(path, not_found, f"No {self.noun} '{code}'.")
            for path, code in found if code not in known
        ]


CURRENT_REGIONS = Vocabulary(
    REGIONS.c.code, is_division_code_format, "a 6-digit division code", "current region",
    (REGIONS.c.valid_to.is_(None),),
)
OCCUPATIONS = Vocabulary(
    table_of(Occupation).c.code, is_occupation_code_format,
    "an occupation code like 4-02-07-10", "occupation",
)
INDUSTRIES = Vocabulary(
    table_of(Industry).c.code, is_industry_code_format,
    "an industry code (a section letter A–T, optionally 2–4 digits)", "industry",
)
SKILLS = Vocabulary(
    table_of(Skill).c.code, is_skill_code_format,
    "a skill code (lowercase letters, digits, '.', '_' or '-')", "skill",
)
