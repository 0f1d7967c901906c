"""Workers, declared, with what is theirs (skills, job intentions, consents, skill surveys), and
who sees which part of a birth date."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    FromClause,
    Integer,
    and_,
    case,
    cast,
    extract,
    false,
    func,
    null,
    or_,
    select,
)

from db.models import (
    Application,
    Consent,
    Enrollment,
    InsuranceRecord,
    Job,
    JobIntention,
    SkillSurvey,
    Worker,
    WorkerSkill,
)
from db.models.base import table_of
from resolvers.access import Role, Viewer
from resolvers.catalog import declare
from resolvers.declarations import Condition, Derived, Entity, FirstOf, Range, ToMany, ToOne
from resolvers.filters import (
    at_least_rule,
    below_rule,
    equals_rule,
    keyword_rule,
    node_rule,
    region_rule,
)
from resolvers.pagination import Ordering
from resolvers.policies import (
    has_live_consent,
    in_partner_regions,
    in_staff_division,
    owned_by_visible,
)
from resolvers.viewer_parameters import viewer_id

WORKERS = table_of(Worker)
SKILLS = table_of(WorkerSkill)
INTENTIONS = table_of(JobIntention)
CONSENTS = table_of(Consent)
APPLICATIONS = table_of(Application)
ENROLLMENTS = table_of(Enrollment)
RECORDS = table_of(InsuranceRecord)
JOBS = table_of(Job)
SURVEYS = table_of(SkillSurvey)


def worker_policy(viewer: Viewer) -> Condition:
    if viewer.role is Role.WORKER:
        return WORKERS.c.id == viewer_id(viewer, "worker_id")
    if viewer.role is Role.EMPLOYER:
        applicants = (
            select(APPLICATIONS.c.worker_id)
            .join(JOBS, JOBS.c.id == APPLICATIONS.c.job_id)
            .where(JOBS.c.employer_id == viewer_id(viewer, "employer_id"))
        )
        return WORKERS.c.id.in_(applicants)
    if viewer.role is Role.STAFF and viewer.region_code:
        return or_(
            in_staff_division(WORKERS.c.current_region_code, viewer),
            in_staff_division(WORKERS.c.hukou_region_code, viewer),
        )
    if viewer.partner is not None:
        return and_(
            in_partner_regions(WORKERS.c.current_region_code, viewer.partner),
            has_live_consent(WORKERS.c.id, viewer.partner),
        )
    return false()


def consent_policy(viewer: Viewer) -> Condition:
    if viewer.role is Role.WORKER:
        return CONSENTS.c.worker_id == viewer_id(viewer, "worker_id")
    if viewer.role is Role.STAFF:
        return owned_by_visible(CONSENTS.c.worker_id, WORKERS, worker_policy)(viewer)
    return false()


def survey_policy(viewer: Viewer) -> Condition:
    """A worker's surveys: their own, and where the worker is seen (staff of their division,
    partners with consent), but never an employer's: surveys are not shared with employers."""
    if viewer.role is Role.WORKER:
        return SURVEYS.c.worker_id == viewer_id(viewer, "worker_id")
    if viewer.role is Role.EMPLOYER:
        return false()
    return owned_by_visible(SURVEYS.c.worker_id, WORKERS, worker_policy)(viewer)


WORKER_HUKOU_REGION = ToOne("Region", WORKERS.c.hukou_region_code)
WORKER_CURRENT_REGION = ToOne("Region", WORKERS.c.current_region_code)
WORKER_SKILLS = ToMany("WorkerSkill", SKILLS.c.worker_id)
WORKER_JOB_INTENTIONS = ToMany("JobIntention", INTENTIONS.c.worker_id)
WORKER_APPLICATIONS = ToMany(
    "Application", APPLICATIONS.c.worker_id,
    Ordering.of(APPLICATIONS.c.submitted_at, descending=True),
)
WORKER_ENROLLMENTS = ToMany(
    "Enrollment", ENROLLMENTS.c.worker_id, Ordering.of(ENROLLMENTS.c.enrolled_at, descending=True)
)
WORKER_INSURANCE_RECORDS = ToMany(
    "InsuranceRecord", RECORDS.c.worker_id, Ordering.of(RECORDS.c.period, descending=True)
)
WORKER_SURVEYS = ToMany(
    "SkillSurvey", SURVEYS.c.worker_id, Ordering.of(SURVEYS.c.surveyed_at, descending=True)
)
WORKER_LATEST_SURVEY = FirstOf(WORKER_SURVEYS)
SKILL_OF_WORKER = ToOne("Skill", SKILLS.c.skill_code)
SKILL_OWNER = ToOne("Worker", SKILLS.c.worker_id)
INTENTION_OCCUPATION = ToOne("Occupation", INTENTIONS.c.occupation_code)
INTENTION_REGION = ToOne("Region", INTENTIONS.c.region_code)
SURVEY_WORKER = ToOne("Worker", SURVEYS.c.worker_id)

WORKER = declare(Entity(
    "Worker", WORKERS, worker_policy, key=WORKERS.c.id, personal=True,
    filters={
        "region_code": region_rule(WORKERS.c.current_region_code),
        "hukou_region_code": region_rule(WORKERS.c.hukou_region_code),
        "keyword": keyword_rule(WORKERS.c.name),
        "gender": equals_rule(WORKERS.c.gender),
        "education_level": equals_rule(WORKERS.c.education_level),
        "new_employment_form": equals_rule(WORKERS.c.new_employment_form),
    },
    orderings={"CREATED_AT": WORKERS.c.created_at, "NAME": WORKERS.c.name},
    relations=(
        WORKER_HUKOU_REGION, WORKER_CURRENT_REGION, WORKER_SKILLS, WORKER_JOB_INTENTIONS,
        WORKER_APPLICATIONS, WORKER_ENROLLMENTS, WORKER_INSURANCE_RECORDS, WORKER_SURVEYS,
    ),
))
WORKER_SKILL = declare(Entity(
    "WorkerSkill", SKILLS, owned_by_visible(SKILLS.c.worker_id, WORKERS, worker_policy),
    key=None, personal=True, audited_as=SKILL_OWNER, relations=(SKILL_OF_WORKER, SKILL_OWNER),
))
JOB_INTENTION = declare(Entity(
    "JobIntention", INTENTIONS, owned_by_visible(INTENTIONS.c.worker_id, WORKERS, worker_policy),
    key=INTENTIONS.c.id, personal=True, relations=(INTENTION_OCCUPATION, INTENTION_REGION),
))
CONSENT = declare(Entity(
    "Consent", CONSENTS, consent_policy, key=CONSENTS.c.id, personal=True
))
SKILL_SURVEY = declare(Entity(
    "SkillSurvey", SURVEYS, survey_policy, key=SURVEYS.c.id, personal=True,
    filters={
        "worker_id": node_rule(SURVEY_WORKER),
        "surveyed_after": at_least_rule(SURVEYS.c.surveyed_at),
        "surveyed_before": below_rule(SURVEYS.c.surveyed_at),
        "willing_to_relocate": equals_rule(SURVEYS.c.willing_to_relocate),
    },
    ranges=(Range("surveyed_after", "surveyed_before"),),
    orderings={"SURVEYED_AT": SURVEYS.c.surveyed_at},
    relations=(SURVEY_WORKER,),
))


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


def _own_birth_date_sql(row: FromClause, viewer: Viewer) -> ColumnElement[Any]:
    if viewer.role is not Role.WORKER or viewer.worker_id is None:
        return cast(null(), Date)
    own = row.c.id == viewer_id(viewer, "worker_id")
    return case((own, row.c.birth_date), else_=cast(null(), Date))


def age_this_year(birth_date: date, today: date | None = None) -> int:
    """The age the worker reaches this calendar year (Asia/Shanghai)."""
    return (today or datetime.now(CALENDAR).date()).year - birth_date.year


def _year(value: ColumnElement[Any]) -> ColumnElement[int]:
    return cast(extract("year", value), Integer)


WORKER_BIRTH_DATE = Derived(
    lambda worker, viewer: birth_date_for(viewer, worker.pk, worker.birth_date),
    _own_birth_date_sql,
)
WORKER_BIRTH_YEAR = Derived(
    lambda worker, _viewer: worker.birth_date.year,
    lambda row, _viewer: _year(row.c.birth_date),
)
WORKER_AGE = Derived(
    lambda worker, _viewer: age_this_year(worker.birth_date),
    lambda row, _viewer: (
        _year(func.timezone(str(CALENDAR), func.now())) - _year(row.c.birth_date)
    ),
)
