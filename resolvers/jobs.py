"""Job postings, the applications to them and the placements in them, declared."""

from __future__ import annotations

import operator

from sqlalchemy import and_, or_, select

from db.models import Application, Job, Placement
from db.models.base import table_of
from resolvers.access import Role, Viewer
from resolvers.catalog import declare
from resolvers.declarations import Condition, Entity, Range, ToMany, ToOne
from resolvers.filters import (
    amount_rule,
    at_least_rule,
    below_rule,
    equals_rule,
    industry_rule,
    is_set_rule,
    node_rule,
    occupation_rule,
    region_rule,
)
from resolvers.job_lifecycle import STATUS_RULE, in_public_view
from resolvers.job_search import EMPLOYER_VERIFIED_RULE, KEYWORD_RULE, VALID_AT_RULE
from resolvers.pagination import Ordering
from resolvers.policies import in_partner_regions, in_staff_division, worker_records_under
from resolvers.viewer_parameters import viewer_id

JOBS = table_of(Job)
APPLICATIONS = table_of(Application)
PLACEMENTS = table_of(Placement)


def job_policy(viewer: Viewer) -> Condition:
    """The public view (published now, not hidden by reports), and beyond it: an employer's
    own jobs, the jobs a worker applied to, every job in a staff member's division."""
    published = in_public_view()
    if viewer.role is Role.STAFF and viewer.region_code:
        return or_(published, in_staff_division(JOBS.c.region_code, viewer))
    if viewer.role is Role.EMPLOYER:
        return or_(published, JOBS.c.employer_id == viewer_id(viewer, "employer_id"))
    if viewer.role is Role.WORKER:
        applied = select(APPLICATIONS.c.job_id).where(
            APPLICATIONS.c.worker_id == viewer_id(viewer, "worker_id")
        )
        return or_(published, JOBS.c.id.in_(applied))
    if viewer.partner is not None:
        return and_(published, in_partner_regions(JOBS.c.region_code, viewer.partner))
    return published


JOB_EMPLOYER = ToOne("Employer", JOBS.c.employer_id)
JOB_OCCUPATION = ToOne("Occupation", JOBS.c.occupation_code)
JOB_INDUSTRY = ToOne("Industry", JOBS.c.industry_code)
JOB_REGION = ToOne("Region", JOBS.c.region_code)
JOB_APPLICATIONS = ToMany(
    "Application", APPLICATIONS.c.job_id, Ordering.of(APPLICATIONS.c.submitted_at, descending=True)
)
JOB_PLACEMENTS = ToMany(
    "Placement", PLACEMENTS.c.job_id, Ordering.of(PLACEMENTS.c.started_on, descending=True)
)
APPLICATION_JOB = ToOne("Job", APPLICATIONS.c.job_id)
APPLICATION_WORKER = ToOne("Worker", APPLICATIONS.c.worker_id)
APPLICATION_PLACEMENTS = ToMany("Placement", PLACEMENTS.c.application_id)  # one when hired

JOB = declare(Entity(
    "Job", JOBS, job_policy, key=JOBS.c.id,
    filters={
        "region_code": region_rule(JOBS.c.region_code),
        "occupation_code": occupation_rule(JOBS.c.occupation_code),
        "industry_code": industry_rule(JOBS.c.industry_code),
        "employer_id": node_rule(JOB_EMPLOYER),
        "status": STATUS_RULE,
        "employment_type": equals_rule(JOBS.c.employment_type),
        "salary_unit": equals_rule(JOBS.c.salary_unit),
        "salary_min": amount_rule(JOBS.c.salary_max, operator.ge),  # can pay at least this
        "salary_max": amount_rule(JOBS.c.salary_min, operator.le),  # starts at or below this
        "posted_after": at_least_rule(JOBS.c.posted_at),
        "posted_before": below_rule(JOBS.c.posted_at),
        "keyword": KEYWORD_RULE,
        "lodging": equals_rule(JOBS.c.lodging),
        "board": equals_rule(JOBS.c.board),
        "valid_at": VALID_AT_RULE,
        "employer_verified": EMPLOYER_VERIFIED_RULE,
        "monthly_salary_min": amount_rule(JOBS.c.monthly_salary_max, operator.ge),
        "monthly_salary_max": amount_rule(JOBS.c.monthly_salary_min, operator.le),
    },
    ranges=(
        Range("salary_min", "salary_max"),
        Range("posted_after", "posted_before"),
        Range("monthly_salary_min", "monthly_salary_max"),
    ),
    orderings={
        "POSTED_AT": JOBS.c.posted_at,
        "SALARY_MAX": JOBS.c.salary_max,
        "MONTHLY_SALARY": JOBS.c.monthly_salary_max,
        "CREATED_AT": JOBS.c.created_at,
    },
    relations=(
        JOB_EMPLOYER, JOB_OCCUPATION, JOB_INDUSTRY, JOB_REGION, JOB_APPLICATIONS, JOB_PLACEMENTS,
    ),
))
APPLICATION = declare(Entity(
    "Application", APPLICATIONS,
    worker_records_under(
        APPLICATIONS.c.worker_id, APPLICATIONS.c.job_id, JOBS.c.employer_id, JOBS.c.region_code
    ),
    key=APPLICATIONS.c.id, personal=True,
    relations=(APPLICATION_JOB, APPLICATION_WORKER, APPLICATION_PLACEMENTS),
))

PLACEMENT_WORKER = ToOne("Worker", PLACEMENTS.c.worker_id)
PLACEMENT_JOB = ToOne("Job", PLACEMENTS.c.job_id)
PLACEMENT_APPLICATION = ToOne("Application", PLACEMENTS.c.application_id)

PLACEMENT = declare(Entity(  # seen as the applications of the same jobs are
    "Placement", PLACEMENTS,
    worker_records_under(
        PLACEMENTS.c.worker_id, PLACEMENTS.c.job_id, JOBS.c.employer_id, JOBS.c.region_code
    ),
    key=PLACEMENTS.c.id, personal=True,
    filters={
        "worker_id": node_rule(PLACEMENT_WORKER),
        "job_id": node_rule(PLACEMENT_JOB),
        "started_after": at_least_rule(PLACEMENTS.c.started_on),
        "started_before": below_rule(PLACEMENTS.c.started_on),
        "ended": is_set_rule(PLACEMENTS.c.ended_on),
    },
    ranges=(Range("started_after", "started_before"),),
    orderings={"STARTED_ON": PLACEMENTS.c.started_on, "CREATED_AT": PLACEMENTS.c.created_at},
    relations=(PLACEMENT_WORKER, PLACEMENT_JOB, PLACEMENT_APPLICATION),
))
