"""Relay global object IDs: base64 of `TypeName:key`, opaque to clients."""

from __future__ import annotations

import base64
import binascii

from resolvers.errors import BadArgument


def encode_global_id(type_name: str, key: object) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def decode_global_id(value: str, argument: str = "id") -> tuple[str, str]:
    """Split a global ID into (type name, key); a junk value is a BadArgument naming `argument`."""
    try:
        text = base64.b64decode(value.encode(), validate=True).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise BadArgument(argument, f"'{value[:64]}' is not a laborhub global ID") from None
    type_name, sep, key = text.partition(":")
    if not sep or not type_name or not key:
        raise BadArgument(argument, f"'{value[:64]}' is not a laborhub global ID")
    return type_name, key


def decode_int_id(value: str, expected_type: str, argument: str) -> int:
    """The database id behind a global ID that must name an `expected_type`."""
    type_name, key = decode_global_id(value, argument)
    if type_name != expected_type or not key.isdigit() or len(key) > 18:
        raise BadArgument(argument, f"expected the ID of a {expected_type}")
    return int(key)
