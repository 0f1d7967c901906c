"""What the audit-event list's filter means in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, any_, literal

from db.models import AuditEvent
from db.models.base import table_of
from resolvers.filters import check_range

if TYPE_CHECKING:
    from schema.audit import AuditEventFilter

AUDIT_EVENTS = table_of(AuditEvent)


def audit_event_conditions(filter: AuditEventFilter | None) -> list[ColumnElement[bool]]:
    if filter is None:
        return []
    where: list[ColumnElement[Any]] = []
    if filter.actor is not None:
        where.append(AUDIT_EVENTS.c.actor == filter.actor)
    if filter.operation is not None:
        where.append(AUDIT_EVENTS.c.operation == filter.operation)
    if filter.record_id is not None:
        where.append(literal(str(filter.record_id)) == any_(AUDIT_EVENTS.c.record_ids))
    check_range(filter.from_, filter.to, "filter.from")
    if filter.from_ is not None:
        where.append(AUDIT_EVENTS.c.at >= filter.from_)
    if filter.to is not None:
        where.append(AUDIT_EVENTS.c.at < filter.to)
    return where
