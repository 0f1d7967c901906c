"""All tables; importing this package registers them on `Base.metadata`."""

from db.models.access import ApiKey, Consent, PersistedDocument
from db.models.audit import AuditEvent
from db.models.base import Base
from db.models.employers import Employer
from db.models.idempotency import IdempotencyKey
from db.models.insurance import InsuranceRecord
from db.models.job_reports import JobReport
from db.models.jobs import Application, Job, Placement
from db.models.rate_limits import RateBucket
from db.models.reference import Industry, Occupation, OccupationGroup, Region, Skill
from db.models.trainings import Enrollment, Training
from db.models.workers import JobIntention, SkillSurvey, SurveyOccupation, Worker, WorkerSkill

__all__ = [
    "ApiKey",
    "Application",
    "AuditEvent",
    "Base",
    "Consent",
    "Employer",
    "Enrollment",
    "IdempotencyKey",
    "Industry",
    "InsuranceRecord",
    "Job",
    "JobIntention",
    "JobReport",
    "Occupation",
    "OccupationGroup",
    "PersistedDocument",
    "Placement",
    "RateBucket",
    "Region",
    "Skill",
    "SkillSurvey",
    "SurveyOccupation",
    "Training",
    "Worker",
    "WorkerSkill",
]
