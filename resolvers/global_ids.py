"""Relay global object IDs: base64 of `TypeName:key`, opaque to clients.

Each object has exactly one global ID. A value is accepted only in that canonical form, the
one `encode_global_id` gives: standard base64 with its padding and no stray bits, a type name,
and a key spelled as the type spells it (an integer key in ASCII digits with no sign, leading
zero or space; a code in its national format). `V29ya2VyOjAwMDU3Nw==` (`Worker:000577`) is not
worker 577's ID, so no two spellings of one record can reach a query or an audit event.
"""

from __future__ import annotations

import base64
import binascii
from typing import NewType

from resolvers.errors import BadArgument

GlobalId = NewType("GlobalId", str)
"""A global ID as a client sends it, not yet decoded: the type of a write's input field that
the API shows as `ID` (`resolvers.writes.Write`)."""

MAX_INT_KEY = 2**63 - 1  # PostgreSQL bigint
_MAX_INT_KEY_DIGITS = len(str(MAX_INT_KEY))

def encode_global_id(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def not_an_id(value: str, argument: str) -> BadArgument:
    return BadArgument(argument, f"{value[:64]!r} is not a laborhub global ID")


def decode_global_id(value: str, argument: str = "id") -> tuple[str, str]:
    """Split a global ID into (type name, key text); anything but the canonical encoding of
    some `TypeName:key` is a BadArgument naming `argument`."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise not_an_id(value, argument) from None
    if base64.b64encode(raw).decode("ascii") != value:  # padding, unused bits
        raise not_an_id(value, argument)
    type_name, sep, key = text.partition(":")
    if not sep or not type_name or not key:
        raise not_an_id(value, argument)
    return type_name, key


def int_key(text: str) -> int | None:
    """The integer `text` spells canonically (`577`, not `0577`, `+577`, `٥٧٧` or `5_77`) if
    it fits a bigint; else None."""
    if not (0 < len(text) <= _MAX_INT_KEY_DIGITS and text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if str(number) == text and number <= MAX_INT_KEY else None


def decode_int_id(value: str, expected_type: str, argument: str) -> int:
    """The database id behind a global ID that must name an `expected_type`."""
    type_name, key = decode_global_id(value, argument)
    number = int_key(key) if type_name == expected_type else None
    if number is None:
        raise BadArgument(argument, f"expected an ID of type {expected_type}")
    return number
