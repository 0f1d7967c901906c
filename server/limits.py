"""Checks of a parsed, validated operation before it runs: query cost, partner agreements, and
who may introspect (`server.operation_checks` says what a check sees).

Query cost (`query_cost`): each field selected costs 1 each time it would be resolved, i.e.
times the sizes of the lists it sits in. A list's size is

- for a connection (a field with a `first` or `last` argument returning a type with `edges` and
  `pageInfo`): the page size asked for, `first` or `last` (the larger when both are given),
  `DEFAULT_PAGE_SIZE` when neither is. It multiplies what is selected inside the connection's
  `edges` and `nodes` lists; the connection's own fields (`totalCount`, `pageInfo`, the `edges`
  field itself) are resolved once per connection and cost 1 each;
- for another paginated field returning a plain list: the page size, in the same way;
- for a list field with a list argument (`nodes(ids: [...])`): the length of that list;
- for any other list field (`regions`, `children`, `skills`...): `DEFAULT_LIST_SIZE`, a guess
  (the data bounds these lists; most hold a few dozen items at most).

Multipliers compound with nesting: `workers(first: 100) { edges { node { applications(first: 50)
{ totalCount nodes { id } } } } }` costs 1 (workers) + 1 (edges) + 100 (node) + 100
(applications) + 100 (totalCount) + 100 (nodes) + 100·50 (id) = 5 402. `@skip`/`@include` are
evaluated with the variables; each inline fragment counts in full (an upper bound for unions
and interfaces); a named fragment is costed once per enclosing page size and reused, so a
document's cost is computed in time linear in its size; introspection (`__schema`, `__type`)
costs 1 whatever it selects, since it never reaches the database (the depth limit bounds it).
A list's `filter` adds 1 per condition (each field given and each filter object in `and`, `or`
or `not`, at any depth), and one past `MAX_FILTER_CONDITIONS` conditions or nested deeper than
`MAX_FILTER_DEPTH` is refused (BAD_USER_INPUT) naming where it went past
(`filter.or[3].and[0]`), whatever the cost. A ranking (`recommendedWorkers`...) scores
thousands of candidates whatever it returns: it costs `RANKING_COST` more, so one document
holds a few at most; its `recommendations` are its page.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from graphql import (
    SKIP,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLError,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast,
    visit,
)

from resolvers.agreements import check_partner_agreement, declared_entity, reached_types
from resolvers.declarations import Ranking, declaration_of
from resolvers.errors import BadArgument
from resolvers.filters import MAX_FILTER_CONDITIONS, filter_size
from server.operation_checks import (
    CheckedOperation,
    DocumentCheck,
    kept_by_document,
    kept_by_operation,
)
from server.text_inputs import literal_text_check, variable_text_check

DEFAULT_PAGE_SIZE = 20  # `first`/`last` absent: what the connections return
DEFAULT_LIST_SIZE = 20  # a plain list field: a guess, bounded in practice by the data
RANKING_COST = 2_000  # a ranking's scoring, beyond what it returns: 10 per document at most
INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
PAGE_SIZE_ARGUMENTS = ("first", "last")


# --- query cost ------------------------------------------------------------------------------


def query_cost_check(max_cost: int) -> DocumentCheck:
    """A check refusing operations whose cost exceeds `max_cost` (QUERY_TOO_COMPLEX); the
    cost of an operation is computed once per page size (`kept_by_operation`)."""

    def check(checked: CheckedOperation) -> list[GraphQLError]:
        operation = checked.operation
        cost, problems = operation_cost(
            checked.schema, checked.document, operation, checked.variables
        )
        if problems:
            return problems
        if cost <= max_cost:
            return []
        return [
            GraphQLError(
                f"Query cost {cost} exceeds the limit of {max_cost} "
                "(lists multiply: lower first/last).",
                operation,
                extensions={"code": "QUERY_TOO_COMPLEX", "cost": cost, "maxCost": max_cost},
            )
        ]

    return kept_by_operation(check, by_page_size=True)


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> int:
    """The static cost of `operation` (see the module docstring). Assumes a valid document."""
    return operation_cost(schema, document, operation, variables)[0]


def operation_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> tuple[int, list[GraphQLError]]:
    """The cost of `operation` (`query_cost`), and the errors of the filters past their caps
    (`resolvers.filters.MAX_FILTER_CONDITIONS`, `MAX_FILTER_DEPTH`), each naming where."""
    problems: list[GraphQLError] = []
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fragment_costs: dict[tuple[str, int | None], int] = {}

    def cost_of(
        node: OperationDefinitionNode | FragmentDefinitionNode, enclosing_page: int | None
    ) -> int:
        counter = _CostCounter(schema, variables, fragment_cost, enclosing_page, problems)
        visit(node, TypeInfoVisitor(counter.type_info, counter))
        return counter.cost

    def fragment_cost(name: str, enclosing_page: int | None) -> int:
        # Validation guarantees the fragment exists and that spreads form no cycle.
        key = (name, enclosing_page)
        if key not in fragment_costs:
            fragment = fragments.get(name)
            fragment_costs[key] = cost_of(fragment, enclosing_page) if fragment else 0
        return fragment_costs[key]

    return cost_of(operation, None), problems


class _CostCounter(Visitor):
    """Adds each field's multiplier product; a spread adds its fragment's cost times it."""

    def __init__(
        self,
        schema: GraphQLSchema,
        variables: Mapping[str, Any],
        fragment_cost: Callable[[str, int | None], int],
        enclosing_page: int | None,
        problems: list[GraphQLError],
    ) -> None:
        super().__init__()
        self.problems = problems
        self.type_info = TypeInfo(schema)
        self.variables = dict(variables)
        self.fragment_cost = fragment_cost
        self.cost = 0
        self.multipliers: list[int] = []
        # The page size each enclosing field asked for (None: not a connection).
        self.pages: list[int | None] = [enclosing_page]

    @property
    def scale(self) -> int:
        return math.prod(self.multipliers)

    def enter_field(self, node: FieldNode, *_args: Any) -> object:
        if not self._included(node):
            return SKIP
        self.cost += self.scale
        if node.name.value in INTROSPECTION_FIELDS:
            return SKIP
        self.cost += self.scale * self._filter_conditions(node)
        if isinstance(declaration_of(self.type_info.get_field_def()), Ranking):
            self.cost += self.scale * RANKING_COST
        multiplier, page = self._multiplier(node)
        self.multipliers.append(multiplier)
        self.pages.append(page)
        return None

    def leave_field(self, node: FieldNode, *_args: Any) -> None:
        # Only fields entered in full pushed (SKIP skips `leave`).
        self.multipliers.pop()
        self.pages.pop()

    def enter_inline_fragment(self, node: InlineFragmentNode, *_args: Any) -> object:
        return None if self._included(node) else SKIP

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_args: Any) -> None:
        if self._included(node):
            self.cost += self.scale * self.fragment_cost(node.name.value, self.pages[-1])

    def _multiplier(self, node: FieldNode) -> tuple[int, int | None]:
        """How many times the field's selection is resolved, and its page size if a connection."""
        field = self.type_info.get_field_def()
        if field is None:
            return 1, None
        if any(name in field.args for name in PAGE_SIZE_ARGUMENTS):
            size = self._page_size(field, node)
            if _is_connection(get_named_type(field.type)):
                return 1, size  # the page multiplies the connection's edges/nodes
            return size, None
        if not is_list_type(get_nullable_type(field.type)):
            return 1, None
        if _is_connection(self.type_info.get_parent_type()):
            page = self.pages[-1]
            return (DEFAULT_PAGE_SIZE if page is None else page), None
        return self._list_argument_size(field, node), None

    def _filter_conditions(self, node: FieldNode) -> int:
        """What a list's `filter` adds: 1 per condition (`resolvers.filters.filter_size`);
        a filter past its caps is a problem."""
        field = self.type_info.get_field_def()
        entity = declared_entity(field)
        if field is None or entity is None or "filter" not in field.args:
            return 0
        try:
            return filter_size(entity, self._argument(field, node, "filter"))
        except BadArgument as error:
            self.problems.append(GraphQLError(error.message, node, extensions=error.extensions))
            return MAX_FILTER_CONDITIONS + 1

    def _page_size(self, field: GraphQLField, node: FieldNode) -> int:
        sizes = [
            self._argument(field, node, name) for name in PAGE_SIZE_ARGUMENTS
            if name in field.args
        ]
        given = [size for size in sizes if isinstance(size, int) and not isinstance(size, bool)]
        return max(max(given), 0) if given else DEFAULT_PAGE_SIZE

    def _list_argument_size(self, field: GraphQLField, node: FieldNode) -> int:
        sizes = [
            len(value)
            for name, argument in field.args.items()
            if is_list_type(get_nullable_type(argument.type))
            and isinstance(value := self._argument(field, node, name), list)
        ]
        return max(sizes) if sizes else DEFAULT_LIST_SIZE

    def _argument(self, field: GraphQLField, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast(argument.value, field.args[name].type, self.variables)
        return field.args[name].default_value

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        for directive in node.directives or ():
            name = directive.name.value
            if name not in (GraphQLSkipDirective.name, GraphQLIncludeDirective.name):
                continue
            condition = next(
                (a.value for a in directive.arguments or () if a.name.value == "if"), None
            )
            value = value_from_ast(condition, GraphQLBoolean, self.variables) if condition else None
            if (name == GraphQLSkipDirective.name) == (value is True):
                return False
        return True


def _is_connection(parent: GraphQLNamedType | None) -> bool:
    """A Relay connection type, whose `edges`/`nodes` lists are the page its field asked
    for, or a ranking's answer, whose `recommendations` are (`JobRecommendations`)."""
    if not isinstance(parent, GraphQLObjectType):
        return False
    return {"edges", "pageInfo"} <= set(parent.fields) or "recommendations" in parent.fields


# --- introspection ---------------------------------------------------------------------------


def anonymous_introspection_check(checked: CheckedOperation) -> list[GraphQLError]:
    """Refuse `__schema` and `__type` to anonymous viewers (production); `__typename` is fine."""
    if not is_anonymous(checked.context):
        return []
    for field in selected_fields(checked.document, checked.operation):
        if field.name.value in INTROSPECTION_FIELDS:
            return [
                GraphQLError(
                    f"Introspection ({field.name.value}) is disabled for anonymous callers "
                    "here; send credentials to introspect the schema.",
                    field,
                    extensions={"code": "INTROSPECTION_DISABLED"},
                )
            ]
    return []


def is_anonymous(context: Any) -> bool:
    """Contexts without a viewer (tests, tools) count as anonymous."""
    role = getattr(getattr(context, "viewer", None), "role", None)
    return getattr(role, "value", "anonymous") == "anonymous"


def selected_fields(
    document: DocumentNode, operation: OperationDefinitionNode
) -> Iterator[FieldNode]:
    """Every field node `operation` selects, through the fragments it spreads (each once)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    seen: set[str] = set()
    pending: list[SelectionSetNode] = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)


# --- partner agreements ----------------------------------------------------------------------


def partner_agreement_check(checked: CheckedOperation) -> list[GraphQLError]:
    """Refuse what a partner key's agreement does not allow (`resolvers.agreements`); other
    viewers pass untouched. It also hands the context the personal-data fields the operation
    reads (for the audit) and the request's read gateway the types the agreement reaches, so
    `node`/`nodes` answer null for any other type."""
    context = checked.context
    viewer = getattr(context, "viewer", None)
    grant = None if viewer is None else viewer.partner
    if grant is None:
        return []
    errors, personal_fields = check_partner_agreement(
        checked.schema, checked.document, checked.operation, grant, checked.variables
    )
    context.personal_fields = personal_fields
    reads = getattr(context, "reads", None)
    if reads is not None:
        reads.partner_reach = reached_types(checked.schema, grant)
    return errors


# --- the checks the app runs -----------------------------------------------------------------


def default_document_checks(*, max_query_cost: int, production: bool) -> list[DocumentCheck]:
    """The app's checks: text PostgreSQL can't store, a partner key's agreement, the cost
    limit, and in production no introspection for anonymous callers."""
    checks: list[DocumentCheck] = [
        variable_text_check,
        kept_by_document(literal_text_check),
        partner_agreement_check,
        query_cost_check(max_query_cost),
    ]
    if production:
        checks.append(anonymous_introspection_check)
    return checks


__all__ = [
    "DEFAULT_LIST_SIZE",
    "DEFAULT_PAGE_SIZE",
    "CheckedOperation",
    "DocumentCheck",
    "anonymous_introspection_check",
    "default_document_checks",
    "is_anonymous",
    "operation_cost",
    "partner_agreement_check",
    "query_cost",
    "query_cost_check",
    "selected_fields",
]
