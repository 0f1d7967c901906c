"""What the insurance-record list's filter means in SQL."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from db.models import InsuranceRecord
from db.models.base import table_of
from resolvers.errors import BadArgument
from resolvers.filters import check_range, in_region
from resolvers.global_ids import decode_int_id
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


async def insurance_record_conditions(
    loaders: Loaders, filter: InsuranceRecordFilter | None
) -> list[ColumnElement[bool]]:
    if filter is None:
        return []
    where: list[ColumnElement[Any]] = []
    if filter.worker_id is not None:
        where.append(
            RECORDS.c.worker_id == decode_int_id(filter.worker_id, "Worker", "filter.workerId")
        )
    if filter.employer_id is not None:
        where.append(
            RECORDS.c.employer_id
            == decode_int_id(filter.employer_id, "Employer", "filter.employerId")
        )
    if filter.region_code is not None:
        where.append(
            await in_region(loaders, RECORDS.c.region_code, filter.region_code,
                            "filter.regionCode")
        )
    if filter.insurance_type is not None:
        where.append(RECORDS.c.insurance_type == filter.insurance_type)
    if filter.status is not None:
        where.append(RECORDS.c.status == filter.status)
    start = None if filter.from_ is None else parse_month(filter.from_, "filter.from")
    end = None if filter.to is None else parse_month(filter.to, "filter.to")
    check_range(start, end, "filter.from")
    if start is not None:
        where.append(RECORDS.c.period >= start)
    if end is not None:
        where.append(RECORDS.c.period <= end)
    return where
