"""Every one-to-many relation the schema exposes, declared once."""

from __future__ import annotations

from db.models import (
    Application,
    Enrollment,
    Industry,
    InsuranceRecord,
    Job,
    JobIntention,
    Region,
    Training,
    WorkerSkill,
)
from db.models.base import table_of
from db.models.enums import EnrollmentStatus
from resolvers.loaders import Relation

EMPLOYER_JOBS = Relation(table_of(Job), "employer_id")
EMPLOYER_TRAININGS = Relation(table_of(Training), "partner_employer_id")
JOB_APPLICATIONS = Relation(table_of(Application), "job_id")
WORKER_APPLICATIONS = Relation(table_of(Application), "worker_id")
WORKER_ENROLLMENTS = Relation(table_of(Enrollment), "worker_id")
WORKER_INSURANCE_RECORDS = Relation(table_of(InsuranceRecord), "worker_id")
WORKER_SKILLS = Relation(table_of(WorkerSkill), "worker_id")
WORKER_JOB_INTENTIONS = Relation(table_of(JobIntention), "worker_id")
TRAINING_ENROLLMENTS = Relation(table_of(Enrollment), "training_id")
TRAINING_ACTIVE_ENROLLMENTS = Relation(
    table_of(Enrollment),
    "training_id",
    where=(table_of(Enrollment).c.status != EnrollmentStatus.DROPPED,),
    name="enrollments.training_id.not_dropped",
)
REGION_CHILDREN = Relation(table_of(Region), "parent_code")
INDUSTRY_CHILDREN = Relation(table_of(Industry), "parent_code")
