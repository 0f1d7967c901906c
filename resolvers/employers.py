"""Employers, declared: registered organisations, public to every viewer."""

from __future__ import annotations

from db.models import Employer, Job, Training
from db.models.base import table_of
from resolvers.catalog import declare
from resolvers.declarations import Entity, ToMany, ToOne
from resolvers.filters import equals_rule, industry_rule, is_set_rule, keyword_rule, region_rule
from resolvers.pagination import Ordering
from resolvers.policies import public

EMPLOYERS = table_of(Employer)
JOBS = table_of(Job)
TRAININGS = table_of(Training)

EMPLOYER_INDUSTRY = ToOne("Industry", EMPLOYERS.c.industry_code)
EMPLOYER_REGION = ToOne("Region", EMPLOYERS.c.region_code)
EMPLOYER_JOBS = ToMany("Job", JOBS.c.employer_id, Ordering.of(JOBS.c.posted_at, descending=True))
EMPLOYER_TRAININGS = ToMany(  # latest start first, as the training list
    "Training", TRAININGS.c.partner_employer_id, Ordering.of(TRAININGS.c.starts_on, descending=True)
)

EMPLOYER = declare(Entity(
    "Employer", EMPLOYERS, public, key=EMPLOYERS.c.id,  # no personal data
    filters={
        "region_code": region_rule(EMPLOYERS.c.region_code),
        "industry_code": industry_rule(EMPLOYERS.c.industry_code),
        "keyword": keyword_rule(EMPLOYERS.c.name),
        "size": equals_rule(EMPLOYERS.c.size),
        "verified": is_set_rule(EMPLOYERS.c.verified_at),
    },
    orderings={"CREATED_AT": EMPLOYERS.c.created_at, "NAME": EMPLOYERS.c.name},
    relations=(EMPLOYER_INDUSTRY, EMPLOYER_REGION, EMPLOYER_JOBS, EMPLOYER_TRAININGS),
))
