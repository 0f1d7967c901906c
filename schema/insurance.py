"""Monthly social-insurance contributions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from db.models.enums import ContributionStatus, InsuranceType
from schema.connections import OrderDirection
from schema.context import Info
from schema.node import Node, load_node, load_required
from schema.reference import Region
from schema.worker_records import WorkerRecord

if TYPE_CHECKING:
    from schema.employers import Employer

strawberry.enum(InsuranceType)
strawberry.enum(ContributionStatus)


@strawberry.type(description="One month's contribution to one insurance in one pooling region.")
class InsuranceRecord(Node, WorkerRecord):
    employer_id: strawberry.Private[int | None]
    insurance_type: InsuranceType
    region_code: strawberry.Private[str]
    period: strawberry.Private[date]
    contribution_base: Decimal
    employer_amount: Decimal
    personal_amount: Decimal
    status: ContributionStatus

    @strawberry.field(name="period", description="The month contributed for, as YYYY-MM.")
    def period_label(self) -> str:
        return self.period.strftime("%Y-%m")


    @strawberry.field(description="Null for flexible employment (the worker pays alone).")
    async def employer(
        self, info: Info
    ) -> Annotated[Employer, strawberry.lazy("schema.employers")] | None:
        from schema.employers import Employer

        key = self.employer_id
        return None if key is None else await load_node(info, Employer, key)

    @strawberry.field(description="The pooling region (统筹地区).")
    async def region(self, info: Info) -> Region:
        return await load_required(info, Region, self.region_code)


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


@strawberry.enum
class InsuranceRecordOrderField(Enum):
    PERIOD = "period"


@strawberry.input
class InsuranceRecordOrder:
    field: InsuranceRecordOrderField = InsuranceRecordOrderField.PERIOD
    direction: OrderDirection = OrderDirection.DESC
