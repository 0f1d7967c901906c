"""What the audit-event list's filter means in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement

from db.models import AuditEvent
from db.models.base import table_of
from resolvers.filters import (
    Rule,
    at_least_rule,
    below_rule,
    check_range,
    contains_global_id_rule,
    equals_rule,
    filter_conditions,
)
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from schema.audit import AuditEventFilter

AUDIT_EVENTS = table_of(AuditEvent)

AUDIT_EVENT_FILTER: dict[str, Rule] = {
    "actor": equals_rule(AUDIT_EVENTS.c.actor),
    "operation": equals_rule(AUDIT_EVENTS.c.operation),
    "record_id": contains_global_id_rule(AUDIT_EVENTS.c.record_ids),
    "from_": at_least_rule(AUDIT_EVENTS.c.at),
    "to": below_rule(AUDIT_EVENTS.c.at),
}


async def audit_event_conditions(
    loaders: Loaders, filter: AuditEventFilter | None
) -> list[ColumnElement[bool]]:
    where = await filter_conditions(loaders, filter, AUDIT_EVENT_FILTER)
    if filter is not None:
        check_range(filter.from_, filter.to, "filter.from")
    return where
