"""What the worker list's filter means in SQL."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from db.models import Worker
from db.models.base import table_of
from resolvers.filters import Rule, equals_rule, filter_conditions, keyword_rule, region_rule
from resolvers.loaders import Loaders

WORKERS = table_of(Worker)

WORKER_FILTER: dict[str, Rule] = {
    "region_code": region_rule(WORKERS.c.current_region_code),
    "hukou_region_code": region_rule(WORKERS.c.hukou_region_code),
    "keyword": keyword_rule(WORKERS.c.name),
    "gender": equals_rule(WORKERS.c.gender),
    "education_level": equals_rule(WORKERS.c.education_level),
    "new_employment_form": equals_rule(WORKERS.c.new_employment_form),
}


async def worker_conditions(loaders: Loaders, filter: object | None) -> list[ColumnElement[bool]]:
    return await filter_conditions(loaders, filter, WORKER_FILTER)
