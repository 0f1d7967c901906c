"""The catalog refuses declarations that don't fit together, when it is sealed (at import)."""

from __future__ import annotations

import dataclasses

import pytest

from resolvers.catalog import CATALOG, Catalog, decode_node_id, parse_key
from resolvers.declarations import Entity, Range, ToMany, ToOne
from resolvers.errors import BadArgument
from resolvers.global_ids import encode_global_id
from resolvers.jobs import APPLICATIONS, JOB, JOBS
from resolvers.reference import REGION, REGIONS


def sealed(*entities: Entity) -> None:
    catalog = Catalog()
    for entity in entities:
        catalog.add(entity)
    catalog.seal()


def test_the_real_declarations_seal() -> None:
    sealed(*CATALOG)


def test_a_relation_to_an_undeclared_type_is_refused() -> None:
    lonely = dataclasses.replace(JOB, relations=(ToOne("Employer", JOBS.c.employer_id),))
    with pytest.raises(ValueError, match="undeclared type Employer"):
        sealed(lonely)


def test_a_to_one_relation_must_follow_a_foreign_key_to_its_target() -> None:
    wrong = dataclasses.replace(JOB, relations=(ToOne("Region", JOBS.c.title),))
    with pytest.raises(ValueError, match="no foreign key to Region"):
        sealed(wrong, REGION)
    elsewhere = dataclasses.replace(JOB, relations=(ToOne("Region", REGIONS.c.parent_code),))
    with pytest.raises(ValueError, match="not a column of its table"):
        sealed(elsewhere, REGION)


def test_a_to_many_relation_must_be_a_column_of_its_target() -> None:
    wrong = dataclasses.replace(JOB, relations=(ToMany("Region", APPLICATIONS.c.job_id),))
    with pytest.raises(ValueError, match="not a column of its table"):
        sealed(wrong, REGION)


def test_an_entity_is_declared_once_and_its_table_has_one_entity() -> None:
    catalog = Catalog()
    catalog.add(JOB)
    with pytest.raises(ValueError, match="declared twice"):
        catalog.add(JOB)
    with pytest.raises(ValueError, match="two entities"):
        catalog.add(dataclasses.replace(JOB, name="Posting"))


def test_nothing_is_declared_after_sealing() -> None:
    catalog = Catalog()
    catalog.seal()
    with pytest.raises(RuntimeError, match="after the catalog was sealed"):
        catalog.add(JOB)


def test_ranges_and_orderings_are_checked_where_they_are_declared() -> None:
    with pytest.raises(ValueError, match="unknown filter fields"):
        dataclasses.replace(JOB, ranges=(Range("salary_min", "colour"),))
    with pytest.raises(ValueError, match="not a column of its table"):
        dataclasses.replace(JOB, orderings={"NAME": REGIONS.c.name})


def test_keys_are_parsed_as_each_declared_type_writes_them() -> None:
    assert parse_key("Job", "577") == 577
    assert parse_key("Job", "0577") is None
    assert parse_key("Region", "110108") == "110108"
    assert parse_key("Region", "abc") is None
    assert parse_key("WorkerSkill", "1") is None  # no ID of its own
    assert parse_key("Nothing", "1") is None
    assert decode_node_id(encode_global_id("Nothing", 1), "id") is None
    entity, key = decode_node_id(encode_global_id("Job", 5), "id") or (None, None)
    assert (entity, key) == (JOB, 5)
    with pytest.raises(BadArgument, match="its key is malformed"):
        decode_node_id(encode_global_id("Region", "abc"), "id")
