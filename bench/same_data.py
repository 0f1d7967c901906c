"""Every server's answer in one plain shape, and where two answers first differ.

The workloads alias their fields so all answers have the same keys; what differs is how each
server spells a value. `plain` rewrites them: an `id` becomes the database key (laborhub's and
the asyncpg side's global IDs decoded, PostGraphile's BigInt strings parsed), decimals become
decimal strings, timestamps (`...At`) instants, enum values lower case (laborhub's `PUBLISHED`,
the column's `published`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from bench.workloads import ASYNCPG, LABORHUB, LABORHUB_COMPILED, POSTGRAPHILE4, POSTGRAPHILE5
from resolvers.global_ids import decode_global_id, int_key

ENUM_FIELDS = frozenset({"status", "salaryUnit", "employmentType", "insuranceType"})
DECIMAL_FIELDS = frozenset(
    {"salaryMin", "salaryMax", "contributionBase", "employerAmount", "personalAmount"}
)
FLOAT_FIELDS = frozenset({"score"})
"""Floats: PostgreSQL's JSON writes a whole float8 as `55`, Python's as `55.0`."""
MONTH_FIELDS = frozenset({"period"})
"""Months: laborhub's `2026-03`, the `period` column's first day `2026-03-01` elsewhere."""

IdKey = Callable[[object], object]


def global_id_key(value: object) -> object:
    """The database key in a laborhub global ID: an int, or a code as text."""
    _, key = decode_global_id(str(value))
    number = int_key(key)
    return key if number is None else number


def bigint_key(value: object) -> object:
    """PostGraphile sends bigint keys as strings."""
    return int(str(value))


ID_KEYS: dict[str, IdKey] = {
    LABORHUB: global_id_key,
    LABORHUB_COMPILED: global_id_key,
    ASYNCPG: global_id_key,
    POSTGRAPHILE4: bigint_key,
    POSTGRAPHILE5: bigint_key,
}


def plain(value: object, implementation: str) -> object:
    """`value` (one server's `data`) in the shape every server's answer is compared in."""
    return _plain(value, None, ID_KEYS[implementation])


def _plain(value: object, key: str | None, id_key: IdKey) -> object:
    if isinstance(value, dict):
        return {name: _plain(item, name, id_key) for name, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, key, id_key) for item in value]
    if value is None or key is None:
        return value
    if key == "id":
        return id_key(value)
    if key in ENUM_FIELDS:
        return str(value).lower()
    if key in DECIMAL_FIELDS:
        return str(Decimal(str(value)))
    if key in FLOAT_FIELDS:
        return float(str(value))
    if key in MONTH_FIELDS:
        return str(value)[:7]
    if key.endswith("At"):
        return datetime.fromisoformat(str(value))
    return value


def first_difference(expected: object, found: object, path: str = "") -> str | None:
    """Where `found` first differs from `expected` (a path and both values), or None."""
    here = path or "data"
    if isinstance(expected, dict) and isinstance(found, dict):
        if expected.keys() != found.keys():
            return f"{here}: keys {sorted(expected)} != {sorted(found)}"
        for name in expected:
            difference = first_difference(expected[name], found[name], f"{path}.{name}".lstrip("."))
            if difference:
                return difference
        return None
    if isinstance(expected, list) and isinstance(found, list):
        for index, (left, right) in enumerate(zip(expected, found, strict=False)):
            difference = first_difference(left, right, f"{here}[{index}]")
            if difference:
                return difference
        if len(expected) != len(found):
            return f"{here}: {len(expected)} items != {len(found)}"
        return None
    if type(expected) is not type(found) or expected != found:
        return f"{here}: {expected!r} != {found!r}"
    return None
