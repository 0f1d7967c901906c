"""What the training list's filter means in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement

from db.models import Training
from db.models.base import table_of
from resolvers.filters import check_range, contains_keyword, in_region, is_occupation
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from schema.trainings import TrainingFilter

TRAININGS = table_of(Training)


async def training_conditions(
    loaders: Loaders, filter: TrainingFilter | None
) -> list[ColumnElement[bool]]:
    if filter is None:
        return []
    where: list[ColumnElement[Any]] = []
    if filter.region_code is not None:
        where.append(
            await in_region(loaders, TRAININGS.c.region_code, filter.region_code,
                            "filter.regionCode")
        )
    if filter.occupation_code is not None:
        where.append(
            await is_occupation(loaders, TRAININGS.c.occupation_code, filter.occupation_code,
                                "filter.occupationCode")
        )
    if filter.kind is not None:
        where.append(TRAININGS.c.kind == filter.kind)
    if filter.mode is not None:
        where.append(TRAININGS.c.mode == filter.mode)
    if filter.subsidised is not None:
        where.append(TRAININGS.c.subsidised == filter.subsidised)
    check_range(filter.from_, filter.to, "filter.from")
    if filter.from_ is not None:  # still running on or after that day
        where.append(TRAININGS.c.ends_on >= filter.from_)
    if filter.to is not None:  # started on or before that day
        where.append(TRAININGS.c.starts_on <= filter.to)
    if filter.keyword is not None:
        where.append(contains_keyword(TRAININGS.c.title, filter.keyword, "filter.keyword"))
    return where
