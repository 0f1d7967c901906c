"""What the job list's filter means in SQL."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement

from db.models import Job
from db.models.base import table_of
from resolvers.filters import (
    Rule,
    amount_rule,
    at_least_rule,
    below_rule,
    check_range,
    equals_rule,
    filter_conditions,
    industry_rule,
    keyword_rule,
    node_rule,
    occupation_rule,
    region_rule,
)
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from schema.jobs import JobFilter

JOBS = table_of(Job)

JOB_FILTER: dict[str, Rule] = {
    "region_code": region_rule(JOBS.c.region_code),
    "occupation_code": occupation_rule(JOBS.c.occupation_code),
    "industry_code": industry_rule(JOBS.c.industry_code),
    "employer_id": node_rule(JOBS.c.employer_id, "Employer"),
    "status": equals_rule(JOBS.c.status),
    "employment_type": equals_rule(JOBS.c.employment_type),
    "salary_unit": equals_rule(JOBS.c.salary_unit),
    "salary_min": amount_rule(JOBS.c.salary_max, operator.ge),  # can pay at least this much
    "salary_max": amount_rule(JOBS.c.salary_min, operator.le),  # starts at or below this
    "posted_after": at_least_rule(JOBS.c.posted_at),
    "posted_before": below_rule(JOBS.c.posted_at),
    "keyword": keyword_rule(JOBS.c.title),
}


async def job_conditions(loaders: Loaders, filter: JobFilter | None) -> list[ColumnElement[bool]]:
    where = await filter_conditions(loaders, filter, JOB_FILTER)
    if filter is not None:  # after the rules, which refuse amounts that can't be compared
        check_range(filter.salary_min, filter.salary_max, "filter.salaryMin")
        check_range(filter.posted_after, filter.posted_before, "filter.postedAfter")
    return where
