"""What a partner's agreement allows: root fields (scopes), the types it reaches, and fields.

Checked on the parsed document before anything runs, so a refused query costs no SQL. An
agreement reaches

- the types its scoped root fields return (scope `jobs` -> Job; a payload -> what it carries),
- the types it names (`api_keys.types`),
- the types its field allowlist names (`Training.title`, `Job.*`) unless they are personal data,
- the types whose rows every viewer sees (reference data, employers).

Personal-data types (`resolvers.catalog`) are reached only through a scope or by name. A
subscription (`Subscription.*`) needs no scope of its own: it is allowed where the agreement
reaches the type it yields (and, for a union, the types of its fragments).
Structural types (connections, edges, page info, payloads, errors) count as the types they
carry. A field whose type is not reached is refused, and so is a fragment on such a type
(`node`, `nodes`). The same walk notes which personal-data fields a partner asked for, for the
audit trail.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import Any

from graphql import (
    SKIP,
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLField,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)
from graphql.execution.values import VariableValues, get_argument_values
from sqlalchemy import Column

from resolvers.access import PartnerGrant
from resolvers.catalog import CATALOG, personal_data_types, public_types
from resolvers.declarations import (
    Entity,
    Ranking,
    ToMany,
    ToOne,
    declaration_of,
    graphql_name,
)
from resolvers.errors import BadArgument
from resolvers.filters import filter_fields, path_argument

# Fields on these types describe the shape of an answer, not data of its own. A
# recommendation's score and reasons are made of what its ranking reads, which the ranking's
# root field is checked for (`Ranking.reads`).
STRUCTURAL_SUFFIXES = ("Connection", "Edge", "Payload", "Error", "Recommendations",
                       "Recommendation")
STRUCTURAL_TYPES = {"PageInfo"}
ALWAYS_ALLOWED_FIELDS = {"id"}

PUBLIC_TYPES = public_types()
PERSONAL_DATA_TYPES = personal_data_types()


def is_structural(named: GraphQLNamedType) -> bool:
    return named.name in STRUCTURAL_TYPES or named.name.endswith(STRUCTURAL_SUFFIXES)


@cache
def carried_types(named: GraphQLNamedType) -> frozenset[str]:
    """The data types a field of type `named` answers with: a structural type counts as the
    types it carries; scalars, enums and abstract types (whose fragments are checked) as none."""
    found: set[str] = set()
    seen: set[str] = set()
    pending = [named]
    while pending:
        current = pending.pop()
        if current.name in seen or not isinstance(current, GraphQLObjectType):
            continue
        seen.add(current.name)
        if is_structural(current):
            pending.extend(get_named_type(field.type) for field in current.fields.values())
        else:
            found.add(current.name)
    return frozenset(found)


@lru_cache(maxsize=256)
def reached_types(schema: GraphQLSchema, grant: PartnerGrant) -> frozenset[str]:
    """Every object type `grant` lets a partner read (see the module's docstring)."""
    scoped: set[str] = set()
    for root in (schema.query_type, schema.mutation_type):
        for name, field in (root.fields if root is not None else {}).items():
            if name in grant.scopes:
                scoped |= carried_types(get_named_type(field.type))
    allowlisted = {rule.partition(".")[0] for rule in grant.fields or ()} - PERSONAL_DATA_TYPES
    return PUBLIC_TYPES | scoped | grant.types | allowlisted


def declared_entity(field: GraphQLField | None) -> Entity | None:
    """The entity a root list field was made from (`schema.fields.listed`), if any."""
    declared = declaration_of(field)
    return declared if isinstance(declared, Entity) else None


def columns_read(entity: Entity, arguments: dict[str, Any]) -> list[tuple[str, Column[Any]]]:
    """(argument, column) for each filter field given, at any depth of `and`, `or` and `not`
    (`filter.or[1].regionCode`), each column the field's rule reads, and the `orderBy` field
    chosen; a BadArgument for a filter past its caps (`resolvers.filters.filter_objects`)."""
    read: list[tuple[str, Column[Any]]] = [
        (path_argument(path, name), column)
        for path, name, _value in filter_fields(entity, arguments.get("filter"))
        for column in entity.filters[name].columns
    ]
    order = arguments.get("orderBy") or {}
    field = order.get("field")
    if field is not None:
        read.append(("orderBy", entity.orderings[_member(field)]))
    return read


def field_showing(object_type: GraphQLObjectType, column: Column[Any]) -> str | None:
    """The field of `object_type` that shows `column`: the field of the column's name, or the
    to-one relation through it."""
    wanted = graphql_name(column.key)
    for name, field in object_type.fields.items():
        declared = declaration_of(field)
        if name == wanted or (isinstance(declared, ToOne) and declared.via is column):
            return name
    return None


Sorted = tuple[str, tuple[Column[Any], ...]]
"""A list's node type and the column(s) its cursors may carry."""

CURSOR_FIELDS = {"Edge": ("cursor",), "PageInfo": ("startCursor", "endCursor")}


def _structural_kind(named: GraphQLNamedType) -> str | None:
    if named.name == "PageInfo":
        return "PageInfo"
    return "Edge" if named.name.endswith("Edge") else None


def _member(value: Any) -> str:
    """An enum argument's member name (graphql-core may hand the member or its name)."""
    return str(getattr(value, "name", value))


def _pairs(found: Sorted) -> list[tuple[str, Column[Any]]]:
    type_name, columns = found
    return [(type_name, column) for column in columns]


def _possible_sorts(structural: GraphQLNamedType) -> list[tuple[str, Column[Any]]]:
    """Every (type, column) the cursors of a connection, edge or page info could carry."""
    carried = carried_types(structural)
    sorts = []
    for entity in CATALOG:
        sorts += [
            (entity.name, column) for column in entity.orderings.values()
            if not carried or entity.name in carried
        ]
        sorts += [
            (relation.target, relation.order.column) for relation in entity.relations
            if isinstance(relation, ToMany) and relation.order is not None
            and (not carried or relation.target in carried)
        ]
    return sorts


def _allowed(grant: PartnerGrant, type_name: str, field: str) -> bool:
    if grant.fields is None or field in ALWAYS_ALLOWED_FIELDS:
        return True
    return f"{type_name}.{field}" in grant.fields or f"{type_name}.*" in grant.fields


class _AgreementVisitor(Visitor):
    def __init__(
        self,
        schema: GraphQLSchema,
        type_info: TypeInfo,
        grant: PartnerGrant,
        variables: VariableValues,
    ) -> None:
        super().__init__()
        self.variables = variables
        # Per field entered: the list it is and the column its cursors carry, or None.
        self.lists: list[Sorted | None] = []
        self.schema = schema
        self.roots = {t for t in (schema.query_type, schema.mutation_type) if t is not None}
        self.type_info = type_info
        self.grant = grant
        self.reach = reached_types(schema, grant)
        self.errors: list[GraphQLError] = []
        self.personal_fields: set[str] = set()

    def enter_field(self, node: FieldNode, *_args: Any) -> object:
        outcome = self._check_field(node)
        if outcome is not SKIP:  # a skipped field is not left either
            self.lists.append(self._list_sorted_by(node, self.type_info.get_field_def()))
        return outcome

    def leave_field(self, _node: FieldNode, *_args: Any) -> None:
        self.lists.pop()

    def _check_field(self, node: FieldNode) -> object:
        name = node.name.value
        parent = self.type_info.get_parent_type()
        if name.startswith("__") or parent is None:
            return None
        parent_type = get_named_type(parent)
        kind = _structural_kind(parent_type)
        if kind is not None and name in CURSOR_FIELDS[kind]:
            return self._check_cursor(node, parent_type)
        if parent_type in self.roots:
            if name not in self.grant.scopes:
                return self._refuse(node, f"does not include '{name}'.")
            return self._check_arguments(node, self.type_info.get_field_def())
        where = f"{parent_type.name}.{name}"
        unreached = self._unreached(self.type_info.get_type())
        if unreached:
            return self._refuse(node, f"does not reach the type '{unreached}' ('{where}').")
        if parent_type is self.schema.subscription_type:
            return None  # a subscription is allowed where the type it yields is reached
        if not is_structural(parent_type) and not _allowed(self.grant, parent_type.name, name):
            return self._refuse(node, f"does not include '{where}'.")
        if parent_type.name in PERSONAL_DATA_TYPES:
            self.personal_fields.add(where)
        return None

    def _list_sorted_by(self, node: FieldNode, field: GraphQLField | None) -> Sorted | None:
        """The type and sort column of the list a field is (a root list or a paged relation),
        whose cursors carry that column's values; None for other fields."""
        declared = declaration_of(field)
        if isinstance(declared, ToMany) and declared.order is not None:
            return declared.target, (declared.order.column,)
        if isinstance(declared, Entity) and declared.orderings and field is not None:
            chosen = (self._arguments(field, node).get("orderBy") or {}).get("field")
            name = next(iter(declared.orderings)) if chosen is None else _member(chosen)
            return declared.name, (declared.orderings[name],)
        return None

    def _arguments(self, field: GraphQLField, node: FieldNode) -> dict[str, Any]:
        return get_argument_values(field, node, self.variables)

    def _check_cursor(self, node: FieldNode, parent_type: GraphQLNamedType) -> object:
        """A cursor carries its list's sort value: a field list must include the field that
        shows it. Outside its list (a fragment on a connection, edge or page info) the list
        is not known, so every order the cursor might carry must be allowed."""
        if self.grant.fields is None:
            return None
        known = next((found for found in reversed(self.lists) if found is not None), None)
        for type_name, column in [*_pairs(known)] if known else _possible_sorts(parent_type):
            where = self._unlisted(type_name, column)
            if where is not None:
                return self._refuse(node, f"does not include '{where}', which cursors carry.")
        return None

    def _unlisted(self, type_name: str, column: Column[Any]) -> str | None:
        """`Type.field` of the field showing `column` when the field list leaves it out (or
        no field shows it), else None."""
        if self.grant.fields is None:
            return None
        target = self.schema.get_type(type_name)
        assert isinstance(target, GraphQLObjectType)
        shown = field_showing(target, column)
        if shown is None or not _allowed(self.grant, type_name, shown):
            return f"{type_name}.{shown or graphql_name(column.key)}"
        return None

    def _check_arguments(self, node: FieldNode, field: GraphQLField | None) -> object:
        """A list's `filter` and `orderBy` read fields too: each needs the field it reads.
        So does a ranking, which reads the subject's type and what its score is made of."""
        declared = declaration_of(field)
        if isinstance(declared, Ranking):
            return self._check_ranking(node, declared)
        entity = declared_entity(field)
        if entity is None or field is None or self.grant.fields is None:
            return None
        arguments = self._arguments(field, node)
        try:
            read = columns_read(entity, arguments)
        except BadArgument as error:
            self.errors.append(GraphQLError(error.message, [node], extensions=error.extensions))
            return SKIP
        for argument, column in read:
            where = self._unlisted(entity.name, column)
            if where is not None:
                return self._refuse(node, f"does not include '{where}', which {argument} reads.")
        return None

    def _check_ranking(self, node: FieldNode, ranking: Ranking) -> object:
        read = [(ranking.subject, None), *(
            (CATALOG.of_table(column.table).name, column)  # type: ignore[union-attr]
            for column in ranking.reads
        )]
        for type_name, column in read:
            if type_name not in self.reach:
                return self._refuse(
                    node, f"does not reach the type '{type_name}', which {ranking.name} reads."
                )
            where = None if column is None else self._unlisted(type_name, column)
            if where is not None:
                return self._refuse(
                    node, f"does not include '{where}', which {ranking.name} reads."
                )
        return None

    def enter_inline_fragment(self, node: InlineFragmentNode, *_args: Any) -> object:
        return self._check_condition(node, node.type_condition)

    def check_definition(self, definition: ExecutableDefinitionNode) -> object:
        """SKIP for a fragment on a type not reached (a root the visitor itself can't skip)."""
        if isinstance(definition, FragmentDefinitionNode):
            return self._check_condition(definition, definition.type_condition)
        return None

    def _check_condition(
        self, node: InlineFragmentNode | FragmentDefinitionNode, condition: NamedTypeNode | None
    ) -> object:
        named = None if condition is None else self.schema.get_type(condition.name.value)
        unreached = self._unreached(named)
        if unreached:
            return self._refuse(node, f"does not reach the type '{unreached}' (a fragment on it).")
        return None

    def _unreached(self, output: GraphQLOutputType | GraphQLNamedType | None) -> str | None:
        """The first type `output` carries that the agreement does not reach."""
        if output is None:
            return None
        missing = carried_types(get_named_type(output)) - self.reach
        return min(missing) if missing else None

    def _refuse(
        self, node: FieldNode | InlineFragmentNode | FragmentDefinitionNode, message: str
    ) -> object:
        self.errors.append(
            GraphQLError(
                f"Your API key's agreement {message}", [node], extensions={"code": "FORBIDDEN"}
            )
        )
        return SKIP


def check_partner_agreement(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    grant: PartnerGrant,
    variables: dict[str, Any],
) -> tuple[list[GraphQLError], set[str]]:
    """Refusals for what `grant` does not allow, and the personal-data fields the operation
    reads (`variables`: the operation's coerced variable values)."""
    type_info = TypeInfo(schema)
    coerced = VariableValues(sources={}, coerced=variables)
    visitor = _AgreementVisitor(schema, type_info, grant, coerced)
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    for definition in (operation, *fragments):
        if visitor.check_definition(definition) is not SKIP:
            visit(definition, TypeInfoVisitor(type_info, visitor))
    return visitor.errors, visitor.personal_fields
