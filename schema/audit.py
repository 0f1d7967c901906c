"""The audit trail of personal-data reads (admins only: the row policy hides it from everyone
else)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.audit import AUDIT_EVENT
from schema.fields import listed
from schema.node import Node


@strawberry.type(description="One audited read of personal data (append-only).")
class AuditEvent(Node):
    actor: str
    role: str
    operation: str
    record_ids: list[str]
    sensitive_fields: list[str]
    purpose: str | None
    client_address: str | None
    at: datetime


@strawberry.input(description="Narrows the audit trail; all given conditions must hold.")
class AuditEventFilter:
    actor: str | None = None
    operation: str | None = None
    record_id: strawberry.ID | None = strawberry.field(
        default=None, description="Events that touched this global ID."
    )
    from_: datetime | None = strawberry.field(default=None, name="from", description="Inclusive.")
    to: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.type
class AuditQuery:
    audit_events = listed(
        AUDIT_EVENT, AuditEventFilter, "Audited reads of personal data, newest first (admins)."
    )
