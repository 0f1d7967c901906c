"""The vocabulary an entity is declared in: once, in its domain module, and nowhere else.

An `Entity` names its GraphQL type, its table and key, who sees which of its rows (its row
policy), whether its rows are personal data, what each field of its list filter means, how its
list may be ordered, and its relations to other entities, which name their target type rather
than import it. `resolvers.catalog` collects every declaration and derives from them the node
lookup, the policies, the personal-data audit and the partner reach, so these cannot disagree.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import Column, ColumnElement, FromClause, Select, Table

from resolvers.access import Role, Viewer
from resolvers.pagination import Ordering

Condition = ColumnElement[bool]
Policy = Callable[[Viewer], Condition]
"""`policy(viewer)`: the rows of the entity's table that `viewer` may see, as SQL."""



class KeyLookup(Protocol):
    """What a filter rule may ask of the read gateway (`resolvers.reads.Reads`): whether a
    referenced row exists (an unknown region code is an error, not an empty list)."""

    async def node(self, entity: Entity, key: Any) -> Mapping[Any, Any] | None: ...


@dataclass(frozen=True)
class Bound:
    """The form of a rule whose SQL is the same for every value: `over(parameter)`, the
    parameter (of SQL type `type`) holding `value_of(value, argument)`, which is a BadArgument
    naming `argument` for a value the rule refuses. A compiled plan then serves every value."""

    over: Callable[[ColumnElement[Any]], Condition]
    value_of: Callable[[Any, str], Any]
    type: Any


@dataclass(frozen=True)
class Rule:
    """What one filter field means: `condition(reads, value, argument)` is the SQL condition
    a value asks for (or a BadArgument naming `argument`); `column` is what it compares, so
    filtering needs the right to read the field that shows that column (and those showing
    `also_reads`, for a rule that looks into several). `bound`: the same condition over a
    parameter, for a rule whose SQL does not depend on the value."""

    column: Column[Any]
    condition: Callable[[KeyLookup, Any, str], Awaitable[Condition]] = field(repr=False)
    bound: Bound | None = field(default=None, repr=False)
    also_reads: tuple[Column[Any], ...] = ()

    @property
    def columns(self) -> tuple[Column[Any], ...]:
        """Every column whose field a viewer must be able to read to filter by this rule."""
        return (self.column, *self.also_reads)


def declaration_of(field: Any) -> object | None:
    """The declaration a GraphQL field was made from (`schema.fields` puts it in the field's
    metadata), if any; `field` is a graphql-core field of a Strawberry schema, or None."""
    definition = None if field is None else field.extensions.get("strawberry-definition")
    return (getattr(definition, "metadata", None) or {}).get("declaration")


def graphql_name(python_name: str) -> str:
    """The GraphQL spelling of a Python name: `region_code` -> `regionCode`, `from_` -> `from`."""
    head, *rest = python_name.rstrip("_").split("_")
    return head + "".join(word.title() for word in rest)


def snake_name(name: str) -> str:
    """The Python spelling of a GraphQL name: `workerId` -> `worker_id`, `SkillSurvey` ->
    `skill_survey` (the reverse of `graphql_name`)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


@dataclass(frozen=True, eq=False)
class ToOne:
    """The `target` row whose key this entity's column `via` holds."""

    target: str  # GraphQL type name of the target entity
    via: Column[Any]

    @property
    def attribute(self) -> str:
        """The attribute of a loaded object that holds the key (columns are attributes)."""
        return self.via.key


@dataclass(frozen=True, eq=False)
class ToMany:
    """The rows of `target` whose column `via` holds this entity's key.

    With an `order` it is paged (a connection); without one it is a small list in key order.
    `where` narrows it further (e.g. enrollments that were not dropped).
    """

    target: str
    via: Column[Any]
    order: Ordering | None = None
    where: tuple[Condition, ...] = field(default=())

    @property
    def table(self) -> Table:
        return self.via.table


Relation = ToOne | ToMany


@dataclass(frozen=True, eq=False)
class FirstOf:
    """The first row of a paged to-many `relation` in its order, as one object (null when the
    parent has none the viewer may see): a worker's latest survey is the first of their
    surveys, newest first. Read as that relation's page of one row, on both paths."""

    relation: ToMany

    def __post_init__(self) -> None:
        if self.relation.order is None:
            raise ValueError(f"FirstOf({self.relation.target}) needs a relation with an order")

    @property
    def target(self) -> str:
        return self.relation.target


@dataclass(frozen=True, eq=False)
class Derived:
    """A field computed from its own row: `value(obj, viewer)` computes it from the loaded
    object on the resolver path, `sql(row, viewer)` writes the same over the row's source
    (a table alias) on the compiled path. Both live in this one declaration, next to each
    other, so the two paths cannot drift apart."""

    value: Callable[[Any, Viewer], Any] = field(repr=False)
    sql: Callable[[FromClause, Viewer], ColumnElement[Any]] = field(repr=False)


@dataclass(frozen=True)
class Range:
    """Two filter fields that bound one range: `low` may not exceed `high`."""

    low: str
    high: str


@dataclass(frozen=True, eq=False, repr=False)
class Entity:
    """One entity of the API (see the module docstring)."""

    name: str
    table: Table
    policy: Policy
    # The column a global ID carries; None for a type without an ID of its own (a part of
    # another row, such as a worker's skill).
    key: Column[Any] | None
    # How a key is written, for types keyed by a code; None for integer keys.
    key_format: Callable[[str], bool] | None = None
    # Its rows are personal data: a partner's reads of them are audited.
    personal: bool = False
    # For a personal type without a key: the owner its rows are audited as.
    audited_as: ToOne | None = None
    filters: Mapping[str, Rule] = field(default_factory=dict)
    ranges: tuple[Range, ...] = ()
    # `orderBy` fields: GraphQL enum member name -> column; the first is the default.
    orderings: Mapping[str, Column[Any]] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()

    def __post_init__(self) -> None:
        for bounds in self.ranges:
            unknown = {bounds.low, bounds.high} - set(self.filters)
            if unknown:
                raise ValueError(f"{self.name}: range over unknown filter fields {unknown}")
        for name, column in self.orderings.items():
            if column.table is not self.table:
                raise ValueError(f"{self.name}: ordering {name} is not a column of its table")

    def __repr__(self) -> str:
        return f"Entity({self.name!r})"

    @property
    def is_node(self) -> bool:
        return self.key is not None

    def ordering(self, name: str, descending: bool) -> Ordering:
        """The `orderBy` ordering `name` (an enum member name), ties broken by the key."""
        return Ordering.of(self.orderings[name], descending=descending)


@dataclass(frozen=True, eq=False)
class Refusal:
    """Why a ranking is not made for a subject row the viewer may see (a worker who refused
    recommendations): `code`, a member of the ranking's code enum, and `message` when it
    holds, which `value(row)` tells of a loaded row and `sql(source)` over the row's source
    (an alias of the subject's table), declared together like a `Derived`."""

    code: Enum
    message: str
    value: Callable[[Mapping[Any, Any]], bool] = field(repr=False)
    sql: Callable[[FromClause], Condition] = field(repr=False)


Ranked = Callable[[Viewer, ColumnElement[Any], ColumnElement[int] | int], Select[Any]]
"""`ranked(viewer, subject_key, first)`: the SQL of the ranked rows, best first, at most
`first` of them, with the columns `key` (the target's key), `score`, `reasons` and
`position` (1 for the best)."""


@dataclass(frozen=True, eq=False)
class Ranking:
    """A root field that ranks rows of `target` for one row of `subject`, named by the global
    ID in the argument `argument`, each with a score and its reasons in words (matching).

    `ranked` computes them in SQL under the viewer's row policies, reading only what the
    viewer may read (so a ranking never tells of a row, or a fact of one, the viewer could not
    see); `reads` are the columns it reads, whose fields a partner's agreement must allow.
    Callers of other `roles` are told `refusal` (NOT_ALLOWED); a subject the viewer may not
    see is NOT_FOUND; a `Refusal` that holds of the subject stops the ranking with its code.
    Every ranking read is audited (the subject and each personal row ranked) unless the
    viewer is the subject itself. `codes` is the enum of its user errors, with at least
    NOT_ALLOWED, NOT_FOUND and INVALID."""

    name: str  # the root field
    subject: str  # GraphQL type name of the row ranked for
    target: str  # GraphQL type name of the rows ranked
    argument: str  # the argument naming the subject (`workerId`)
    ranked: Ranked = field(repr=False)
    roles: frozenset[Role]
    refusal: str
    codes: type[Enum]
    refusals: tuple[Refusal, ...] = ()
    reads: tuple[Column[Any], ...] = ()
    most: int = 50  # the largest `first`
    default: int = 10  # `first` when not given


__all__ = [
    "Condition", "Derived", "Entity", "FirstOf", "KeyLookup", "Policy", "Range", "Ranked",
    "Ranking", "Refusal", "Relation", "Rule", "ToMany", "ToOne",
    "declaration_of", "graphql_name", "snake_name",
]
