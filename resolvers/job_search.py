"""What a job seeker searches by: keywords in any text of a posting, served by the grams
index of migration 0012, and conditions that look beyond the job's own columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, exists, func, or_, select

from db.models import Employer, Job
from db.models.base import table_of
from resolvers.declarations import Condition
from resolvers.filters import bound_rule, keyword_text

JOBS = table_of(Job)
EMPLOYERS = table_of(Employer)


def contains_keyword(term: ColumnElement[Any]) -> Condition:
    """Jobs whose search text holds `term`, case aside: every gram of the term in the GIN
    index (one lookup for each), then the term itself in the text of the rows found."""
    lowered = func.lower(term)
    return and_(
        JOBS.c.search_grams.contains(func.term_grams(lowered)),
        func.strpos(JOBS.c.search_text, lowered) > 0,
    )


KEYWORD_RULE = bound_rule(
    JOBS.c.title, contains_keyword, keyword_text, JOBS.c.search_text.type,
    also_reads=(JOBS.c.description, JOBS.c.employer_id, JOBS.c.occupation_code),
)
"""`keyword`: part of the title, the description, the employer's or the occupation's name."""


def verified_employer(wanted: ColumnElement[Any]) -> Condition:
    """Jobs whose employer's verification is `wanted` (true: verified by staff)."""
    return exists(
        select(EMPLOYERS.c.id).where(
            EMPLOYERS.c.id == JOBS.c.employer_id,
            EMPLOYERS.c.verified_at.is_not(None) == wanted,
        )
    )


EMPLOYER_VERIFIED_RULE = bound_rule(JOBS.c.employer_id, verified_employer, type_=Boolean())


def open_at(instant: ColumnElement[Any]) -> Condition:
    """Jobs posted by `instant` and not past their `validThrough` then."""
    return and_(
        JOBS.c.posted_at <= instant,
        or_(JOBS.c.valid_through.is_(None), JOBS.c.valid_through > instant),
    )


VALID_AT_RULE = bound_rule(JOBS.c.valid_through, open_at, type_=JOBS.c.posted_at.type)
