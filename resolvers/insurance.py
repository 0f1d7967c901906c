"""What the insurance-record list's filter means in SQL."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from db.models import InsuranceRecord
from db.models.base import table_of
from resolvers.errors import BadArgument
from resolvers.filters import (
    Rule,
    check_range,
    equals_rule,
    filter_conditions,
    node_rule,
    region_rule,
)
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from schema.insurance import InsuranceRecordFilter

RECORDS = table_of(InsuranceRecord)


def parse_month(text: str, argument: str) -> date:
    """A filter bound such as `2024-03` (future months are fine in a filter)."""
    match = re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", text)
    if match is None:
        raise BadArgument(argument, f"'{text[:16]}' is not a month like 2024-03")
    return date(int(match[1]), int(match[2]), 1)


def month_rule(column: ColumnElement[Any], at_most: bool) -> Rule:
    async def rule(_loaders: Loaders, text: str, argument: str) -> ColumnElement[bool]:
        month = parse_month(text, argument)
        return column <= month if at_most else column >= month

    return rule


INSURANCE_RECORD_FILTER: dict[str, Rule] = {
    "worker_id": node_rule(RECORDS.c.worker_id, "Worker"),
    "employer_id": node_rule(RECORDS.c.employer_id, "Employer"),
    "region_code": region_rule(RECORDS.c.region_code),
    "insurance_type": equals_rule(RECORDS.c.insurance_type),
    "status": equals_rule(RECORDS.c.status),
    "from_": month_rule(RECORDS.c.period, at_most=False),
    "to": month_rule(RECORDS.c.period, at_most=True),
}


async def insurance_record_conditions(
    loaders: Loaders, filter: InsuranceRecordFilter | None
) -> list[ColumnElement[bool]]:
    where = await filter_conditions(loaders, filter, INSURANCE_RECORD_FILTER)
    if filter is not None:  # both bounds are well-formed by now: YYYY-MM compares as text
        check_range(filter.from_, filter.to, "filter.from")
    return where
