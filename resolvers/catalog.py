"""Every declared entity, and the registries derived from them.

Domain modules declare their entities with `declare(Entity(...))`; importing the `resolvers`
package imports every domain module and then seals the catalog, which checks that the
declarations fit together (relations name declared types over real foreign keys, every table
that belongs to a worker is personal data). The node lookup, the row policies, the personal-data
audit and the partner reach are read from here, so they cannot disagree.

A table without a declared entity is visible to admins only: new tables are protected until
they say otherwise.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from sqlalchemy import FromClause, Table, false, true
from sqlalchemy.sql.util import ClauseAdapter

from db.models import Worker
from db.models.base import table_of
from resolvers.access import Role, Viewer
from resolvers.declarations import Condition, Entity, ToMany, ToOne
from resolvers.errors import BadArgument
from resolvers.global_ids import decode_global_id, int_key, not_an_id
from resolvers.policies import public

WORKERS = table_of(Worker)


class Catalog:
    def __init__(self) -> None:
        self._by_name: dict[str, Entity] = {}
        self._by_table: dict[str, Entity] = {}
        self._sealed = False

    def add(self, entity: Entity) -> None:
        if self._sealed:
            raise RuntimeError(f"{entity.name} declared after the catalog was sealed")
        if entity.name in self._by_name:
            raise ValueError(f"{entity.name} is declared twice")
        if entity.table.name in self._by_table:
            raise ValueError(f"table {entity.table.name} has two entities")
        self._by_name[entity.name] = entity
        self._by_table[entity.table.name] = entity

    def seal(self) -> None:
        for entity in self._by_name.values():
            self._check(entity)
        self._sealed = True

    def _check(self, entity: Entity) -> None:
        belongs_to_worker = any(k.column.table is WORKERS for k in entity.table.foreign_keys)
        if (belongs_to_worker or entity.table is WORKERS) and not entity.personal:
            raise ValueError(f"{entity.name} belongs to a worker: declare it personal")
        if entity.personal and not entity.is_node and entity.audited_as is None:
            raise ValueError(f"{entity.name} is personal without an ID: say what it's audited as")
        for relation in entity.relations:
            target = self._by_name.get(relation.target)
            if target is None:
                raise ValueError(f"{entity.name} relates to undeclared type {relation.target}")
            if isinstance(relation, ToOne):
                _check_to_one(entity, relation, target)
            else:
                _check_to_many(entity, relation, target)

    def __iter__(self) -> Iterator[Entity]:
        return iter(self._by_name.values())

    def entity(self, name: str) -> Entity:
        return self._by_name[name]

    def find(self, name: str) -> Entity | None:
        return self._by_name.get(name)

    def of_table(self, table: Table) -> Entity | None:
        return self._by_table.get(table.name)


def _check_to_one(entity: Entity, relation: ToOne, target: Entity) -> None:
    if relation.via.table is not entity.table:
        raise ValueError(f"{entity.name} -> {target.name}: `via` is not a column of its table")
    referred = {key.column.table.name for key in relation.via.foreign_keys}
    if referred != {target.table.name}:
        raise ValueError(f"{entity.name}.{relation.via.key} is no foreign key to {target.name}")


def _check_to_many(entity: Entity, relation: ToMany, target: Entity) -> None:
    if relation.table is not target.table:
        raise ValueError(f"{entity.name} -> {target.name}: `via` is not a column of its table")
    referred = {key.column.table.name for key in relation.via.foreign_keys}
    if referred != {entity.table.name}:
        raise ValueError(f"{target.name}.{relation.via.key} is no foreign key to {entity.name}")


CATALOG = Catalog()


def declare(entity: Entity) -> Entity:
    """Add `entity` to the catalog (a domain module's declarations)."""
    CATALOG.add(entity)
    return entity


def visible(viewer: Viewer, table: Table) -> Condition:
    """The rows of `table` that `viewer` may see."""
    if viewer.role is Role.ADMIN:
        return true()
    entity = CATALOG.of_table(table)
    return false() if entity is None else entity.policy(viewer)


def visible_over(viewer: Viewer, table: Table, source: FromClause) -> Condition:
    """`visible` written over `source`, an alias (or subquery) of `table`."""
    condition = visible(viewer, table)
    return condition if source is table else ClauseAdapter(source).traverse(condition)


def shows_every_row(entity: Entity) -> bool:
    """Whether every viewer sees every row (reference data, employers): only a relation to
    such an entity can promise a non-null target."""
    return entity.policy is public


def personal_data_types() -> frozenset[str]:
    return frozenset(e.name for e in CATALOG if e.personal)


def public_types() -> frozenset[str]:
    return frozenset(e.name for e in CATALOG if shows_every_row(e))


def audited_as(entity: Entity) -> tuple[str, str] | None:
    """The (type name, column) a partner's read of a row of `entity` is audited under: its own
    global ID, or for a row without one, its owner's; None when it is not personal data."""
    if not entity.personal:
        return None
    if entity.audited_as is not None:
        return entity.audited_as.target, entity.audited_as.attribute
    assert entity.key is not None
    return entity.name, entity.key.key


def parse_key(type_name: str, text: str) -> Any | None:
    """The typed key behind a global ID's text, or None when it is not one `type_name` can have
    (written canonically: see `resolvers.global_ids`)."""
    entity = CATALOG.find(type_name)
    if entity is None or not entity.is_node:
        return None
    if entity.key_format is None:
        return int_key(text)
    return text if entity.key_format(text) else None


def canonical_global_id(value: str, argument: str) -> str:
    """`value` itself, once it is the canonical ID of some record of a declared type."""
    type_name, key = decode_global_id(value, argument)
    if parse_key(type_name, key) is None:
        raise not_an_id(value, argument)
    return value


@functools.lru_cache(maxsize=4_096)
def decode_node_id(value: str, argument: str) -> tuple[Entity, Any] | None:
    """The entity and key a global ID names; None for a type the API doesn't have. A key the
    type can't have (`Worker:0577`, `Region:abc`) is a BadArgument naming `argument`.

    Kept for the IDs last asked for: a request decodes its IDs more than once (to key its
    plan, then to bind them), and the catalog is sealed before anything is decoded."""
    type_name, text = decode_global_id(value, argument)
    entity = CATALOG.find(type_name)
    if entity is None or not entity.is_node:
        return None
    key = parse_key(type_name, text)
    if key is None:
        raise BadArgument(argument, f"not an ID of type {type_name} (its key is malformed)")
    return entity, key
