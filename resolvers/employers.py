"""What the employer list's filter means in SQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from db.models import Employer
from db.models.base import table_of
from resolvers.filters import (
    Rule,
    equals_rule,
    filter_conditions,
    industry_rule,
    is_set_rule,
    keyword_rule,
    region_rule,
)
from resolvers.loaders import Loaders

EMPLOYERS = table_of(Employer)

EMPLOYER_FILTER: dict[str, Rule] = {
    "region_code": region_rule(EMPLOYERS.c.region_code),
    "industry_code": industry_rule(EMPLOYERS.c.industry_code),
    "keyword": keyword_rule(EMPLOYERS.c.name),
    "size": equals_rule(EMPLOYERS.c.size),
    "verified": is_set_rule(EMPLOYERS.c.verified_at),
}


async def employer_conditions(
    loaders: Loaders, filter: object | None
) -> list[ColumnElement[bool]]:
    return await filter_conditions(loaders, filter, EMPLOYER_FILTER)
