"""Which table backs each GraphQL data type, and which of them hold personal data.

The one place these facts live. The node lookup (`resolvers.nodes`), the partner agreement
check (`resolvers.agreements`) and the audit of partner reads (`resolvers.loaders`,
`resolvers.privacy`) all derive from it, so they cannot disagree.

Personal data is the `workers` table and every table with a foreign key to it (a row that
belongs to a worker: applications, enrollments, contributions, intentions, skills, consents),
found from the models' foreign keys, so a new worker record is personal data without anyone
listing it here; and the audit trail, which names who read what from which address.
"""

from __future__ import annotations

from sqlalchemy import Table

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
    WorkerSkill,
)
from db.models.base import table_of

WORKERS = table_of(Worker)

# Object types with a global ID (the Relay `Node` types), by GraphQL type name.
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
    "Worker": WORKERS,
}

# Object types without an ID of their own: a row of a worker, audited as that worker.
WORKER_PART_TABLES: dict[str, Table] = {"WorkerSkill": table_of(WorkerSkill)}

TYPE_TABLES: dict[str, Table] = {**NODE_TABLES, **WORKER_PART_TABLES}


def belongs_to_a_worker(table: Table) -> bool:
    return any(key.column.table is WORKERS for key in table.foreign_keys)


PERSONAL_DATA_TABLES: frozenset[str] = frozenset(
    table.name
    for table in TYPE_TABLES.values()
    if table is WORKERS or belongs_to_a_worker(table) or table is table_of(AuditEvent)
)
PERSONAL_DATA_TYPES: frozenset[str] = frozenset(
    name for name, table in TYPE_TABLES.items() if table.name in PERSONAL_DATA_TABLES
)


def _audited_as(type_name: str) -> tuple[str, str]:
    if type_name in NODE_TABLES:
        return type_name, "id"
    return "Worker", "worker_id"


# A partner's read of a personal-data row is audited as the global ID (type, key column) of
# that row, or, for a row without an ID of its own, of the worker it belongs to.
AUDITED_AS: dict[str, tuple[str, str]] = {
    table.name: _audited_as(name)
    for name, table in TYPE_TABLES.items()
    if table.name in PERSONAL_DATA_TABLES
}
