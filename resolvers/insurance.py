"""Monthly social-insurance contributions, declared."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Column, ColumnElement, and_, false, func

from db.models import InsuranceRecord
from db.models.base import table_of
from resolvers.access import Role, Viewer
from resolvers.catalog import declare
from resolvers.declarations import Condition, Derived, Entity, Range, Rule, ToOne
from resolvers.errors import BadArgument
from resolvers.filters import bound_rule, equals_rule, node_rule, region_rule
from resolvers.policies import has_live_consent, in_partner_regions, in_staff_division
from resolvers.viewer_parameters import viewer_id

if TYPE_CHECKING:
    pass

RECORDS = table_of(InsuranceRecord)


def insurance_record_policy(viewer: Viewer) -> Condition:
    if viewer.role is Role.WORKER:
        return RECORDS.c.worker_id == viewer_id(viewer, "worker_id")
    if viewer.role is Role.EMPLOYER:
        return RECORDS.c.employer_id == viewer_id(viewer, "employer_id")
    if viewer.role is Role.STAFF and viewer.region_code:
        return in_staff_division(RECORDS.c.region_code, viewer)
    if viewer.partner is not None:
        return and_(
            in_partner_regions(RECORDS.c.region_code, viewer.partner),
            has_live_consent(RECORDS.c.worker_id, viewer.partner),
        )
    return false()


def parse_month(text: str, argument: str) -> date:
    """A filter bound such as `2024-03` (future months are fine in a filter)."""
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
    if match is None:
        raise BadArgument(argument, f"'{text[:16]}' is not a month like 2024-03")
    return date(int(match[1]), int(match[2]), 1)


def month_rule(column: Column[Any], at_most: bool) -> Rule:
    def over(month: ColumnElement[Any]) -> Condition:
        return column <= month if at_most else column >= month

    return bound_rule(column, over, parse_month)


RECORD_EMPLOYER = ToOne("Employer", RECORDS.c.employer_id)
RECORD_REGION = ToOne("Region", RECORDS.c.region_code)
RECORD_WORKER = ToOne("Worker", RECORDS.c.worker_id)
RECORD_PERIOD = Derived(
    lambda record, _viewer: record.period.strftime("%Y-%m"),  # the month, as YYYY-MM
    lambda row, _viewer: func.to_char(row.c.period, "YYYY-MM"),
)

INSURANCE_RECORD = declare(Entity(
    "InsuranceRecord", RECORDS, insurance_record_policy, key=RECORDS.c.id, personal=True,
    filters={
        "worker_id": node_rule(RECORD_WORKER),
        "employer_id": node_rule(RECORD_EMPLOYER),
        "region_code": region_rule(RECORDS.c.region_code),
        "insurance_type": equals_rule(RECORDS.c.insurance_type),
        "status": equals_rule(RECORDS.c.status),
        "from_": month_rule(RECORDS.c.period, at_most=False),
        "to": month_rule(RECORDS.c.period, at_most=True),
    },
    # Both bounds are well-formed by the time the range is checked: YYYY-MM compares as text.
    ranges=(Range("from_", "to"),),
    orderings={"PERIOD": RECORDS.c.period},
    relations=(RECORD_EMPLOYER, RECORD_REGION, RECORD_WORKER),
))
