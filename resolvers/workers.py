"""What the worker list's filter means in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from db.models import Worker
from db.models.base import table_of
from resolvers.filters import contains_keyword, in_region
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from schema.workers import WorkerFilter

WORKERS = table_of(Worker)


async def worker_conditions(
    loaders: Loaders, filter: WorkerFilter | None
) -> list[ColumnElement[bool]]:
    if filter is None:
        return []
    where: list[ColumnElement[Any]] = []
    if filter.region_code is not None:
        where.append(
            await in_region(loaders, WORKERS.c.current_region_code, filter.region_code,
                            "filter.regionCode")
        )
    if filter.hukou_region_code is not None:
        where.append(
            await in_region(loaders, WORKERS.c.hukou_region_code, filter.hukou_region_code,
                            "filter.hukouRegionCode")
        )
    if filter.keyword is not None:
        where.append(contains_keyword(WORKERS.c.name, filter.keyword, "filter.keyword"))
    if filter.gender is not None:
        where.append(WORKERS.c.gender == filter.gender)
    if filter.education_level is not None:
        where.append(WORKERS.c.education_level == filter.education_level)
    if filter.new_employment_form is not None:
        where.append(WORKERS.c.new_employment_form == filter.new_employment_form)
    return where
