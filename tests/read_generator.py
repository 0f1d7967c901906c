"""Random read operations over the whole schema, for the differential test of the read paths
(tests/test_compiled_reads.py).

An operation has one or two root fields (root lists, `node`, `nodes`, `__typename`) with
random selections and nesting, aliases, inline and named fragments, variables, filters,
ordering, paging forward and back with cursors, and fields resolved in Python. Filters nest
`and`, `or` and `not` up to three deep (empty lists too), inline or by variables at any
level. Every filter field gets values: enums, booleans, region codes and keywords from short
lists; IDs, dates, date-times, amounts, months and codes drawn from the seeded rows
(`Values`). Every operation parses and validates (the test asserts it): root fields and
fragments on different types of `node` never share a response name.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import schema
from resolvers.declarations import Entity, ToMany, declaration_of
from resolvers.global_ids import encode_global_id
from resolvers.pagination import Ordering

GRAPHQL = schema.schema._schema
REGION_CODES = ["440000", "440300", "110000", "510000", "440106"]
KEYWORDS = ["工", "张", "有限", "员", "普工", "包吃住"]
ACTORS = ["admin:test-admin", "key:1", "worker:test-worker"]
OPERATIONS_AUDITED = ["revealIdNumber", "Generated", "query"]
MAX_DEPTH = 3
MAX_FILTER_NESTING = 3  # and, or and not in filters, at most this deep
LOGIC_FIELDS = ("and", "or", "not")
MISSING_JOB = encode_global_id("Job", 999_999_999)

# Seeded rows, the lowest ids first (rows other tests make come later): their global IDs per
# type, and the values of filter fields by kind.
SEEDED_IDS = {
    "Job": "jobs", "Worker": "workers", "Employer": "employers", "Placement": "placements",
    "InsuranceRecord": "insurance_records", "Application": "applications",
    "Training": "trainings", "Enrollment": "enrollments", "JobIntention": "job_intentions",
    "SkillSurvey": "skill_surveys", "JobReport": "job_reports",
}
SEEDED_VALUES = {
    "DateTime": [
        "SELECT posted_at FROM jobs", "SELECT created_at FROM workers",
        "SELECT surveyed_at FROM skill_surveys",
    ],
    "Date": [
        "SELECT started_on FROM placements", "SELECT starts_on FROM trainings",
        "SELECT ends_on FROM trainings",
    ],
    "Decimal": ["SELECT salary_min FROM jobs", "SELECT salary_max FROM jobs"],
    "month": ["SELECT to_char(period, 'YYYY-MM') FROM insurance_records"],
    "occupationCode": [
        "SELECT occupation_code FROM jobs WHERE occupation_code IS NOT NULL",
        "SELECT occupation_code FROM trainings WHERE occupation_code IS NOT NULL",
    ],
    "industryCode": ["SELECT industry_code FROM employers"],
}
PER_QUERY = 8


@dataclass(frozen=True)
class Values:
    """What operations may name: global IDs by type, and filter values by kind."""

    ids: dict[str, list[str]]
    kinds: dict[str, list[str]]

    @property
    def every_id(self) -> list[str]:
        """Every ID, jobs first, then regions and an ID no row has."""
        return [i for ids in self.ids.values() for i in ids] + [MISSING_JOB]


async def seeded_values(engine: AsyncEngine) -> Values:
    async with engine.connect() as connection:
        ids = {
            type_name: [
                encode_global_id(type_name, key) for key in (await connection.execute(
                    text(f"SELECT id FROM {table} ORDER BY id LIMIT {PER_QUERY}")
                )).scalars()
            ]
            for type_name, table in SEEDED_IDS.items()
        }
        ids["Region"] = [encode_global_id("Region", code) for code in REGION_CODES[:3]]
        kinds = {
            kind: [
                _text(value) for sql in queries for value in (await connection.execute(
                    text(f"{sql} ORDER BY id LIMIT {PER_QUERY}")
                )).scalars()
            ]
            for kind, queries in SEEDED_VALUES.items()
        }
    return Values(ids, kinds)


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@dataclass
class Generator:
    rng: random.Random
    values: Values
    fragments: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    variable_definitions: list[str] = field(default_factory=list)
    roots: set[str] = field(default_factory=set)  # response names at the root

    def operation(self) -> tuple[str, dict[str, Any]]:
        roots = [self.root() for _ in range(self.rng.choice([1, 1, 1, 2]))]
        definitions = f"({', '.join(self.variable_definitions)})" if self.variables else ""
        text = f"query Generated{definitions} {{ {' '.join(roots)} }} {' '.join(self.fragments)}"
        return text, self.variables

    def alias(self, name: str) -> str:
        return f"{name}_{self.rng.randrange(1000)}: {name}" if self.rng.random() < 0.2 else name

    def root_alias(self, name: str) -> str:
        """`name`, aliased at random, and always when its response name is taken: two root
        fields of one name and different arguments would not merge."""
        chosen = self.alias(name)
        if chosen.partition(":")[0] in self.roots:
            chosen = f"{name}_{len(self.roots)}: {name}"
        self.roots.add(chosen.partition(":")[0])
        return chosen

    def root(self) -> str:
        query = GRAPHQL.query_type
        assert query is not None
        lists = [n for n, f in query.fields.items() if "filter" in f.args]
        choice = self.rng.choice([*lists, *lists, "node", "nodes", "__typename"])
        if choice == "__typename":
            return "__typename"
        ids = self.values.every_id
        if choice == "node":
            given = json.dumps(self.rng.choice(ids))
            if self.rng.random() < 0.5:  # by a variable: one plan per type the ID names
                given = f"$n{len(self.variables)}"
                self.variables[given[1:]] = self.rng.choice(ids)
                self.variable_definitions.append(f"{given}: ID!")
            return f"{self.root_alias('node')}(id: {given}) {{ {self.on_node()} }}"
        if choice == "nodes":
            chosen = ", ".join(f'"{i}"' for i in self.rng.sample(ids, 3))
            return f"{self.root_alias('nodes')}(ids: [{chosen}]) {{ {self.on_node()} }}"
        root = query.fields[choice]
        order = self.order(root)
        arguments = [
            *self.paging(self.ordering_of(root, order), root=True), *self.filter(root), *order
        ]
        given = f"({', '.join(arguments)})" if arguments else ""
        inner = self.connection(get_named_type(root.type), 1)
        return f"{self.root_alias(choice)}{given} {{ {inner} }}"

    def on_node(self) -> str:
        types = [t for t in GRAPHQL.type_map.values() if isinstance(t, GraphQLObjectType)
                 and any(i.name == "Node" for i in t.interfaces)]
        parts = ["id", "__typename"]
        taken: set[str] = set()
        for object_type in self.rng.sample(types, 3):
            parts.append(f"... on {object_type.name} {{ {self.object(object_type, 1, taken)} }}")
        return " ".join(parts)

    def paging(self, ordering: Ordering | None = None, root: bool = False) -> list[str]:
        size = self.rng.randint(0, 6)
        chosen = [self.rng.choice([f"first: {size}", f"last: {size}", ""])]
        if ordering is not None and self.rng.random() < 0.3:
            cursor = json.dumps(self.cursor(ordering))
            if root and self.rng.random() < 0.5:  # by a variable: one plan per ordering
                name = f"c{len(self.variables)}"
                self.variables[name] = json.loads(cursor)
                self.variable_definitions.append(f"${name}: String")
                cursor = f"${name}"
            if chosen[0].startswith("last") or self.rng.random() < 0.3:
                chosen.append(f"before: {cursor}")
            else:
                chosen.append(f"after: {cursor}")
        return [part for part in chosen if part]

    def ordering_of(self, root: GraphQLField, order: list[str]) -> Ordering | None:
        """The ordering a root list is read in (its first ordering, descending, unless
        `order` chose another)."""
        entity = declaration_of(root)
        if not isinstance(entity, Entity) or not entity.orderings:
            return None
        if not order:
            return entity.ordering(next(iter(entity.orderings)), descending=True)
        member, direction = order[0].split("field: ")[1].rstrip("}").split(", direction: ")
        return entity.ordering(member, descending=direction == "DESC")

    def cursor(self, ordering: Ordering) -> str:
        """A cursor such a list could make (sometimes one it could not: errors must match)."""
        if self.rng.random() < 0.1:
            return self.rng.choice(["bm90IGEgY3Vyc29y", "WyJ4IiwgIjEiLCAxXQ==", ""])
        sample = {
            datetime: "2026-03-01T08:00:00+00:00", date: "2026-03-01", Decimal: "6000.00",
            int: "5", str: self.rng.choice(["张", "202401", "m"]),
        }
        value = sample[ordering.column.type.python_type]
        name = ordering.name if self.rng.random() < 0.9 else "id:asc"
        raw = json.dumps([name, value, self.rng.randint(1, 400)], ensure_ascii=False)
        return base64.urlsafe_b64encode(raw.encode()).decode()

    def filter(self, root: GraphQLField) -> list[str]:
        if self.rng.random() < 0.5:
            return []
        filter_type = get_named_type(root.args["filter"].type)
        assert isinstance(filter_type, GraphQLInputObjectType)
        values = self.filter_values(filter_type, 0)
        if self.rng.random() < 0.5:
            name = f"f{len(self.variables)}"
            self.variables[name] = values
            self.variable_definitions.append(f"${name}: {filter_type.name}")
            return [f"filter: ${name}"]
        return [f"filter: {self.inline_filter(filter_type, values)}"]

    def filter_values(self, filter_type: GraphQLInputObjectType, depth: int) -> dict[str, Any]:
        """A filter's value as JSON would carry it, with `and`, `or` and `not` (lists of up to
        three filters, empty ones too) nested up to `MAX_FILTER_NESTING` deep."""
        values = {}
        chance = 0.3 if depth == 0 else 0.15
        for name, input_field in filter_type.fields.items():
            if name in LOGIC_FIELDS:
                continue
            value = self.filter_value(name, get_named_type(input_field.type))
            if self.rng.random() < chance:
                values[name] = value
        for name in LOGIC_FIELDS:
            if depth >= MAX_FILTER_NESTING or self.rng.random() >= 0.25:
                continue
            if name == "not":
                values[name] = self.filter_values(filter_type, depth + 1)
            else:
                size = self.rng.choice([0, 1, 2, 2, 3])
                values[name] = [self.filter_values(filter_type, depth + 1) for _ in range(size)]
        return values

    def inline_filter(self, filter_type: GraphQLInputObjectType, values: dict[str, Any]) -> str:
        """`values` as a literal, with now and then a field, a filter or a list of filters
        given by a variable."""
        given = []
        for key, value in values.items():
            if key in LOGIC_FIELDS:
                given.append(f"{key}: {self.inline_logic(filter_type, key, value)}")
                continue
            named = get_named_type(filter_type.fields[key].type)
            if self.rng.random() < 0.3:  # one field by a variable
                name = f"v{len(self.variables)}"
                self.variables[name] = value
                self.variable_definitions.append(f"${name}: {named.name}")
                given.append(f"{key}: ${name}")
            else:
                given.append(f"{key}: {_literal(value, named)}")
        return f"{{{', '.join(given)}}}"

    def inline_logic(self, filter_type: GraphQLInputObjectType, key: str, value: Any) -> str:
        if self.rng.random() < 0.15:  # the filter (not) or the list (and, or) by a variable
            name = f"f{len(self.variables)}"
            self.variables[name] = value
            kind = filter_type.name if key == "not" else f"[{filter_type.name}!]"
            self.variable_definitions.append(f"${name}: {kind}")
            return f"${name}"
        if key == "not":
            return self.inline_filter(filter_type, value)
        items = []
        for item in value:
            if self.rng.random() < 0.15:  # one filter of the list by a variable
                name = f"f{len(self.variables)}"
                self.variables[name] = item
                self.variable_definitions.append(f"${name}: {filter_type.name}!")
                items.append(f"${name}")
            else:
                items.append(self.inline_filter(filter_type, item))
        return f"[{', '.join(items)}]"

    def filter_value(self, name: str, named: Any) -> Any:
        """A value for a filter field, as JSON would carry it; a field of a kind the
        generator can't draw is an error, so none is left out unnoticed."""
        pick = self.rng.choice
        kinds = self.values.kinds
        if isinstance(named, GraphQLEnumType):
            return pick(list(named.values))
        if named.name == "Boolean":
            return self.rng.random() < 0.5
        if named.name == "ID":
            wanted = name.removesuffix("Id").capitalize()
            ids = self.values.ids.get(wanted, []) if self.rng.random() < 0.9 else []
            return pick(ids or self.values.every_id)  # now and then another type's ID
        if named.name in ("DateTime", "Date", "Decimal"):
            return pick(kinds[named.name])
        strings = {
            "regionCode": REGION_CODES, "hukouRegionCode": REGION_CODES, "keyword": KEYWORDS,
            "from": kinds["month"], "to": kinds["month"], "actor": ACTORS,
            "operation": OPERATIONS_AUDITED, **kinds,
        }
        if named.name == "String" and name in strings:
            return pick(strings[name])
        raise AssertionError(f"the generator draws no value for filter field {name}: {named}")

    def order(self, root: GraphQLField) -> list[str]:
        if self.rng.random() < 0.5:
            return []
        order_type = get_named_type(root.args["orderBy"].type)
        assert isinstance(order_type, GraphQLInputObjectType)
        members = get_named_type(order_type.fields["field"].type)
        assert isinstance(members, GraphQLEnumType)
        direction = self.rng.choice(["ASC", "DESC"])
        return [f"orderBy: {{field: {self.rng.choice(list(members.values))}, "
                f"direction: {direction}}}"]

    def connection(self, connection: Any, depth: int) -> str:
        node_type = get_named_type(connection.fields["nodes"].type)
        parts = []
        if self.rng.random() < 0.5:
            parts.append("totalCount")
        if self.rng.random() < 0.4:
            info = ["hasNextPage", "hasPreviousPage"] + [
                cursor for cursor in ("startCursor", "endCursor") if self.rng.random() < 0.2
            ]
            parts.append(f"pageInfo {{ {' '.join(info)} }}")
        inner = self.object(node_type, depth + 1)
        if self.rng.random() < 0.5:
            cursor = "cursor " if self.rng.random() < 0.2 else ""
            parts.append(f"edges {{ {cursor}node {{ {inner} }} }}")
        else:
            parts.append(f"nodes {{ {inner} }}")
        if self.rng.random() < 0.1:
            parts.append("__typename")
        return " ".join(parts)

    def object(self, object_type: Any, depth: int, taken: set[str] | None = None) -> str:
        """A selection of `object_type`'s fields. `taken`: the response names fragments on
        other types beside this one already use (of `node`), which this one aliases."""
        parts = []
        for name, object_field in object_type.fields.items():
            named = get_named_type(object_field.type)
            if isinstance(named, GraphQLScalarType | GraphQLEnumType):
                if not object_field.args and self.rng.random() < 0.4:
                    parts.append(self.beside(self.alias(name), object_type, taken))
            elif depth < MAX_DEPTH and self.rng.random() < 0.3:
                selected = self.nested(name, object_field, named, depth)
                parts.append(self.beside(selected, object_type, taken))
        if not parts or self.rng.random() < 0.2:
            parts.append("__typename")
        text = " ".join(parts)
        if self.rng.random() < 0.15:
            fragment = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {fragment} on {object_type.name} {{ {text} }}")
            return f"...{fragment}"
        return text

    @staticmethod
    def beside(selected: str, object_type: Any, taken: set[str] | None) -> str:
        """`selected` (a field, aliased or not, with its arguments and selection), aliased
        after its type when a fragment on another type of the same `node` took its name:
        same-named fields of different types or arguments would not merge."""
        if taken is None:
            return selected
        name = selected.split("(")[0].split(" {")[0]
        response = name.partition(":")[0]
        if response in taken:
            field_name = name.partition(": ")[2] or name
            selected = f"{response}_{object_type.name}: {field_name}{selected[len(name):]}"
            response = f"{response}_{object_type.name}"
        taken.add(response)
        return selected

    def nested(self, name: str, object_field: GraphQLField, named: Any, depth: int) -> str:
        if named.name.endswith("Connection"):
            relation = declaration_of(object_field)
            paging = self.paging(relation.order if isinstance(relation, ToMany) else None)
            arguments = f"({', '.join(paging)})" if paging else ""
            return f"{self.alias(name)}{arguments} {{ {self.connection(named, depth)} }}"
        return f"{self.alias(name)} {{ {self.object(named, depth + 1)} }}"


def _literal(value: Any, named: Any) -> str:
    """`value` written in a document, as a value of the input type `named`."""
    if isinstance(named, GraphQLEnumType):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def operations(seed: int, values: Values, count: int) -> Iterator[tuple[int, str, dict[str, Any]]]:
    rng = random.Random(seed)
    for index in range(count):
        generator = Generator(random.Random(rng.getrandbits(64)), values)
        text, variables = generator.operation()
        yield index, text, variables
