"""What the worker list's filter means in SQL, and who sees which part of a birth date."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement

from db.models import Worker
from db.models.base import table_of
from resolvers.access import Role, Viewer
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


# The ID number's characters 7–14 are the birth date, and a masked ID number shows all the
# others: the full birth date is part of the ID number, so only the worker themself reads it
# (others who may see the full number reveal it, audited). Everyone who sees the worker reads
# the birth year and the age reached this year, which depend on the year alone: an age that
# went up on the birthday would give the date away to anyone who watched it change.
CALENDAR = ZoneInfo("Asia/Shanghai")


def birth_date_for(viewer: Viewer, worker_id: int, birth_date: date) -> date | None:
    """The birth date for the worker themself; None for every other viewer."""
    own = viewer.role is Role.WORKER and viewer.worker_id == worker_id
    return birth_date if own else None


def age_this_year(birth_date: date, today: date | None = None) -> int:
    """The age the worker reaches this calendar year (Asia/Shanghai)."""
    return (today or datetime.now(CALENDAR).date()).year - birth_date.year
