"""Writing workers: registering one (`registerWorker`) and changing one (`updateWorker`),
declared writes.

An ID number is checked by GB 11643 (`db.codes`: length, birth date, checksum) and its first
two digits must name a province; it is stored as the vault seals it (ciphertext, keyed hash,
mask), and so is a phone. Gender and birth date come from the ID number, which no update
changes. A person whose ID number's keyed hash is registered already is DUPLICATE, without
saying who: the unique index on the hash decides, also between concurrent registrations.

Who may write where: staff where the worker lies in their division (by current or hukou
region), partners where the worker's current region lies in theirs (and, to change a worker,
with the worker's consent: the row policy), admins anywhere, and a worker their own record,
all but what their ID card says (name, hukou region).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from enum import Enum
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from db.codes import (
    CodeError,
    id_number_birth_date,
    id_number_gender,
    is_division_code_format,
    normalize_id_number,
    normalize_mobile_phone,
)
from db.models import Worker, WorkerSkill
from db.models.base import table_of
from db.models.enums import EducationLevel, RegionLevel
from db.pii import PersonalDataVault
from resolvers.access import Role, Viewer
from resolvers.declarations import graphql_name
from resolvers.divisions import writes_within
from resolvers.events import Event, EventType, notify, regions_of
from resolvers.global_ids import GlobalId
from resolvers.pagination import readable_columns
from resolvers.workers import WORKER
from resolvers.write_checks import (
    CURRENT_REGIONS,
    REGIONS,
    SKILLS,
    Entry,
    Vocabulary,
    entries,
    given,
    text_length_problem,
)
from resolvers.writes import (
    UNCHANGED,
    Outcome,
    Problem,
    Tx,
    Unchanged,
    Write,
    declare_write,
    decoded_key,
    described,
    done,
    failed,
    versioned_update,
)


class WorkerErrorCode(Enum):
    """Why a write of a worker or of a worker's records changed nothing."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    DUPLICATE = "duplicate"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    STALE_VERSION = "stale_version"


WorkerProblem = Problem[WorkerErrorCode]
WorkerOutcome = Outcome[RowMapping, WorkerErrorCode]

WORKERS = table_of(Worker)
WORKER_SKILLS = table_of(WorkerSkill)
MAX_NAME = 64
MAX_SKILLS = 50
REGISTERING_ROLES = frozenset({Role.STAFF, Role.PARTNER, Role.ADMIN})
CHANGING_ROLES = frozenset({Role.WORKER, Role.STAFF, Role.PARTNER, Role.ADMIN})
# The ID number's first two digits: a province (its code may be historical below that).
ID_NUMBER_PROVINCES = Vocabulary(
    REGIONS.c.code, is_division_code_format, "a 6-digit division code",
    "province (the ID number's first two digits)", (REGIONS.c.level == RegionLevel.PROVINCE,),
)
INVALID = WorkerErrorCode.INVALID
NOT_ALLOWED = WorkerErrorCode.NOT_ALLOWED


@dataclass(frozen=True, kw_only=True)
class NewWorker:
    """A worker to register, as their resident ID card and they themselves say."""

    name: str = described("As on the resident ID card; at most 64 characters.")
    id_number: str = described(
        "Resident ID number (GB 11643), 18 characters (x reads as X): stored encrypted, shown "
        "masked; gender and birth date come from it."
    )
    phone: str | None = described(
        "A mainland mobile number (11 digits; +86, spaces and hyphens are allowed): stored "
        "encrypted, shown masked.",
        default=None,
    )
    hukou_region_code: str = described("Where the household registration (户籍) is.")
    current_region_code: str | None = described(
        "Where the worker lives and works now.", default=None
    )
    education_level: EducationLevel
    skills: list[str] = described(
        "Codes of the `skills` list; each starts at level 1.", default_factory=list
    )
    new_employment_form: bool = described(
        "Works in a new employment form (platform delivery, ride-hailing...).", default=False
    )


@dataclass(frozen=True, kw_only=True)
class WorkerChange:
    """What changes of a worker, at the version the client read. A field left out stays as it
    is; null clears `phone` or `currentRegionCode` and is INVALID for the others. A worker may
    change their own phone, current region, education, skills and employment form; staff,
    partners and admins also the name and hukou region. The ID number never changes."""

    worker_id: GlobalId
    version: int = described("The worker's version as read; another one is STALE_VERSION.")
    name: str | None = described("As on the resident ID card.", default=UNCHANGED)
    phone: str | None = described("A mainland mobile number; null clears it.", default=UNCHANGED)
    hukou_region_code: str | None = described("A current division code.", default=UNCHANGED)
    current_region_code: str | None = described(
        "A current division code; null clears it.", default=UNCHANGED
    )
    education_level: EducationLevel | None = described(
        "Highest completed education.", default=UNCHANGED
    )
    skills: list[str] | None = described(
        "The whole set of skill codes: codes kept keep their level, new ones start at 1, "
        "codes left out are removed ([] removes every one).",
        default=UNCHANGED,
    )
    new_employment_form: bool | None = described(
        "Works in a new employment form.", default=UNCHANGED
    )


CHANGEABLE = tuple(f.name for f in fields(WorkerChange) if f.default is UNCHANGED)
CLEARABLE = {"phone", "current_region_code"}
ON_THE_ID_CARD = {"name", "hukou_region_code"}  # staff, partners and admins change these


def _given(request: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields of `request` among `names` that the client gave (an empty list counts)."""
    values = {name: getattr(request, name) for name in names}
    return {name: value for name, value in values.items() if value is not UNCHANGED}


def _written(names: Iterable[str]) -> tuple[str, ...]:
    """The worker's fields named, as an audit event names them (`Worker.idNumber`)."""
    return tuple(f"Worker.{graphql_name(name)}" for name in names)


def _regions(values: dict[str, Any]) -> list[Entry]:
    return [
        entry for name in ("hukou_region_code", "current_region_code")
        for entry in given(graphql_name(name), values.get(name))
    ]


def _field_problems(values: dict[str, Any]) -> list[WorkerProblem]:
    """What is wrong with the given worker fields (`values`, None where not given), without
    SQL."""
    problems: list[WorkerProblem] = []
    name, phone, skills = values.get("name"), values.get("phone"), values.get("skills")
    wrong_name = None if name is None else text_length_problem(name, MAX_NAME)
    if wrong_name is not None:
        problems.append(Problem(("name",), INVALID, wrong_name))
    if phone is not None:
        try:
            normalize_mobile_phone(phone)
        except CodeError as error:
            problems.append(Problem(("phone",), INVALID, str(error)))
    problems += CURRENT_REGIONS.malformed(_regions(values), INVALID)
    if skills is not None:
        problems += SKILLS.list_problems("skills", skills, MAX_SKILLS, INVALID)
    return problems


def _seen_through(viewer: Viewer, hukou: str | None, current: str | None) -> tuple[str | None, ...]:
    """The regions by which a viewer looks after a worker: staff by either, partners (and
    everyone else) by the current one, as the worker's row policy says."""
    return (current, hukou) if viewer.role is Role.STAFF else (current,)


def _outside(viewer: Viewer, hukou: str | None, current: str | None) -> WorkerProblem | None:
    if writes_within(viewer, *_seen_through(viewer, hukou, current)):
        return None
    field = "currentRegionCode" if current is not None or viewer.partner else "hukouRegionCode"
    return Problem((field,), NOT_ALLOWED, "The worker would be outside the regions you serve.")


async def _unknown(connection: AsyncConnection, values: dict[str, Any]) -> list[WorkerProblem]:
    """The region and skill codes given that are not in their tables."""
    skills = values.get("skills") or []
    not_found = WorkerErrorCode.NOT_FOUND
    return [
        *await CURRENT_REGIONS.unknown(connection, _regions(values), not_found),
        *await SKILLS.unknown(connection, entries("skills", skills), not_found),
    ]


def _phone_columns(vault: PersonalDataVault, phone: str | None) -> dict[str, Any]:
    if phone is None:
        return {"phone_encrypted": None, "phone_hash": None, "phone_masked": None}
    sealed = vault.seal_phone(normalize_mobile_phone(phone))
    return {
        "phone_encrypted": sealed.encrypted, "phone_hash": sealed.hash,
        "phone_masked": sealed.masked,
    }


def _columns(vault: PersonalDataVault, values: dict[str, Any]) -> dict[str, Any]:
    """The worker's columns for the fields given (skills are rows of their own)."""
    columns = {name: value for name, value in values.items() if name not in ("skills", "phone")}
    if "name" in columns:
        columns["name"] = columns["name"].strip()
    if "phone" in values:
        columns.update(_phone_columns(vault, values["phone"]))
    return columns


async def _set_skills(connection: AsyncConnection, worker_id: int, codes: list[str]) -> None:
    """The worker's skills become `codes`: those kept keep their level, new ones start at 1."""
    await connection.execute(
        delete(WORKER_SKILLS).where(
            WORKER_SKILLS.c.worker_id == worker_id, WORKER_SKILLS.c.skill_code.not_in(codes)
        )
    )
    if codes:
        await connection.execute(
            pg_insert(WORKER_SKILLS)
            .values([{"worker_id": worker_id, "skill_code": code} for code in codes])
            .on_conflict_do_nothing()
        )


# --- registerWorker -------------------------------------------------------------------------

REGISTERED = tuple(f.name for f in fields(NewWorker) if f.name != "id_number")


def _registration_problems(viewer: Viewer, new: NewWorker) -> list[WorkerProblem]:
    """What is wrong with a registration before any SQL: its fields, then who registers."""
    problems = _field_problems(_given(new, REGISTERED))
    try:
        normalize_id_number(new.id_number)
    except CodeError as error:
        problems.append(Problem(("idNumber",), INVALID, str(error)))
    if problems:
        return problems
    outside = _outside(viewer, new.hukou_region_code, new.current_region_code)
    return [] if outside is None else [outside]


async def _register(tx: Tx, new: NewWorker) -> WorkerOutcome:
    id_number = normalize_id_number(new.id_number)
    values = _given(new, REGISTERED)
    province = [(("idNumber",), id_number[:2] + "0000")]
    missing = [
        *await ID_NUMBER_PROVINCES.unknown(tx.connection, province, INVALID),
        *await _unknown(tx.connection, values),
    ]
    if missing:
        return failed(*missing)
    sealed = tx.vault.seal_id_number(id_number)
    created = await tx.connection.execute(
        pg_insert(WORKERS)
        .values(
            **_columns(tx.vault, values),
            id_number_encrypted=sealed.encrypted, id_number_hash=sealed.hash,
            id_number_masked=sealed.masked, gender=id_number_gender(id_number),
            birth_date=id_number_birth_date(id_number),
        )
        .on_conflict_do_nothing(index_elements=[WORKERS.c.id_number_hash])
        .returning(*readable_columns(WORKERS))
    )
    worker = created.mappings().first()
    if worker is None:  # the keyed hash is taken: registered before, or just now
        return failed(Problem(
            ("idNumber",), WorkerErrorCode.DUPLICATE,
            "A worker with this ID number is registered already.",
        ))
    await _set_skills(tx.connection, worker["id"], new.skills)
    await notify(tx.connection, Event(
        EventType.WORKER_REGISTERED, worker["id"], worker_id=worker["id"],
        regions=regions_of(worker["current_region_code"], worker["hukou_region_code"]),
    ))
    return done(worker)


REGISTER_WORKER = declare_write(Write(
    "registerWorker",
    "Register a worker (staff of the division of their current or hukou region, partners in "
    "their regions, admins). A registered ID number is DUPLICATE.",
    NewWorker, WORKER, WorkerErrorCode, _register, _registration_problems,
    REGISTERING_ROLES, "Staff, partners and admins register workers.", idempotent=True,
    audited=lambda new: _written(f.name for f in fields(new) if getattr(new, f.name) is not None),
))


# --- updateWorker ---------------------------------------------------------------------------


def _change_problems(viewer: Viewer, change: WorkerChange) -> list[WorkerProblem]:
    """What is wrong with a change before any SQL: who changes whom and which fields, then
    the fields' values."""
    key = decoded_key(change.worker_id, "Worker", "workerId", INVALID)
    if isinstance(key, Problem):
        return [key]
    if viewer.role is Role.WORKER and key != viewer.worker_id:
        return [Problem(("workerId",), NOT_ALLOWED, "Workers change only their own record.")]
    values = _given(change, CHANGEABLE)
    if not values:
        return [Problem((), INVALID, "Give at least one field to change.")]
    problems = []
    for name, value in values.items():
        if viewer.role is Role.WORKER and name in ON_THE_ID_CARD:
            problems.append(Problem(
                (graphql_name(name),), NOT_ALLOWED,
                "Staff change what the resident ID card says; bring it to a service point.",
            ))
        elif value is None and name not in CLEARABLE:
            problems.append(Problem(
                (graphql_name(name),), INVALID, "Can't be cleared; leave it out to keep it.",
            ))
    return problems or _field_problems(values)


async def _change(tx: Tx, change: WorkerChange) -> WorkerOutcome:
    key = decoded_key(change.worker_id, "Worker", "workerId", INVALID)
    assert isinstance(key, int)
    values = _given(change, CHANGEABLE)
    missing = await _unknown(tx.connection, values)
    if missing:
        return failed(*missing)
    changed = await versioned_update(
        tx.connection, WORKER, key, change.version, _columns(tx.vault, values), viewer=tx.viewer
    )
    if changed is Unchanged.MISSING:
        return failed(Problem(("workerId",), WorkerErrorCode.NOT_FOUND, "No such worker."))
    if changed is Unchanged.STALE:
        return failed(Problem(
            ("version",), WorkerErrorCode.STALE_VERSION,
            f"Version {change.version} is not the worker's current one; read it again.",
        ))
    outside = _outside(tx.viewer, changed["hukou_region_code"], changed["current_region_code"])
    if outside is not None:
        return failed(outside)
    if "skills" in values:
        await _set_skills(tx.connection, key, values["skills"])
    return done(changed)


UPDATE_WORKER = declare_write(Write(
    "updateWorker",
    "Change a worker at the version read: only the fields given (the worker themself, staff "
    "of their division, partners with their consent in their regions, admins).",
    WorkerChange, WORKER, WorkerErrorCode, _change, _change_problems,
    CHANGING_ROLES, "Your role may not change workers.",
    audited=lambda change: _written(_given(change, CHANGEABLE)),
))


__all__ = ["REGISTER_WORKER", "UPDATE_WORKER", "NewWorker", "WorkerChange", "WorkerErrorCode"]
