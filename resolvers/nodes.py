"""Global-ID lookups: which table holds each node type, and how its key is spelled."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import RowMapping

from db.models import (
    Application,
    AuditEvent,
    Consent,
    Employer,
    Enrollment,
    Industry,
    InsuranceRecord,
    Job,
    JobIntention,
    Occupation,
    Region,
    Skill,
    Training,
    Worker,
)
from db.models.base import table_of
from resolvers.global_ids import code_key, int_key
from resolvers.loaders import Loaders

NODE_TABLES: dict[str, Table] = {
    "Application": table_of(Application),
    "AuditEvent": table_of(AuditEvent),
    "Consent": table_of(Consent),
    "Employer": table_of(Employer),
    "Enrollment": table_of(Enrollment),
    "Industry": table_of(Industry),
    "InsuranceRecord": table_of(InsuranceRecord),
    "Job": table_of(Job),
    "JobIntention": table_of(JobIntention),
    "Occupation": table_of(Occupation),
    "Region": table_of(Region),
    "Skill": table_of(Skill),
    "Training": table_of(Training),
    "Worker": table_of(Worker),
}


def key_column(type_name: str) -> str:
    return "id" if "id" in NODE_TABLES[type_name].c else "code"


def parse_key(type_name: str, text: str) -> Any | None:
    """The typed key behind a global ID's text, or None when it is not one the type can have
    (written canonically: see `resolvers.global_ids`)."""
    if key_column(type_name) == "code":
        return code_key(type_name, text)
    return int_key(text)


async def load_row(loaders: Loaders, type_name: str, key: Any) -> RowMapping | None:
    return await loaders.row_by_key(NODE_TABLES[type_name], key_column(type_name)).load(key)
