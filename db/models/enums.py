"""Closed vocabularies of the domain. Values are what the database stores."""

from __future__ import annotations

import enum


class RegionLevel(enum.Enum):
    PROVINCE = "province"
    PREFECTURE = "prefecture"
    COUNTY = "county"


class Gender(enum.Enum):
    MALE = "male"
    FEMALE = "female"


class EducationLevel(enum.Enum):
    NONE = "none"
    PRIMARY = "primary"
    JUNIOR_SECONDARY = "junior_secondary"
    SENIOR_SECONDARY = "senior_secondary"
    VOCATIONAL = "vocational"
    JUNIOR_COLLEGE = "junior_college"
    BACHELOR = "bachelor"
    POSTGRADUATE = "postgraduate"


class EmployerSize(enum.Enum):
    MICRO = "micro"
    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


class SalaryUnit(enum.Enum):
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    PIECE = "piece"


class EmploymentType(enum.Enum):
    FULL_TIME = "full_time"
    PART_TIME = "part_time"
    SEASONAL = "seasonal"
    GIG = "gig"


class JobStatus(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"
    EXPIRED = "expired"


class ApplicationStatus(enum.Enum):
    SUBMITTED = "submitted"
    SHORTLISTED = "shortlisted"
    REJECTED = "rejected"
    HIRED = "hired"
    WITHDRAWN = "withdrawn"


class JobReportReason(enum.Enum):
    """Why a user reports a job posting."""

    CHARGES_FEES = "charges_fees"  # asks applicants for money (deposits, training fees...)
    FAKE = "fake"
    DISCRIMINATION = "discrimination"
    WRONG_INFO = "wrong_info"
    OTHER = "other"


class JobReportStatus(enum.Enum):
    """A report is open until staff review the job's reports."""

    OPEN = "open"
    DISMISSED = "dismissed"
    TAKEN_DOWN = "taken_down"


class TrainingKind(enum.Enum):
    EMPLOYMENT_SKILLS = "employment_skills"
    JOB_SKILLS_IMPROVEMENT = "job_skills_improvement"
    ENTREPRENEURSHIP = "entrepreneurship"


class TrainingMode(enum.Enum):
    OPEN = "open"  # open to every worker who signs up
    ORDER_BASED = "order_based"
    TARGETED = "targeted"
    PROJECT_BASED = "project_based"


class EnrollmentStatus(enum.Enum):
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    DROPPED = "dropped"


class InsuranceType(enum.Enum):
    PENSION = "pension"
    MEDICAL = "medical"
    UNEMPLOYMENT = "unemployment"
    WORK_INJURY = "work_injury"
    MATERNITY = "maternity"


class ContributionStatus(enum.Enum):
    PAID = "paid"
    ARREARS = "arrears"
    BACK_PAID = "back_paid"
