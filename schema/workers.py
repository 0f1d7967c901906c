"""Workers: identity (masked), regions, education, skills, intentions, skill surveys and their
records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from db.models.enums import EducationLevel, Gender
from resolvers.workers import (
    INTENTION_OCCUPATION,
    INTENTION_REGION,
    SKILL_OF_WORKER,
    SKILL_SURVEY,
    SURVEY_WORKER,
    WORKER,
    WORKER_AGE,
    WORKER_APPLICATIONS,
    WORKER_BIRTH_DATE,
    WORKER_BIRTH_YEAR,
    WORKER_CURRENT_REGION,
    WORKER_ENROLLMENTS,
    WORKER_HUKOU_REGION,
    WORKER_INSURANCE_RECORDS,
    WORKER_JOB_INTENTIONS,
    WORKER_LATEST_SURVEY,
    WORKER_SKILLS,
    WORKER_SURVEYS,
)
from schema.fields import derived, first_of, listed, paged, to_many, to_one
from schema.node import Node, Record

strawberry.enum(Gender)
strawberry.enum(EducationLevel, description="Highest completed education.")


@strawberry.type(description="A skill a worker has, with a level from 1 (basic) to 5.")
class WorkerSkill(Record):
    worker_id: strawberry.Private[int]
    skill_code: strawberry.Private[str]
    level: int
    skill = to_one(SKILL_OF_WORKER)


@strawberry.type(description="What kind of job, where, and for how much a worker is looking.")
class JobIntention(Node):
    occupation_code: strawberry.Private[str | None]
    region_code: strawberry.Private[str | None]
    expected_salary: Decimal | None = strawberry.field(description="Monthly, in CNY.")
    occupation = to_one(INTENTION_OCCUPATION)
    region = to_one(INTENTION_REGION)


@strawberry.type(
    description="A skill survey (摸底) of a worker: what they can do, want and need, as surveyed "
    "at one time. Codes stay codes (the `skills`, `occupations` and `regions` lists name them)."
)
class SkillSurvey(Node):
    worker_id: strawberry.Private[int]
    skill_codes: list[str] = strawberry.field(description="Codes of the `skills` list.")
    intended_occupation_codes: list[str] = strawberry.field(
        description="Occupations sought (职业分类大典 codes, 6-18-02-04), first choice first."
    )
    intended_region_codes: list[str] = strawberry.field(
        description="Divisions the worker would work in (GB/T 2260), first choice first."
    )
    expected_salary: Decimal | None = strawberry.field(description="CNY a month.")
    willing_to_relocate: bool
    training_needs: str | None = strawberry.field(description="In the worker's words.")
    service_point: str | None = strawberry.field(
        description="The grassroots service point that surveyed; null when the worker filled "
        "it in themself."
    )
    surveyed_at: datetime
    created_at: datetime
    worker = to_one(SURVEY_WORKER, "Null when the viewer may not see this worker.")


@strawberry.type(description="A migrant worker. Identity numbers and phones are masked.")
class Worker(Node):
    name: str
    gender: Gender = strawberry.field(description="From the ID number's 17th digit.")
    birth_date: strawberry.Private[date]
    id_number_masked: str = strawberry.field(
        name="maskedIdNumber", description="First 6 and last 4 characters: 110105********002X."
    )
    phone_masked: str | None = strawberry.field(name="maskedPhone", description="138****5678.")
    hukou_region_code: strawberry.Private[str]
    current_region_code: strawberry.Private[str | None]
    education_level: EducationLevel
    new_employment_form: bool = strawberry.field(
        description="Works in a new employment form (platform delivery, ride-hailing...)."
    )
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(
        description="Goes up by one with each change; `updateWorker` names the version it read."
    )
    recommendation_opt_out: bool = strawberry.field(
        description="The worker refused automated recommendations (PIPL art. 24): no "
        "recommendation ranks them or is made for them. `setRecommendationPreference` sets it."
    )
    recommendation_preference_at: datetime | None = strawberry.field(
        description="When that preference was last set; null if never."
    )

    birth_date_shown = derived(
        WORKER_BIRTH_DATE, date | None,
        "The worker themself only; null for everyone else (with the masked ID number it "
        "would give the full number away). Others read birthYear and age.",
        name="birthDate",
    )
    birth_year = derived(WORKER_BIRTH_YEAR, int, "From the ID number.")
    age = derived(
        WORKER_AGE, int,
        "The age reached this calendar year (Asia/Shanghai): this year minus birthYear, not "
        "the age today, which would give the birthday away.",
    )
    hukou_region = to_one(
        WORKER_HUKOU_REGION, "Where the worker's household registration (户籍) is."
    )
    current_region = to_one(WORKER_CURRENT_REGION, "Where the worker lives and works now.")
    skills = to_many(WORKER_SKILLS)
    job_intentions = to_many(WORKER_JOB_INTENTIONS)
    applications = paged(WORKER_APPLICATIONS, "Applications the worker made, newest first.")
    enrollments = paged(WORKER_ENROLLMENTS, "Trainings the worker enrolled in, newest first.")
    insurance_records = paged(
        WORKER_INSURANCE_RECORDS, "Monthly social-insurance contributions, newest month first."
    )
    surveys = paged(WORKER_SURVEYS, "Skill surveys (摸底), newest first: the worker's history.")
    latest_survey = first_of(
        WORKER_LATEST_SURVEY, "The newest skill survey, the one matching reads; null if none."
    )


@strawberry.input(description="Narrows the worker list; all given conditions must hold.")
class WorkerFilter:
    region_code: str | None = strawberry.field(
        default=None, description="Current region, or any division under it."
    )
    hukou_region_code: str | None = None
    keyword: str | None = strawberry.field(default=None, description="Part of the name.")
    gender: Gender | None = None
    education_level: EducationLevel | None = None
    new_employment_form: bool | None = None


@strawberry.input(description="Narrows the skill-survey list; all given conditions must hold.")
class SkillSurveyFilter:
    worker_id: strawberry.ID | None = None
    surveyed_after: datetime | None = strawberry.field(default=None, description="Inclusive.")
    surveyed_before: datetime | None = strawberry.field(default=None, description="Exclusive.")
    willing_to_relocate: bool | None = None


@strawberry.type
class WorkerQuery:
    workers = listed(WORKER, WorkerFilter, "Workers, newest registration first by default.")
    skill_surveys = listed(
        SKILL_SURVEY, SkillSurveyFilter, "Skill surveys (摸底), newest first by default."
    )
