"""Monthly social-insurance contributions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry

from db.models.enums import ContributionStatus, InsuranceType
from resolvers.insurance import (
    INSURANCE_RECORD,
    RECORD_EMPLOYER,
    RECORD_PERIOD,
    RECORD_REGION,
    RECORD_WORKER,
)
from schema.fields import derived, listed, to_one
from schema.node import Node

strawberry.enum(InsuranceType)
strawberry.enum(ContributionStatus)


@strawberry.type(description="One month's contribution to one insurance in one pooling region.")
class InsuranceRecord(Node):
    worker_id: strawberry.Private[int]
    employer_id: strawberry.Private[int | None]
    insurance_type: InsuranceType
    region_code: strawberry.Private[str]
    period: strawberry.Private[date]
    contribution_base: Decimal
    employer_amount: Decimal
    personal_amount: Decimal
    status: ContributionStatus
    worker = to_one(RECORD_WORKER, "Null when the viewer may not see this worker.")

    period_label = derived(
        RECORD_PERIOD, str, "The month contributed for, as YYYY-MM.", name="period"
    )

    employer = to_one(RECORD_EMPLOYER, "Null for flexible employment (the worker pays alone).")
    region = to_one(RECORD_REGION, "The pooling region (统筹地区).")


@strawberry.input(description="Narrows the insurance-record list; all given conditions must hold.")
class InsuranceRecordFilter:
    worker_id: strawberry.ID | None = None
    employer_id: strawberry.ID | None = None
    region_code: str | None = strawberry.field(
        default=None, description="A pooling region code; matches everything under it."
    )
    insurance_type: InsuranceType | None = None
    status: ContributionStatus | None = None
    from_: str | None = strawberry.field(
        default=None, name="from", description="YYYY-MM, inclusive."
    )
    to: str | None = strawberry.field(default=None, description="YYYY-MM, inclusive.")


@strawberry.type
class InsuranceQuery:
    insurance_records = listed(
        INSURANCE_RECORD, InsuranceRecordFilter,
        "Social-insurance contributions, latest month first.",
    )
