"""What the job list's filter means in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from db.models import Job
from db.models.base import table_of
from resolvers.filters import (
    check_range,
    checked_amount,
    contains_keyword,
    in_industry,
    in_region,
    is_occupation,
)
from resolvers.global_ids import decode_int_id
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from schema.jobs import JobFilter

JOBS = table_of(Job)


async def job_conditions(loaders: Loaders, filter: JobFilter | None) -> list[ColumnElement[bool]]:
    if filter is None:
        return []
    where: list[ColumnElement[Any]] = []
    if filter.region_code is not None:
        where.append(
            await in_region(loaders, JOBS.c.region_code, filter.region_code, "filter.regionCode")
        )
    if filter.occupation_code is not None:
        where.append(
            await is_occupation(loaders, JOBS.c.occupation_code, filter.occupation_code,
                                "filter.occupationCode")
        )
    if filter.industry_code is not None:
        where.append(
            await in_industry(loaders, JOBS.c.industry_code, filter.industry_code,
                              "filter.industryCode")
        )
    if filter.employer_id is not None:
        where.append(
            JOBS.c.employer_id == decode_int_id(filter.employer_id, "Employer", "filter.employerId")
        )
    if filter.status is not None:
        where.append(JOBS.c.status == filter.status)
    if filter.employment_type is not None:
        where.append(JOBS.c.employment_type == filter.employment_type)
    if filter.salary_unit is not None:
        where.append(JOBS.c.salary_unit == filter.salary_unit)
    salary_min = checked_amount(filter.salary_min, "filter.salaryMin")
    salary_max = checked_amount(filter.salary_max, "filter.salaryMax")
    check_range(salary_min, salary_max, "filter.salaryMin")
    if salary_min is not None:  # the job can pay at least this much
        where.append(JOBS.c.salary_max >= salary_min)
    if salary_max is not None:  # the job starts at or below this much
        where.append(JOBS.c.salary_min <= salary_max)
    check_range(filter.posted_after, filter.posted_before, "filter.postedAfter")
    if filter.posted_after is not None:
        where.append(JOBS.c.posted_at >= filter.posted_after)
    if filter.posted_before is not None:
        where.append(JOBS.c.posted_at < filter.posted_before)
    if filter.keyword is not None:
        where.append(contains_keyword(JOBS.c.title, filter.keyword, "filter.keyword"))
    return where
