"""The audit trail of personal-data reads and writes, declared: admins only (the policy shows
it to nobody else), itself personal data (it names who read what from which address); and
appending to it (`record_audit_event`), inside the transaction of the read or write."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from db.models import AuditEvent
from db.models.base import table_of
from resolvers.access import Viewer
from resolvers.catalog import declare
from resolvers.declarations import Entity, Range
from resolvers.filters import at_least_rule, below_rule, contains_global_id_rule, equals_rule
from resolvers.policies import nobody

AUDIT_EVENTS = table_of(AuditEvent)

AUDIT_EVENT = declare(Entity(
    "AuditEvent", AUDIT_EVENTS, nobody, key=AUDIT_EVENTS.c.id, personal=True,
    filters={
        "actor": equals_rule(AUDIT_EVENTS.c.actor),
        "operation": equals_rule(AUDIT_EVENTS.c.operation),
        "record_id": contains_global_id_rule(AUDIT_EVENTS.c.record_ids),
        "from_": at_least_rule(AUDIT_EVENTS.c.at),
        "to": below_rule(AUDIT_EVENTS.c.at),
    },
    ranges=(Range("from_", "to"),),
    orderings={"AT": AUDIT_EVENTS.c.at},
))


async def record_audit_event(
    connection: AsyncConnection,
    viewer: Viewer,
    operation: str,
    record_ids: Sequence[str],
    sensitive_fields: Sequence[str],
    purpose: str | None,
) -> None:
    """Append one audit event inside the caller's transaction."""
    await connection.execute(
        insert(AUDIT_EVENTS).values(
            actor=viewer.principal,
            role=viewer.role.value,
            operation=operation,
            record_ids=list(record_ids),
            sensitive_fields=list(sensitive_fields),
            purpose=purpose,
            client_address=viewer.client_address,
        )
    )
