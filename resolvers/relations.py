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
from db.models.enums import EnrollmentStatus
from resolvers.loaders import Relation

EMPLOYER_JOBS = Relation(Job.__table__, "employer_id")
EMPLOYER_TRAININGS = Relation(Training.__table__, "partner_employer_id")
JOB_APPLICATIONS = Relation(Application.__table__, "job_id")
WORKER_APPLICATIONS = Relation(Application.__table__, "worker_id")
WORKER_ENROLLMENTS = Relation(Enrollment.__table__, "worker_id")
WORKER_INSURANCE_RECORDS = Relation(InsuranceRecord.__table__, "worker_id")
WORKER_SKILLS = Relation(WorkerSkill.__table__, "worker_id")
WORKER_JOB_INTENTIONS = Relation(JobIntention.__table__, "worker_id")
TRAINING_ENROLLMENTS = Relation(Enrollment.__table__, "training_id")
TRAINING_ACTIVE_ENROLLMENTS = Relation(
    Enrollment.__table__,
    "training_id",
    where=(Enrollment.__table__.c.status != EnrollmentStatus.DROPPED,),
    name="enrollments.training_id.not_dropped",
)
REGION_CHILDREN = Relation(Region.__table__, "parent_code")
INDUSTRY_CHILDREN = Relation(Industry.__table__, "parent_code")
