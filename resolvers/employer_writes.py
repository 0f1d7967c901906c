"""Writing employers: `registerEmployer`, `updateEmployer` and `verifyEmployer`, declared writes.

Who registers an employer: staff for their division, partners (agencies) within their regions,
admins. Not the employer itself: an employer's token names its organisation, so the
organisation exists before anyone signs in for it; and not anonymous callers, since every
employer is public at once. Its credit code (GB 32100) is checked by its check character and
is unique: the same code twice is DUPLICATE (a unique key, so also under races). The employer
itself, staff of its division and admins change it; a change of name or region unsets
`verifiedAt`, which staff of its division (and admins) set again with `verifyEmployer`.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.codes import (
    CodeError,
    is_division_code_format,
    is_industry_code_format,
    normalize_credit_code,
)
from db.models.enums import EmployerSize
from resolvers.access import Role, Viewer
from resolvers.divisions import writes_within
from resolvers.employers import EMPLOYER, EMPLOYERS
from resolvers.global_ids import GlobalId
from resolvers.pagination import readable_columns
from resolvers.write_checks import CURRENT_REGIONS, INDUSTRIES, given
from resolvers.writes import (
    Outcome,
    Problem,
    Tx,
    Write,
    declare_write,
    decoded_key,
    described,
    done,
    failed,
    seen_row,
)


class EmployerErrorCode(enum.Enum):
    """Why an employer write changed nothing."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    STALE_VERSION = "stale_version"
    DUPLICATE = "duplicate"  # another employer has this credit code


EmployerProblem = Problem[EmployerErrorCode]
EmployerOutcome = Outcome[RowMapping, EmployerErrorCode]
Code = EmployerErrorCode

REGISTERING_ROLES = frozenset({Role.STAFF, Role.PARTNER, Role.ADMIN})
CHANGING_ROLES = frozenset({Role.EMPLOYER, Role.STAFF, Role.ADMIN})
VERIFYING_ROLES = frozenset({Role.STAFF, Role.ADMIN})
MAX_NAME = 128
VERSION_DOC = "The employer's version as read; another version is STALE_VERSION."
NO_SUCH_EMPLOYER = Problem(("employerId",), Code.NOT_FOUND, "No such employer.")


@dataclass(frozen=True, kw_only=True)
class NewEmployer:
    """An employer to register; codes stay codes."""

    name: str
    credit_code: str = described("Unified social credit code (GB 32100), 18 characters.")
    industry_code: str = described("GB/T 4754: a section letter A–T, optionally 2–4 digits.")
    region_code: str = described("A current 6-digit division code.")
    size: EmployerSize
    is_platform: bool = described(
        "A platform of new employment forms (delivery, ride-hailing) that pays per order.",
        default=False,
    )


@dataclass(frozen=True, kw_only=True)
class EmployerChanges:
    """What to change of an employer (a field not given stays), at the version read."""

    employer_id: GlobalId
    version: int = described(VERSION_DOC)
    name: str | None = described("A new name unsets verifiedAt.", default=None)
    industry_code: str | None = None
    region_code: str | None = described("A new region unsets verifiedAt.", default=None)
    size: EmployerSize | None = None
    is_platform: bool | None = None


@dataclass(frozen=True, kw_only=True)
class EmployerVerifying:
    """Which employer staff have verified, at the version read."""

    employer_id: GlobalId
    version: int = described(VERSION_DOC)


def _field_problems(
    name: str | None, industry_code: str | None, region_code: str | None
) -> list[EmployerProblem]:
    problems: list[EmployerProblem] = []
    if name is not None and not name.strip():
        problems.append(Problem(("name",), Code.INVALID, "The name must not be blank."))
    elif name is not None and len(name.strip()) > MAX_NAME:
        problems.append(Problem(("name",), Code.INVALID, f"At most {MAX_NAME} characters."))
    if industry_code is not None and not is_industry_code_format(industry_code):
        problems.append(Problem(
            ("industryCode",), Code.INVALID,
            "An industry code is a section letter A–T, optionally 2–4 digits.",
        ))
    if region_code is not None and not is_division_code_format(region_code):
        problems.append(Problem(
            ("regionCode",), Code.INVALID, f"'{region_code[:32]}' is not a 6-digit division code."
        ))
    return problems


def credit_code_problem(value: str) -> EmployerProblem | None:
    """INVALID on `creditCode` unless it is a valid GB 32100 code (its registering region,
    characters 3–8, a division code, and its check character right)."""
    try:
        code = normalize_credit_code(value)
    except CodeError as error:
        return Problem(("creditCode",), Code.INVALID, str(error))
    if not is_division_code_format(code[2:8]):
        return Problem(
            ("creditCode",), Code.INVALID,
            "Characters 3–8 of a credit code are its registering region's division code.",
        )
    return None


def _region_permission(viewer: Viewer, region_code: str) -> EmployerProblem | None:
    """Staff act within their division, partners within their regions."""
    if not writes_within(viewer, region_code):
        return Problem(("regionCode",), Code.NOT_ALLOWED, "That region is outside yours.")
    return None


async def _unknown_codes(
    connection: AsyncConnection, industry_code: str | None, region_code: str | None
) -> list[EmployerProblem]:
    problems: list[EmployerProblem] = []
    for vocabulary, field, code in (
        (CURRENT_REGIONS, "regionCode", region_code),
        (INDUSTRIES, "industryCode", industry_code),
    ):
        problems += await vocabulary.unknown(connection, given(field, code), Code.NOT_FOUND)
    return problems


def _registering_problems(viewer: Viewer, new: NewEmployer) -> list[EmployerProblem]:
    problems = _field_problems(new.name, new.industry_code, new.region_code)
    invalid_code = credit_code_problem(new.credit_code)
    problems += [invalid_code] if invalid_code else []
    if problems:
        return problems
    denied = _region_permission(viewer, new.region_code)
    return [denied] if denied else []


async def _register(tx: Tx, new: NewEmployer) -> EmployerOutcome:
    unknown = await _unknown_codes(tx.connection, new.industry_code, new.region_code)
    if unknown:
        return failed(*unknown)
    values = dataclasses.asdict(new)
    values.update(name=new.name.strip(), credit_code=normalize_credit_code(new.credit_code))
    made = await tx.connection.execute(
        insert(EMPLOYERS)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[EMPLOYERS.c.credit_code])
        .returning(*readable_columns(EMPLOYERS))
    )
    employer = made.mappings().first()
    if employer is None:
        return failed(Problem(
            ("creditCode",), Code.DUPLICATE, "An employer with this credit code is registered."
        ))
    return done(employer)


REGISTER_EMPLOYER = declare_write(Write(
    "registerEmployer", "Register an employer (staff in their division, partners in their "
    "regions, admins); its credit code once.",
    NewEmployer, EMPLOYER, EmployerErrorCode, _register, _registering_problems,
    REGISTERING_ROLES, "Staff, partners and admins register employers.", idempotent=True,
))


def _employer_key(employer_id: str) -> int | EmployerProblem:
    return decoded_key(employer_id, "Employer", "employerId", Code.INVALID)


def _changing_problems(viewer: Viewer, changes: EmployerChanges) -> list[EmployerProblem]:
    problems = _field_problems(changes.name, changes.industry_code, changes.region_code)
    key = _employer_key(changes.employer_id)
    problems += [key] if isinstance(key, Problem) else []
    given = _given(changes)
    if not problems and not given:
        problems.append(Problem((), Code.INVALID, "Give at least one field to change."))
    if problems:
        return problems
    if viewer.role is Role.EMPLOYER and key != viewer.employer_id:
        return [Problem(("employerId",), Code.NOT_ALLOWED, "Employers change only themselves.")]
    if changes.region_code is not None:
        denied = _region_permission(viewer, changes.region_code)
        return [denied] if denied else []
    return []


def _given(changes: EmployerChanges) -> dict[str, Any]:
    names = ("name", "industry_code", "region_code", "size", "is_platform")
    return {name: getattr(changes, name) for name in names if getattr(changes, name) is not None}


async def _managed_employer(tx: Tx, employer_id: str) -> RowMapping | EmployerProblem:
    """The employer, locked, if this viewer may change it (staff: of their division)."""
    key = _employer_key(employer_id)
    employer = await seen_row(tx.connection, EMPLOYER, key, tx.viewer, lock=True)
    if employer is None:
        return NO_SUCH_EMPLOYER
    if not writes_within(tx.viewer, employer["region_code"]):
        return Problem(
            ("employerId",), Code.NOT_ALLOWED, "That employer's region is outside yours."
        )
    return employer


async def _change_employer(
    tx: Tx, employer: RowMapping, version: int, values: dict[str, Any]
) -> EmployerOutcome:
    return await tx.change(
        EMPLOYER, employer["id"], version, values, NO_SUCH_EMPLOYER, Code.STALE_VERSION
    )


async def _update(tx: Tx, changes: EmployerChanges) -> EmployerOutcome:
    employer = await _managed_employer(tx, changes.employer_id)
    if isinstance(employer, Problem):
        return failed(employer)
    unknown = await _unknown_codes(tx.connection, changes.industry_code, changes.region_code)
    if unknown:
        return failed(*unknown)
    values = _given(changes)
    if "name" in values:
        values["name"] = values["name"].strip()
    identity = {"name": employer["name"], "region_code": employer["region_code"]}
    if any(name in values and values[name] != identity[name] for name in identity):
        values["verified_at"] = None
    return await _change_employer(tx, employer, changes.version, values)


UPDATE_EMPLOYER = declare_write(Write(
    "updateEmployer", "Change an employer (itself, staff of its division, admins); a new name "
    "or region unsets verifiedAt.",
    EmployerChanges, EMPLOYER, EmployerErrorCode, _update, _changing_problems,
    CHANGING_ROLES, "Your role may not change employers.",
))


def _verifying_problems(viewer: Viewer, verifying: EmployerVerifying) -> list[EmployerProblem]:
    key = _employer_key(verifying.employer_id)
    return [key] if isinstance(key, Problem) else []


async def _verify(tx: Tx, verifying: EmployerVerifying) -> EmployerOutcome:
    employer = await _managed_employer(tx, verifying.employer_id)
    if isinstance(employer, Problem):
        return failed(employer)
    return await _change_employer(tx, employer, verifying.version, {"verified_at": func.now()})


VERIFY_EMPLOYER = declare_write(Write(
    "verifyEmployer", "Record that an employer's registration was checked, now (staff of its "
    "division, admins).",
    EmployerVerifying, EMPLOYER, EmployerErrorCode, _verify, _verifying_problems,
    VERIFYING_ROLES, "Staff of its division verify an employer.",
))
