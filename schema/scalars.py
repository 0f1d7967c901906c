"""laborhub's Decimal, DateTime and Date scalars: the stock GraphQL names, stricter parsing.

The stock scalars let through what the database or Python can't use (`1e999999`, `NaN`, a
naive `2026-01-01T00:00:00` compared with an aware one, `0001-01-01T00:00:00+14:00`, which
leaves the calendar once shifted to UTC) and said `Value cannot represent a Decimal` without
saying where. These refuse such values while the request is checked, as `BAD_USER_INPUT`:

- in a variable, graphql-core names it: `Variable '$at' has invalid value: DateTime: give a UTC
  offset, e.g. 2026-01-01T00:00:00+08:00`;
- in a literal, the message names the argument or input field it was written for:
  `Invalid value for argument 'postedAfter' (DateTime): give a UTC offset, ...`.

What values mean (an amount's range, its two decimal places) is checked where they are used.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from graphql import (
    FloatValueNode,
    GraphQLError,
    IntValueNode,
    StringValueNode,
    ValueNode,
)
from strawberry.types.scalar import ScalarDefinition

from resolvers.errors import InvalidValue
from resolvers.input_values import parse_date, parse_date_time, parse_decimal

# In a document a literal follows the name it is given to: `salaryMin: "abc"` (commas and
# white space are insignificant in GraphQL, so they may stand around the colon).
_NAME_BEFORE_VALUE = re.compile(r"([_A-Za-z][_0-9A-Za-z]*)[\s,\ufeff]*:[\s,\ufeff]*\Z")
_LOOK_BACK_CHARS = 256


def _refusal(message: str, node: ValueNode | None = None) -> GraphQLError:
    return GraphQLError(message, node, extensions={"code": "BAD_USER_INPUT"})


def _written_for(node: ValueNode) -> str | None:
    """The argument or input-field name a literal is written after, if the source shows it."""
    if node.loc is None:
        return None
    body, start = node.loc.source.body, node.loc.start
    found = _NAME_BEFORE_VALUE.search(body[max(0, start - _LOOK_BACK_CHARS) : start])
    return found[1] if found else None


def _scalar(
    name: str,
    description: str,
    python_type: type,
    parse: Callable[[object], Any],
    literal_nodes: tuple[type[ValueNode], ...],
) -> ScalarDefinition:
    def parse_value(value: object) -> Any:
        try:
            return parse(value)
        except InvalidValue as problem:
            raise _refusal(f"{name}: {problem}") from None

    def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
        try:
            if not isinstance(node, literal_nodes):
                raise InvalidValue(f"expected a string, got a {node.kind.replace('_', ' ')}")
            return parse(node.value)  # type: ignore[attr-defined]
        except InvalidValue as problem:
            written_for = _written_for(node)
            where = f"argument '{written_for}'" if written_for else "a literal"
            raise _refusal(f"Invalid value for {where} ({name}): {problem}", node) from None

    definition = strawberry.scalar(
        name=name,
        description=description,
        serialize=_serializer(python_type),
        parse_value=parse_value,
        parse_literal=parse_literal,
    )
    return definition


def _serializer(python_type: type) -> Callable[[Any], str]:
    if python_type is Decimal:
        return str
    return lambda value: str(value.isoformat())


DecimalScalar = _scalar(
    "Decimal",
    "Decimal (fixed-point), written as a string such as \"5000.00\"",
    Decimal,
    parse_decimal,
    (StringValueNode, IntValueNode, FloatValueNode),
)
DateTimeScalar = _scalar(
    "DateTime",
    "Date with time (isoformat) and a UTC offset, such as 2026-01-01T08:00:00+08:00",
    datetime,
    parse_date_time,
    (StringValueNode,),
)
DateScalar = _scalar("Date", "Date (isoformat)", date, parse_date, (StringValueNode,))

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {
    Decimal: DecimalScalar,
    datetime: DateTimeScalar,
    date: DateScalar,
}
"""`strawberry.Schema(scalar_overrides=...)`: these replace Strawberry's stock scalars."""
