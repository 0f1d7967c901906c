"""Inputs of the audit-trail list (admins only: the row policy hides it from everyone else)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from schema.connections import OrderDirection


@strawberry.input(description="Narrows the audit trail; all given conditions must hold.")
class AuditEventFilter:
    actor: str | None = None
    operation: str | None = None
    record_id: strawberry.ID | None = strawberry.field(
        default=None, description="Events that touched this global ID."
    )
    from_: datetime | None = strawberry.field(default=None, name="from", description="Inclusive.")
    to: datetime | None = strawberry.field(default=None, description="Exclusive.")


@strawberry.enum
class AuditEventOrderField(Enum):
    AT = "at"


@strawberry.input
class AuditEventOrder:
    field: AuditEventOrderField = AuditEventOrderField.AT
    direction: OrderDirection = OrderDirection.DESC
