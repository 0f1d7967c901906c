"""The audit trail of personal-data reads, declared: admins only (the policy shows it to
nobody else), itself personal data (it names who read what from which address)."""

from __future__ import annotations

from db.models import AuditEvent
from db.models.base import table_of
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
