"""Text that PostgreSQL can't store is refused at the door, whichever field it is meant for.

PostgreSQL text can't hold U+0000, and a lone surrogate (U+D800 to U+DFFF, which JSON can
write as `"\\ud800"`) is not Unicode text at all: it can't be encoded as UTF-8. Any string
argument holding either, inline or in a variable, is refused before anything runs, with an
error naming where it was found (`resolvers.input_values.text_problem` says what is usable).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    ObjectFieldNode,
    StringValueNode,
    Visitor,
    visit,
)

from resolvers.input_values import text_problem
from server.operation_checks import CheckedOperation


def _text_problems(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """(path, problem) for each string in a variable's value that can't be stored."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is not None:
            yield path, problem
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _text_problems(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _text_problems(item, f"{path}[{index}]")


class _LiteralVisitor(Visitor):
    """Finds string literals that can't be stored, each with the argument path it is under."""

    def __init__(self) -> None:
        super().__init__()
        self.path: list[str] = []
        self.errors: list[GraphQLError] = []

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        self.path.append(node.name.value)

    def leave_argument(self, _node: ArgumentNode, *_args: Any) -> None:
        self.path.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_args: Any) -> None:
        self.path.append(node.name.value)

    def leave_object_field(self, _node: ObjectFieldNode, *_args: Any) -> None:
        self.path.pop()

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        problem = text_problem(node.value)
        if problem is not None:
            where = f"argument '{'.'.join(self.path)}'" if self.path else "a default value"
            self.errors.append(_refusal(where, problem, [node]))


def _refusal(where: str, problem: str, nodes: list[Any] | None = None) -> GraphQLError:
    return GraphQLError(
        f"Invalid value for {where}: {problem}.", nodes, extensions={"code": "BAD_USER_INPUT"}
    )


def variable_text_check(checked: CheckedOperation) -> list[GraphQLError]:
    """A document check: every string given in variables must be storable text. It reads
    every value, so it runs on every request (a plan's key holds only the shape of some)."""
    return [
        _refusal(f"variable '{path}'", problem)
        for name, value in checked.variables.items()
        for path, problem in _text_problems(value, f"${name}")
    ]


def literal_text_check(checked: CheckedOperation) -> list[GraphQLError]:
    """A document check: every string written in the document must be storable text."""
    visitor = _LiteralVisitor()
    document = checked.document
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    for definition in (checked.operation, *fragments):
        visit(definition, visitor)
    return visitor.errors

