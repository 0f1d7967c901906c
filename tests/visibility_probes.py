"""Asking the API what a viewer sees, and holding the answers to the oracle (tests/visibility.py).

Three kinds of probes, each a document the viewer sends: a root list paged through to its
end (its `totalCount` on every page), `nodes(ids:)` with `node(id:)` beside it over rows it
may and may not see, and every relation of the schema (found from the declarations, so a new
relation is probed without anyone adding it) over the parents it may see: a page's
`totalCount` and rows, a small list's rows, a count, a to-one target or null, the first row of
an ordered relation (`FirstOf`: a worker's latest survey) or null. A partner key's
probe that reads a root field, type or field its agreement does not allow must be refused
`FORBIDDEN` instead. Each answer's `X-Read-Path` is kept, to hold a test to the path it means.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLList, GraphQLObjectType, GraphQLScalarType, get_named_type
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from resolvers.agreements import declared_entity
from resolvers.catalog import CATALOG
from resolvers.declarations import FirstOf, ToMany, ToOne, declaration_of, graphql_name
from resolvers.global_ids import encode_global_id
from tests.conftest import GraphQLClient
from tests.visibility import (
    GRAPHQL,
    RULES,
    Key,
    Viewer,
    allows,
    every_row,
    may_ask,
    reaches,
    returned_type,
    seen_rows,
)

PAGE = 100  # a list's page, and a relation's page per parent
PARENTS_PER_REQUEST = 75  # 75 parents' pages of 100 stay under the query cost limit
MOST_PARENTS = 150
MOST_SHOWN, MOST_HIDDEN = 60, 40  # ids of one `nodes(ids:)`

TypeField = tuple[str, str]


@dataclass(frozen=True)
class Identity:
    """How an answer names a row of a relation's target: what to select of it, the fields
    that reads, the name from its parent's key and the object answered, and from its key."""

    selection: str
    reads: tuple[TypeField, ...]
    of_answer: Callable[[Any, dict[str, Any]], object]
    of_row: Callable[[Key], object]


# Types without an ID of their own, named by their parent and a field.
KEYLESS = {
    "WorkerSkill": Identity(
        "skill { id }", (("WorkerSkill", "skill"),),
        lambda worker, skill: (worker, skill["skill"]["id"]),
        lambda key: (key[0], encode_global_id("Skill", key[1])),
    ),
}


def global_id(type_name: str, key: Key) -> str:
    return encode_global_id(type_name, key[0])


def sample(keys: Iterable[Key], most: int) -> list[Key]:
    """At most `most` of `keys`, spread evenly over their order (the same every run)."""
    ordered = sorted(keys)
    step = max(len(ordered) / most, 1)
    return [ordered[int(i * step)] for i in range(min(most, len(ordered)))]


@dataclass(frozen=True)
class Sight:
    """What the oracle says one viewer sees, from one reading of the database."""

    viewer: Viewer
    rows: dict[str, set[Key]]  # by its row rule
    every: dict[str, set[Key]]

    def through_node(self, type_name: str) -> set[Key]:
        """The rows a viewer's `node`/`nodes` (and a relation) show: a partner's only of the
        types its agreement reaches."""
        return self.rows[type_name] if reaches(self.viewer, type_name) else set()


async def sight_of(
    connection: AsyncConnection, viewer: Viewer, types: Iterable[str] = RULES
) -> Sight:
    """What the oracle says `viewer` sees of `types` (of every type by default)."""
    return Sight(
        viewer,
        {name: await seen_rows(connection, name, viewer) for name in types},
        {name: await every_row(connection, name) for name in types},
    )


@dataclass
class Asker:
    """Sends one viewer's probes over one app, keeping the read path of each answer."""

    client: GraphQLClient
    paths: list[str] = field(default_factory=list)

    async def ask(self, query: str, variables: dict[str, Any], refused: bool) -> Any:
        """The answer's data; None, after checking the refusal, when it must be refused."""
        result = await self.client(query, variables)
        if refused:
            assert result.data is None and result.errors, (query, result.body)
            assert result.errors[0]["extensions"]["code"] == "FORBIDDEN", result.errors
            assert result.statements == 0, "refused before any SQL runs"
            return None
        assert result.status == 200 and not result.errors, (query, result.body)
        self.paths.append(result.headers.get("x-read-path", ""))
        return result.data


# --- root lists -------------------------------------------------------------------------


def root_lists() -> list[str]:
    """The root fields that list a declared entity."""
    query = GRAPHQL.query_type
    assert query is not None
    return sorted(name for name, f in query.fields.items() if declared_entity(f) is not None)


def sort_field(root: str) -> str:
    """The field a root list's default order reads, which its cursors carry."""
    query = GRAPHQL.query_type
    assert query is not None
    entity = declared_entity(query.fields[root])
    assert entity is not None
    return graphql_name(next(iter(entity.orderings.values())).key)


async def check_list(asker: Asker, sight: Sight, root: str) -> int:
    """Page through a root list: exactly the oracle's rows, each once, and its totalCount on
    every page. Returns how many rows it showed."""
    viewer, type_name = sight.viewer, returned_type(root)
    assert type_name is not None
    refused = not (
        may_ask(viewer, [root]) and reaches(viewer, type_name)
        and allows(viewer, type_name, sort_field(root))
    )
    query = (
        f"query ($after: String) {{ {root}(first: {PAGE}, after: $after) {{ totalCount "
        "pageInfo { hasNextPage endCursor } nodes { id } } }"
    )
    expected = {global_id(type_name, key) for key in sight.rows[type_name]}
    shown: list[str] = []
    after = None
    for _ in range(len(expected) // PAGE + 2):
        data = await asker.ask(query, {"after": after}, refused)
        if data is None:
            return 0
        page = data[root]
        assert page["totalCount"] == len(expected), (viewer.name, root, after)
        shown += [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(shown) == len(set(shown)), f"{viewer.name}: {root} repeats rows"
    assert set(shown) == expected, (
        f"{viewer.name}: {root} shows {sorted(set(shown) - expected)[:5]} it may not see, "
        f"misses {sorted(expected - set(shown))[:5]}"
    )
    return len(shown)


# --- node and nodes ---------------------------------------------------------------------


def node_types() -> list[str]:
    return sorted(entity.name for entity in CATALOG if entity.is_node)


async def check_nodes(asker: Asker, sight: Sight, type_name: str) -> int:
    """`nodes(ids:)` over rows the viewer may and may not see, `node(id:)` for one of each:
    the object where the oracle shows the row, null where it doesn't. Returns how many
    objects it showed."""
    visible = sight.through_node(type_name)
    shown = sample(visible, MOST_SHOWN)
    hidden = sample(sight.every[type_name] - visible, MOST_HIDDEN)
    keys = shown + hidden
    if not keys:
        return 0
    singles = {name: keys[0] for name, keys in (("one", shown), ("other", hidden)) if keys}
    definitions = "".join(f", ${name}: ID!" for name in singles)
    lookups = " ".join(f"{name}: node(id: ${name}) {{ id }}" for name in singles)
    query = f"query ($ids: [ID!]!{definitions}) {{ nodes(ids: $ids) {{ id }} {lookups} }}"
    variables = {
        "ids": [global_id(type_name, key) for key in keys],
        **{name: global_id(type_name, key) for name, key in singles.items()},
    }
    data = await asker.ask(query, variables, not may_ask(sight.viewer, ["nodes", "node"]))
    if data is None:
        return 0
    expected = [{"id": global_id(type_name, k)} if k in visible else None for k in keys]
    assert data["nodes"] == expected, f"{sight.viewer.name}: nodes of {type_name}"
    for name, key in singles.items():
        assert data[name] == expected[keys.index(key)], (sight.viewer.name, type_name, name)
    return len(shown)


# --- relations --------------------------------------------------------------------------


@dataclass(frozen=True)
class Relation:
    """A relation field of the schema: `parent.field`, leading to `target`."""

    parent: str
    field: str
    target: str
    # "one" (an object), "first" (the first row of an ordered relation), "page" (a
    # connection), "list" or "count"
    kind: str
    declared: ToOne | ToMany | FirstOf

    @property
    def identity(self) -> Identity:
        if self.target in KEYLESS:
            return KEYLESS[self.target]
        return Identity(
            "id", (), lambda _parent, node: node["id"], lambda key: global_id(self.target, key)
        )

    def selection(self) -> str:
        ident = self.identity.selection
        return {
            "one": f"{self.field} {{ {ident} }}",
            "first": f"{self.field} {{ {ident} }}",
            "page": f"{self.field}(first: {PAGE}) {{ totalCount nodes {{ {ident} }} }}",
            "list": f"{self.field} {{ {ident} }}",
            "count": self.field,
        }[self.kind]

    def refused(self, viewer: Viewer) -> bool:
        """Whether `viewer`'s agreement refuses this probe: a count reads its parent's field
        only, the others also reach the target and the fields that name it."""
        fields = [(self.parent, self.field)]
        if self.kind != "count":
            fields += [(self.target, "id"), *self.identity.reads]
        return not (
            may_ask(viewer, ["nodes"])
            and all(reaches(viewer, t) and allows(viewer, t, f) for t, f in fields)
        )


def relations() -> list[Relation]:
    """Every relation field of the schema's object types, from its declaration."""
    found = []
    for named in GRAPHQL.type_map.values():
        if not isinstance(named, GraphQLObjectType) or CATALOG.find(named.name) is None:
            continue
        for name, graphql_field in named.fields.items():
            declared = declaration_of(graphql_field)
            if isinstance(declared, ToOne | ToMany | FirstOf):
                kind = "first" if isinstance(declared, FirstOf) else _kind(graphql_field.type)
                found.append(Relation(named.name, name, declared.target, kind, declared))
    return sorted(found, key=lambda r: (r.parent, r.field))


def _kind(output: Any) -> str:
    named = get_named_type(output)
    if isinstance(named, GraphQLScalarType):
        return "count"
    if named.name.endswith("Connection"):
        return "page"
    inner = getattr(output, "of_type", output)
    return "list" if isinstance(inner, GraphQLList) else "one"


async def links(connection: AsyncConnection, relation: Relation) -> dict[Key, Any]:
    """For a to-many relation, each target row's key -> its parent's key (rows the relation's
    own condition leaves out are absent); for the first of one, each target row's key ->
    (its parent's key, its place in the relation's order); for a to-one, each parent row's
    key -> the target's key it holds."""
    declared = relation.declared
    many = declared.relation if isinstance(declared, FirstOf) else declared
    owner = relation.target if isinstance(many, ToMany) else relation.parent
    table = CATALOG.entity(owner).table
    where = many.where if isinstance(many, ToMany) else ()
    keys = [table.c[column] for column in RULES[owner].key]
    if isinstance(declared, FirstOf):
        order = declared.relation.order
        assert order is not None
        rows = await connection.execute(
            select(*keys, many.via, order.column, order.id_column).where(*where)
        )
        return {tuple(row[:-3]): (row[-3], tuple(row[-2:])) for row in rows}
    rows = await connection.execute(select(*keys, many.via).where(*where))
    return {tuple(row[:-1]): row[-1] for row in rows}


async def check_relation(
    asker: Asker, sight: Sight, relation: Relation, linked: dict[Key, Any]
) -> set[object]:
    """The relation over (a sample of) the parents the viewer sees, each answered as the
    oracle says; returns the rows the answers showed (by `Identity.of_row`)."""
    parents = sample(sight.through_node(relation.parent), MOST_PARENTS)
    refused = relation.refused(sight.viewer)
    query = (
        f"query ($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on {relation.parent} "
        f"{{ {relation.selection()} }} }} }}"
    )
    shown: set[object] = set()
    for start in range(0, len(parents), PARENTS_PER_REQUEST):
        chunk = parents[start : start + PARENTS_PER_REQUEST]
        ids = [global_id(relation.parent, key) for key in chunk]
        data = await asker.ask(query, {"ids": ids}, refused)
        if data is None:
            return set()
        for key, node in zip(chunk, data["nodes"], strict=True):
            assert node is not None, f"{sight.viewer.name} sees {relation.parent} {key}"
            shown |= check_answer(sight, relation, key, node[relation.field], linked)
    return shown


def check_answer(
    sight: Sight, relation: Relation, parent: Key, answer: Any, linked: dict[Key, Any],
    page: int = PAGE,
) -> set[object]:
    """One parent's answer to a relation (a page of at most `page` rows): exactly the rows
    the oracle lets the viewer see, by its count too; returns the rows shown."""
    where = f"{sight.viewer.name}: {relation.parent} {parent[0]} .{relation.field}"
    identity = relation.identity
    if relation.kind == "first":
        return _check_first(sight, relation, parent, answer, linked, where)
    if relation.kind == "one":
        target = linked[parent]
        seen = target is not None and (target,) in sight.through_node(relation.target)
        name = identity.of_row((target,)) if seen else None
        assert (answer and identity.of_answer(parent[0], answer)) == name, (where, answer)
        return {name} if seen else set()
    # A count reads no field of its target: it counts what the rows' policy shows.
    rows = sight.rows if relation.kind == "count" else {
        relation.target: sight.through_node(relation.target)
    }
    expected = {identity.of_row(k) for k in rows[relation.target] if linked.get(k) == parent[0]}
    if relation.kind == "count":
        assert answer == len(expected), where
        return set()
    items = answer["nodes"] if relation.kind == "page" else answer
    shown = [identity.of_answer(parent[0], item) for item in items]
    assert len(shown) == len(set(shown)) and set(shown) <= expected, (where, shown, expected)
    if relation.kind == "page":
        assert answer["totalCount"] == len(expected), where
    whole = len(expected) if relation.kind == "list" else min(len(expected), page)
    assert len(shown) == whole, (where, shown, expected)
    return set(shown)


def _check_first(
    sight: Sight, relation: Relation, parent: Key, answer: Any, linked: dict[Key, Any],
    where: str,
) -> set[object]:
    """The first row of an ordered relation: the first in its order of the rows the viewer
    sees, or null when it sees none."""
    assert isinstance(relation.declared, FirstOf)
    order = relation.declared.relation.order
    assert order is not None
    places = {
        key: place for key, (of, place) in linked.items()
        if of == parent[0] and key in sight.through_node(relation.target)
    }
    if not places:
        assert answer is None, (where, answer)
        return set()
    pick = max if order.descending else min
    first = pick(places, key=lambda key: places[key])
    name = relation.identity.of_row(first)
    assert answer is not None and relation.identity.of_answer(parent[0], answer) == name, (
        where, answer, name,
    )
    return {name}
