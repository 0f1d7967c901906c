"""What the employer list's filter means in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from db.models import Employer
from db.models.base import table_of
from resolvers.filters import contains_keyword, in_industry, in_region
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from schema.employers import EmployerFilter

EMPLOYERS = table_of(Employer)


async def employer_conditions(
    loaders: Loaders, filter: EmployerFilter | None
) -> list[ColumnElement[bool]]:
    if filter is None:
        return []
    where: list[ColumnElement[Any]] = []
    if filter.region_code is not None:
        where.append(
            await in_region(loaders, EMPLOYERS.c.region_code, filter.region_code,
                            "filter.regionCode")
        )
    if filter.industry_code is not None:
        where.append(
            await in_industry(loaders, EMPLOYERS.c.industry_code, filter.industry_code,
                              "filter.industryCode")
        )
    if filter.keyword is not None:
        where.append(contains_keyword(EMPLOYERS.c.name, filter.keyword, "filter.keyword"))
    if filter.size is not None:
        where.append(EMPLOYERS.c.size == filter.size)
    if filter.verified is not None:
        verified = EMPLOYERS.c.verified_at.is_not(None)
        where.append(verified if filter.verified else ~verified)
    return where
