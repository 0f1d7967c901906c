"""What the training list's filter means in SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement

from db.models import Training
from db.models.base import table_of
from resolvers.filters import (
    Rule,
    at_least_rule,
    at_most_rule,
    check_range,
    equals_rule,
    filter_conditions,
    keyword_rule,
    occupation_rule,
    region_rule,
)
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from schema.trainings import TrainingFilter

TRAININGS = table_of(Training)

TRAINING_FILTER: dict[str, Rule] = {
    "region_code": region_rule(TRAININGS.c.region_code),
    "occupation_code": occupation_rule(TRAININGS.c.occupation_code),
    "kind": equals_rule(TRAININGS.c.kind),
    "mode": equals_rule(TRAININGS.c.mode),
    "subsidised": equals_rule(TRAININGS.c.subsidised),
    "from_": at_least_rule(TRAININGS.c.ends_on),  # still running on or after that day
    "to": at_most_rule(TRAININGS.c.starts_on),  # started on or before that day
    "keyword": keyword_rule(TRAININGS.c.title),
}


async def training_conditions(
    loaders: Loaders, filter: TrainingFilter | None
) -> list[ColumnElement[bool]]:
    where = await filter_conditions(loaders, filter, TRAINING_FILTER)
    if filter is not None:
        check_range(filter.from_, filter.to, "filter.from")
    return where
