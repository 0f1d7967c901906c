"""What a usable input value is: text PostgreSQL can store, decimal numbers, date-times with a
UTC offset that stay representable, dates.

One definition serves the GraphQL scalars, the check of every text input and the cursors.
Each parser raises `InvalidValue` with a message for the client, which never repeats raw input
(only its `repr`, cut short).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from resolvers.errors import InvalidValue

NUL = "\x00"
MAX_DECIMAL_CHARS = 64
MAX_DATE_TIME_CHARS = 64
# Plain or exponent notation in ASCII digits; no NaN/Infinity, spaces, underscores or other
# scripts' digits. A 4-digit exponent keeps every value within what PostgreSQL NUMERIC and
# Python's default decimal context handle without overflow.
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)
DATE_TIME_EXAMPLE = "2026-01-01T00:00:00+08:00"


def shown(value: object) -> str:
    """`value` as a message may show it: its repr, cut short (escapes control characters)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def text_problem(text: str) -> str | None:
    """Why PostgreSQL can't store `text` (a NUL; a lone surrogate, which isn't UTF-8), or None."""
    if NUL in text:
        return "text may not contain the NUL character (U+0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text must be valid Unicode: a lone surrogate (U+D800 to U+DFFF) is not"
    return None


def parse_decimal(value: object) -> Decimal:
    """A finite decimal number from a string like `"5000.00"` (or a JSON number)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidValue(f'expected a decimal number like "5000.00", got {shown(value)}')
    if isinstance(value, int) and value.bit_length() > 200:
        raise InvalidValue("the number is too large")
    text = repr(value) if isinstance(value, float) else str(value)
    if len(text) > MAX_DECIMAL_CHARS or not _DECIMAL.fullmatch(text):
        raise InvalidValue(
            f"{shown(value)} is not a decimal number: write it like \"5000.00\" "
            "(ASCII digits, at most a 4-digit exponent; no NaN or Infinity)"
        )
    return Decimal(text)


def fits_numeric(value: Decimal, precision: int, scale: int) -> bool:
    """Whether a NUMERIC(precision, scale) column holds `value` exactly."""
    return (
        value.is_finite()
        and abs(value) < Decimal(10) ** (precision - scale)
        and value == value.quantize(Decimal(1).scaleb(-scale))
    )


def parse_date_time(value: object) -> datetime:
    """An instant from ISO 8601 text with a UTC offset (RFC 3339), in UTC.

    A time without an offset names no instant, so it is refused; so is one that can't be
    represented once shifted to UTC (`0001-01-01T00:00:00+14:00`).
    """
    if not isinstance(value, str) or len(value) > MAX_DATE_TIME_CHARS or not value.isascii():
        raise InvalidValue(f"expected a date-time like {DATE_TIME_EXAMPLE}, got {shown(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidValue(
            f"{shown(value)} is not an ISO 8601 date-time like {DATE_TIME_EXAMPLE}"
        ) from None
    if parsed.utcoffset() is None:
        raise InvalidValue(f"give a UTC offset, e.g. {DATE_TIME_EXAMPLE}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise InvalidValue(
            f"{shown(value)} is out of range: in UTC it must fall in the years 1 to 9999"
        ) from None


def parse_date(value: object) -> date:
    """A calendar date from ISO 8601 text like `2026-01-31`."""
    if not isinstance(value, str) or len(value) > MAX_DATE_TIME_CHARS or not value.isascii():
        raise InvalidValue(f"expected a date like 2026-01-31, got {shown(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidValue(f"{shown(value)} is not an ISO 8601 date like 2026-01-31") from None
