"""Code-subtree conditions: a division and everything under it, as index-friendly ranges."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_

from db.codes import division_prefix
from resolvers.access import Role, Viewer


def prefix_range(prefix: str) -> tuple[str, str]:
    """The codes that start with `prefix`, as [low, high) (code columns compare byte-wise)."""
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def within_prefix(column: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    """`column` starts with `prefix`, as a range."""
    low, high = prefix_range(prefix)
    return and_(column >= low, column < high)


def within_division(column: ColumnElement[Any], code: str) -> ColumnElement[bool]:
    """Rows whose division is `code` or lies under it."""
    return within_prefix(column, division_prefix(code))


def lies_within(code: str, division: str) -> bool:
    """The Python twin of `within_division`: `code` is `division` or lies under it."""
    return code.startswith(division_prefix(division))


def writes_within(viewer: Viewer, *codes: str | None) -> bool:
    """Whether `viewer` may write where one of `codes` lies: staff within their division, a
    partner within its regions; other viewers are not bound by region (each write decides
    which roles may write at all)."""
    if viewer.role is Role.STAFF:
        divisions: tuple[str, ...] = (viewer.region_code,) if viewer.region_code else ()
    elif viewer.partner is not None:
        divisions = viewer.partner.regions
    else:
        return True
    return any(
        code is not None and lies_within(code, division) for code in codes for division in divisions
    )
