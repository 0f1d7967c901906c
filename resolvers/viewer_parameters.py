"""What row policies read of the viewer, as named SQL parameters.

Row policies compare rows with who asks: a worker's or employer's own id, a staff member's
division, a partner's regions and consent purpose, the principal records a viewer made are
kept under. Written with the words below, each such
value is a parameter the compiled read path can tell from every other one (its name starts
with VIEWER), so one compiled plan serves every viewer of the same `shared_shape` (every
worker, every division at any level, every partner key with the same agreement but other
regions) by setting those parameters per request (`server.compiled_reads`). A plan in which
a viewer's value shows up as any other parameter, or in the statement's text, is never shared:
the plan is compiled again for a `probe` viewer, who differs only in values no row has, and
must come out the same but for these parameters.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Hashable
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    String,
    and_,
    bindparam,
    false,
    or_,
)

from db.codes import division_prefix
from resolvers.access import PartnerGrant, Viewer
from resolvers.divisions import prefix_range

VIEWER = "viewer__"
VIEWER_ID_FIELDS = ("worker_id", "employer_id")
DIVISION_LOW, DIVISION_HIGH = "division_low", "division_high"
PURPOSE = "purpose"
PRINCIPAL = "principal"
REGION_LOW, REGION_HIGH = "region_low", "region_high"
NO_RANGE = ("", "")
"""A range no code lies in: the bounds of a partner's region slots beyond its regions."""

_NAME = re.compile(
    VIEWER + r"(worker_id|employer_id|division_low|division_high|purpose|principal"
    r"|region_low_\d+|region_high_\d+)(?:_\d+)?"
)


def viewer_id(viewer: Viewer, field: str) -> BindParameter[Any]:
    """`viewer.<field>` (one of VIEWER_ID_FIELDS) as a parameter named after the field."""
    if field not in VIEWER_ID_FIELDS:
        raise ValueError(f"not a viewer id field: {field}")
    return _parameter(field, getattr(viewer, field), BigInteger)


def in_staff_division(column: ColumnElement[Any], viewer: Viewer) -> ColumnElement[bool]:
    """Rows whose `column` (a division code) is the staff member's division or under it: a
    range over the division's code prefix, the same SQL at every level."""
    assert viewer.region_code is not None
    low, high = prefix_range(division_prefix(viewer.region_code))
    return and_(
        column >= _parameter(DIVISION_LOW, low, String), column < _parameter(DIVISION_HIGH, high)
    )


def in_partner_regions(column: ColumnElement[Any], grant: PartnerGrant) -> ColumnElement[bool]:
    """Rows whose `column` lies in one of the partner's regions: one range per slot, and
    `region_slots` slots, so agreements with about as many regions share one statement."""
    ranges = _region_ranges(grant)
    if not ranges:
        return false()
    return or_(
        *(
            and_(
                column >= _parameter(f"{REGION_LOW}_{slot}", low, String),
                column < _parameter(f"{REGION_HIGH}_{slot}", high, String),
            )
            for slot, (low, high) in enumerate(ranges)
        )
    )


def viewer_principal(viewer: Viewer) -> BindParameter[Any]:
    """Who the viewer is, as the records they made name them (`Viewer.principal`)."""
    return _parameter(PRINCIPAL, viewer.principal, String)


def partner_purpose(grant: PartnerGrant) -> BindParameter[Any]:
    """The consent purpose a partner's reads of personal data rely on."""
    return _parameter(PURPOSE, grant.purpose, String)


def region_slots(count: int) -> int:
    """How many region ranges a statement for `count` regions has: the next power of two."""
    return 0 if count == 0 else 1 << (count - 1).bit_length()


def viewer_parameter(parameter_name: str) -> str | None:
    """The viewer value a compiled parameter holds (`viewer__worker_id_3` -> `worker_id`,
    `viewer__region_low_2_7` -> `region_low_2`), or None for any other parameter."""
    found = _NAME.fullmatch(parameter_name)
    return None if found is None else found[1]


def viewer_value(viewer: Viewer, name: str) -> Any:
    """The value of the viewer parameter `name` (from `viewer_parameter`) for `viewer`."""
    if name in VIEWER_ID_FIELDS:
        return getattr(viewer, name)
    if name == PRINCIPAL:
        return viewer.principal
    if name in (DIVISION_LOW, DIVISION_HIGH):
        assert viewer.region_code is not None
        low, high = prefix_range(division_prefix(viewer.region_code))
        return low if name == DIVISION_LOW else high
    grant = viewer.partner
    assert grant is not None, name
    if name == PURPOSE:
        return grant.purpose
    bound, _, slot = name.rpartition("_")
    low, high = _region_ranges(grant)[int(slot)]
    return low if bound == REGION_LOW else high


def shared_shape(viewer: Viewer) -> Hashable:
    """What a plan shared by many viewers depends on: the role, whether the viewer has each
    id and a division, and of a partner's agreement all but its regions (their number, in
    slots) and its purpose. Who the viewer is, and which division or regions, are
    parameters."""
    grant = viewer.partner
    agreement = None if grant is None else (
        grant.scopes, grant.fields, grant.types, region_slots(len(grant.regions))
    )
    return (
        viewer.role,
        viewer.worker_id is not None,
        viewer.employer_id is not None,
        viewer.region_code is not None,
        agreement,
    )


PROBE_ID = -(2**62) - 7
"""The id of a worker or employer that can't exist (ids are positive)."""
PROBE_NAME = "\x00probe"
"""The partner name and consent purpose of a probe."""


def probe(viewer: Viewer) -> Viewer | None:
    """A viewer of the same `shared_shape` whose parameters hold values no row has (ids,
    divisions and regions of other levels than the viewer's), or None when the viewer has no
    parameters (its plan is shared by its shape alone)."""
    changes: dict[str, Any] = {
        name: PROBE_ID for name in VIEWER_ID_FIELDS if getattr(viewer, name) is not None
    }
    if viewer.region_code is not None:
        changes["region_code"] = _probe_division(viewer.region_code, 0)
    if viewer.partner is not None:
        grant = viewer.partner
        changes["partner"] = dataclasses.replace(
            grant, key_id=PROBE_ID, partner=PROBE_NAME, purpose=PROBE_NAME,
            regions=tuple(_probe_division(code, n) for n, code in enumerate(grant.regions)),
        )
    if changes and viewer.subject is not None:  # and so of its principal
        changes["subject"] = PROBE_NAME
    return dataclasses.replace(viewer, **changes) if changes else None


def _probe_division(code: str, n: int) -> str:
    """A division code no row has (`99....`), at another level than `code`."""
    if len(division_prefix(code)) == 2:
        return f"99{n % 99 + 1:02d}00"  # a prefecture's
    return f"9{n % 10}0000"  # a province's


def _parameter(name: str, value: Any, type_: Any = String) -> BindParameter[Any]:
    return bindparam(VIEWER + name, value, type_=type_, unique=True)


def _region_ranges(grant: PartnerGrant) -> list[tuple[str, str]]:
    ranges = [prefix_range(division_prefix(code)) for code in grant.regions]
    return ranges + [NO_RANGE] * (region_slots(len(ranges)) - len(ranges))
