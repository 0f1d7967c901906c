"""Text that PostgreSQL can't store is refused at the door, whichever field it is meant for.

PostgreSQL text can't hold U+0000. A NUL in any string argument, inline or in a variable,
is refused before anything runs, with an error naming where it was found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    StringValueNode,
    Visitor,
    visit,
)

NUL = "\x00"


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, str):
        if NUL in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}[{index}]")


class _LiteralVisitor(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.argument = "?"
        self.errors: list[GraphQLError] = []

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.argument = node.name.value

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if NUL in node.value:
            self.errors.append(_refusal(f"argument '{self.argument}'", [node]))


def _refusal(where: str, nodes: list[Any] | None = None) -> GraphQLError:
    return GraphQLError(
        f"Invalid value for {where}: text may not contain the NUL character (U+0000).",
        nodes,
        extensions={"code": "BAD_USER_INPUT"},
    )


def nul_character_check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    context: Any,
) -> list[GraphQLError]:
    errors = [
        _refusal(f"variable '{path}'")
        for name, value in variables.items()
        for path in _nul_paths(value, f"${name}")
    ]
    visitor = _LiteralVisitor()
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    for definition in (operation, *fragments):
        visit(definition, visitor)
    return errors + visitor.errors
