"""Every field of every `<Type>Filter` input has a rule, so none is silently ignored."""

from __future__ import annotations

import dataclasses

import pytest
import strawberry
from strawberry.types.base import StrawberryOptional, get_object_definition

from resolvers.declarations import Entity
from resolvers.filters import LOGIC
from resolvers.jobs import JOB
from schema import Query
from schema.fields import listed
from schema.jobs import JobFilter


def root_lists() -> list[tuple[str, Entity, type]]:
    """(field name, declared entity, filter input) of every root list with a filter."""
    found = []
    for field in get_object_definition(Query, strict=True).fields:
        entity = field.metadata.get("declaration") if field.metadata else None
        if not isinstance(entity, Entity):
            continue
        (argument,) = [a for a in field.arguments if a.python_name == "filter"]
        optional = argument.type
        assert isinstance(optional, StrawberryOptional), (field.python_name, optional)
        assert isinstance(optional.of_type, type), (field.python_name, optional.of_type)
        found.append((field.python_name, entity, optional.of_type))
    return found


def test_the_root_lists_are_declared() -> None:
    assert {name for name, _entity, _filter in root_lists()} == {
        "workers", "employers", "jobs", "placements", "trainings", "insurance_records",
        "audit_events", "job_reports", "skill_surveys",
    }


@pytest.mark.parametrize(("name", "entity", "filter_input"), root_lists())
def test_every_filter_field_has_a_rule(name: str, entity: Entity, filter_input: type) -> None:
    fields = {f.name for f in dataclasses.fields(filter_input)}
    assert fields == {*entity.filters, *LOGIC}, name


def test_a_filter_field_without_a_rule_is_refused_when_the_schema_is_made() -> None:
    @strawberry.input
    class LooseJobFilter(JobFilter):
        colour: str | None = None

    with pytest.raises(TypeError, match=r"\['colour'\]"):
        listed(JOB, LooseJobFilter, "Jobs.")
