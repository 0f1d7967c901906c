"""Which fields a selection asks of an object of one type: fragments, directives, aliases.

The compiler walks a validated document the way execution would (GraphQL's CollectFields):
fields by response key in document order, fragments applied when their type condition holds
for the object's type, `@skip`/`@include` evaluated with the variables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionNode,
    SelectionSetNode,
)
from graphql.execution.values import VariableValues, get_directive_values

Fields = dict[str, list[FieldNode]]
"""Response key -> the field nodes that ask for it (merged, as execution merges them)."""


class Selections:
    """Field collection for one operation: its fragments and variables."""

    def __init__(
        self, fragments: Mapping[str, FragmentDefinitionNode], variables: dict[str, Any]
    ) -> None:
        self.fragments = fragments
        self.variables = VariableValues(sources={}, coerced=variables)

    def of(self, nodes: list[FieldNode], object_type: GraphQLObjectType) -> Fields:
        """The fields the sub-selections of `nodes` ask of an `object_type`."""
        fields: Fields = {}
        for node in nodes:
            if node.selection_set is not None:
                self._collect(node.selection_set, object_type, fields, set())
        return fields

    def _collect(
        self,
        selection_set: SelectionSetNode,
        object_type: GraphQLObjectType,
        fields: Fields,
        spread: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                fields.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or _applies(condition.name.value, object_type):
                    self._collect(selection.selection_set, object_type, fields, spread)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if name in spread or fragment is None:
                    continue
                spread.add(name)
                if _applies(fragment.type_condition.name.value, object_type):
                    self._collect(fragment.selection_set, object_type, fields, spread)

    def _included(self, selection: SelectionNode) -> bool:
        skip = get_directive_values(GraphQLSkipDirective, selection, self.variables)
        if skip and skip.get("if") is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, selection, self.variables)
        return not (include and include.get("if") is False)


def _applies(type_condition: str, object_type: GraphQLObjectType) -> bool:
    return type_condition == object_type.name or any(
        interface.name == type_condition for interface in object_type.interfaces
    )
