"""Writing trainings and enrollments: `createTraining`, `updateTraining`, `cancelTraining`,
`enrollInTraining`, `recordTrainingCompletion` and `dropEnrollment`, declared writes.

Staff (within their division), partners (within their regions) and admins create, change and
cancel trainings; an order-based or targeted training names its partner employer. A training
takes enrollments while it is SCHEDULED (before its first day, not cancelled:
`resolvers.trainings.training_status`), at most `capacity` of them not dropped: the training's
row is locked (FOR UPDATE) by an enrollment from its reading to the commit and its
`seats_taken` (kept by a trigger on enrollments) compared with the capacity, so of workers
enrolling at once for the last seats exactly as many as there are seats get one and the rest
are FULL. A worker holds one enrollment in a training that is not dropped (a partial unique
index): after dropping out they may enrol again. They enrol themself, or staff of their
division or admins enrol them. An enrollment moves

    ENROLLED -> COMPLETED (staff, admins; with a certificate number unique across enrollments)
    ENROLLED -> DROPPED (the worker, staff, admins)

and nothing else (INVALID_TRANSITION). Enrollments are personal data: each of their writes is
audited.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, literal_column, select
from sqlalchemy.dialects.postgresql import insert as upsert
from sqlalchemy.engine import RowMapping

from db.models import Employer
from db.models.base import table_of
from db.models.enums import EnrollmentStatus, TrainingKind, TrainingMode
from resolvers.access import Role, Viewer
from resolvers.catalog import visible
from resolvers.divisions import writes_within
from resolvers.events import Event, EventType, notify
from resolvers.global_ids import GlobalId
from resolvers.pagination import readable_columns
from resolvers.trainings import (
    ENROLLMENT,
    ENROLLMENTS,
    TRAINING,
    TRAININGS,
    TrainingStatus,
    training_status,
)
from resolvers.workers import WORKER
from resolvers.write_checks import (
    CURRENT_REGIONS,
    OCCUPATIONS,
    given,
    text_length_problem,
)
from resolvers.writes import (
    UNCHANGED,
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
    serialized,
)


class TrainingErrorCode(enum.Enum):
    """Why a training or enrollment write changed nothing."""

    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    STALE_VERSION = "stale_version"
    INVALID_TRANSITION = "invalid_transition"  # not from the current status
    DUPLICATE = "duplicate"  # enrolled already; a certificate number used already
    FULL = "full"  # every seat of the training is taken
    NOT_OPEN = "not_open"  # the training started, ended or was cancelled


Code = TrainingErrorCode
TrainingProblem = Problem[TrainingErrorCode]
TrainingOutcome = Outcome[RowMapping, TrainingErrorCode]

EMPLOYERS = table_of(Employer)
MAX_TEXT = 128
MAX_CAPACITY = 10_000
MAX_CERTIFICATE = 64
WITH_PARTNER = {TrainingMode.ORDER_BASED, TrainingMode.TARGETED}
ORGANISING_ROLES = frozenset({Role.STAFF, Role.PARTNER, Role.ADMIN})
ORGANISING_REFUSAL = "Only staff, partners and admins organise trainings."
ENROLLING_ROLES = frozenset({Role.WORKER, Role.STAFF, Role.ADMIN})
COMPLETING_ROLES = frozenset({Role.STAFF, Role.ADMIN})
DROPPING_ROLES = frozenset({Role.WORKER, Role.STAFF, Role.ADMIN})
NO_SUCH_TRAINING = Problem(("trainingId",), Code.NOT_FOUND, "No such training.")
NO_SUCH_ENROLLMENT = Problem(("enrollmentId",), Code.NOT_FOUND, "No such enrollment.")
AUDITED = ("status",)
TRAINING_VERSION_DOC = "The training's version as read; another version is STALE_VERSION."
ENROLLMENT_VERSION_DOC = "The enrollment's version as read; another version is STALE_VERSION."


@dataclass(frozen=True, kw_only=True)
class NewTraining:
    """A new skills training; codes stay codes, IDs are global IDs."""

    title: str = described("At most 128 characters.")
    kind: TrainingKind
    mode: TrainingMode = described("ORDER_BASED and TARGETED name a partnerEmployerId.")
    provider: str = described("The institution that gives it, at most 128 characters.")
    partner_employer_id: GlobalId | None = described(
        "The enterprise of an order-based or targeted training.", default=None
    )
    occupation_code: str | None = None
    region_code: str = described("A current 6-digit division code.")
    starts_on: date
    ends_on: date = described("On or after startsOn.")
    capacity: int = described(f"Seats, 1 to {MAX_CAPACITY:,}.")
    subsidised: bool = described("Eligible for a training subsidy.", default=False)


@dataclass(frozen=True, kw_only=True)
class TrainingChanges:
    """What changes of a training, at the version read. A field left out stays as it is;
    null clears `partnerEmployerId` or `occupationCode` and is INVALID for the others."""

    training_id: GlobalId
    version: int = described(TRAINING_VERSION_DOC)
    title: str | None = described("At most 128 characters.", default=UNCHANGED)
    kind: TrainingKind | None = described("Its kind.", default=UNCHANGED)
    mode: TrainingMode | None = described(
        "ORDER_BASED and TARGETED need a partner employer.", default=UNCHANGED
    )
    provider: str | None = described("At most 128 characters.", default=UNCHANGED)
    partner_employer_id: GlobalId | None = described(
        "The partner enterprise; null clears it.", default=UNCHANGED
    )
    occupation_code: str | None = described("null clears it.", default=UNCHANGED)
    region_code: str | None = described("A current 6-digit division code.", default=UNCHANGED)
    starts_on: date | None = described("The first day.", default=UNCHANGED)
    ends_on: date | None = described("The last day, on or after startsOn.", default=UNCHANGED)
    capacity: int | None = described(
        "Seats; not fewer than the enrollments not dropped.", default=UNCHANGED
    )
    subsidised: bool | None = described("Eligible for a subsidy.", default=UNCHANGED)


@dataclass(frozen=True, kw_only=True)
class TrainingCancellation:
    """Which training to cancel, at the version read."""

    training_id: GlobalId
    version: int = described(TRAINING_VERSION_DOC)


@dataclass(frozen=True, kw_only=True)
class NewEnrollment:
    """A worker's enrollment in a training that has not started."""

    worker_id: GlobalId = described("The worker enrolling (a worker: themself).")
    training_id: GlobalId


@dataclass(frozen=True, kw_only=True)
class Completion:
    """An enrollment completed, with the certificate the worker received."""

    enrollment_id: GlobalId
    version: int = described(ENROLLMENT_VERSION_DOC)
    certificate_number: str = described(
        f"Unique across enrollments, at most {MAX_CERTIFICATE} characters."
    )


@dataclass(frozen=True, kw_only=True)
class Dropping:
    """Which enrollment is dropped, at the version read."""

    enrollment_id: GlobalId
    version: int = described(ENROLLMENT_VERSION_DOC)


CHANGEABLE = tuple(f.name for f in fields(TrainingChanges) if f.default is UNCHANGED)
CLEARABLE = {"partner_employer_id", "occupation_code"}
FIELD_NAMES = {
    "title": "title", "kind": "kind", "mode": "mode", "provider": "provider",
    "partner_employer_id": "partnerEmployerId", "occupation_code": "occupationCode",
    "region_code": "regionCode", "starts_on": "startsOn", "ends_on": "endsOn",
    "capacity": "capacity", "subsidised": "subsidised",
}


def _key(value: str, type_name: str, field: str) -> int | TrainingProblem:
    return decoded_key(value, type_name, field, Code.INVALID)


def _invalid(field: str, message: str) -> TrainingProblem:
    return Problem((field,), Code.INVALID, message)


# --- the training's fields ------------------------------------------------------------------


def _field_problems(values: dict[str, Any]) -> list[TrainingProblem]:
    """What is wrong with a training's fields (all of a new one, or a change merged into the
    current row), without SQL."""
    problems: list[TrainingProblem] = []
    for name in ("title", "provider"):
        wrong = text_length_problem(values[name], MAX_TEXT)
        if wrong is not None:
            problems.append(_invalid(FIELD_NAMES[name], wrong))
    problems += CURRENT_REGIONS.malformed(given("regionCode", values["region_code"]), Code.INVALID)
    problems += OCCUPATIONS.malformed(
        given("occupationCode", values["occupation_code"]), Code.INVALID
    )
    if values["ends_on"] < values["starts_on"]:
        problems.append(_invalid("endsOn", "Must be on or after startsOn."))
    if not 1 <= values["capacity"] <= MAX_CAPACITY:
        problems.append(_invalid("capacity", f"Must be between 1 and {MAX_CAPACITY:,}."))
    if values["mode"] in WITH_PARTNER and values["partner_employer_id"] is None:
        problems.append(_invalid(
            "partnerEmployerId",
            f"An {values['mode'].name} training names its partner employer.",
        ))
    return problems


def _where_problem(viewer: Viewer, region_code: str, field: str) -> TrainingProblem | None:
    if not writes_within(viewer, region_code):
        return Problem((field,), Code.NOT_ALLOWED, "That region is outside yours.")
    return None


async def _missing(tx: Tx, values: dict[str, Any], changed: set[str]) -> list[TrainingProblem]:
    """The references among `changed` fields that are not there: the partner employer (one
    the viewer sees), the codes (current regions, occupations)."""
    problems: list[TrainingProblem] = []
    partner = values["partner_employer_id"]
    if "partner_employer_id" in changed and partner is not None:
        found = await tx.connection.execute(
            select(EMPLOYERS.c.id).where(EMPLOYERS.c.id == partner, visible(tx.viewer, EMPLOYERS))
        )
        if found.first() is None:
            problems.append(
                Problem(("partnerEmployerId",), Code.NOT_FOUND, "No such employer.")
            )
    if "region_code" in changed:
        problems += await CURRENT_REGIONS.unknown(
            tx.connection, given("regionCode", values["region_code"]), Code.NOT_FOUND
        )
    if "occupation_code" in changed:
        problems += await OCCUPATIONS.unknown(
            tx.connection, given("occupationCode", values["occupation_code"]), Code.NOT_FOUND
        )
    return problems


def _new_values(new: NewTraining) -> dict[str, Any] | list[TrainingProblem]:
    """The columns of a new training, or what keeps its input from being them."""
    values: dict[str, Any] = {name: getattr(new, name) for name in FIELD_NAMES}
    if new.partner_employer_id is not None:
        partner = _key(new.partner_employer_id, "Employer", "partnerEmployerId")
        if isinstance(partner, Problem):
            return [partner]
        values["partner_employer_id"] = partner
    return values


def _creating_problems(viewer: Viewer, new: NewTraining) -> list[TrainingProblem]:
    values = _new_values(new)
    if isinstance(values, list):
        return values
    problems = _field_problems(values)
    if problems:
        return problems
    denied = _where_problem(viewer, new.region_code, "regionCode")
    return [denied] if denied else []


async def _create(tx: Tx, new: NewTraining) -> TrainingOutcome:
    values = _new_values(new)
    assert isinstance(values, dict)
    missing = await _missing(tx, values, set(FIELD_NAMES))
    if missing:
        return failed(*missing)
    values.update(title=new.title.strip(), provider=new.provider.strip())
    made = await tx.connection.execute(
        insert(TRAININGS).values(**values).returning(*readable_columns(TRAININGS))
    )
    return done(made.mappings().one())


CREATE_TRAINING = declare_write(Write(
    "createTraining", "Organise a skills training (staff within their division, partners "
    "within their regions, admins).",
    NewTraining, TRAINING, TrainingErrorCode, _create, _creating_problems,
    ORGANISING_ROLES, ORGANISING_REFUSAL, idempotent=True,
))


async def _seats_changed(tx: Tx, training_id: Any, outcome: TrainingOutcome) -> TrainingOutcome:
    """`outcome`, sent as a change of the training's seats when it changed something."""
    if outcome.row is not None:
        await notify(tx.connection, Event(EventType.TRAINING_SEATS_CHANGED, int(training_id)))
    return outcome


# --- changing and cancelling ----------------------------------------------------------------


def _given_changes(changes: TrainingChanges) -> dict[str, Any]:
    values = {name: getattr(changes, name) for name in CHANGEABLE}
    return {name: value for name, value in values.items() if value is not UNCHANGED}


def _training_key_problems(_viewer: Viewer, request: Any) -> list[TrainingProblem]:
    key = _key(request.training_id, "Training", "trainingId")
    return [key] if isinstance(key, Problem) else []


def _changing_problems(viewer: Viewer, changes: TrainingChanges) -> list[TrainingProblem]:
    problems = _training_key_problems(viewer, changes)
    values = _given_changes(changes)
    for name, value in values.items():
        if value is None and name not in CLEARABLE:
            problems.append(_invalid(FIELD_NAMES[name], "Must not be null."))
    partner = values.get("partner_employer_id")
    if partner is not None:
        key = _key(partner, "Employer", "partnerEmployerId")
        if isinstance(key, Problem):
            problems.append(key)
    if not problems and not values:
        problems.append(Problem((), Code.INVALID, "Give at least one field to change."))
    return problems


async def _organised_training(tx: Tx, training_id: Any) -> RowMapping | TrainingProblem:
    """The training `training_id` (a checked global ID) locked for a change by this viewer
    (where it may organise trainings), or why not."""
    key = _key(training_id, "Training", "trainingId")
    assert isinstance(key, int)
    training = await seen_row(tx.connection, TRAINING, key, tx.viewer, lock=True)
    if training is None:
        return NO_SUCH_TRAINING
    denied = _where_problem(tx.viewer, training["region_code"], "trainingId")
    return denied or training


def _status_of(training: RowMapping) -> TrainingStatus:
    return training_status(training["starts_on"], training["ends_on"], training["cancelled_at"])


def _ended_problem(training: RowMapping, change: str) -> TrainingProblem | None:
    status = _status_of(training)
    if status in (TrainingStatus.CANCELLED, TrainingStatus.ENDED):
        return Problem(
            ("trainingId",), Code.INVALID_TRANSITION,
            f"The training is {status.name}; only a SCHEDULED or RUNNING one {change}.",
        )
    return None


async def _change_training(
    tx: Tx, training: RowMapping, version: int, values: dict[str, Any]
) -> TrainingOutcome:
    return await tx.change(
        TRAINING, training["id"], version, values, NO_SUCH_TRAINING, Code.STALE_VERSION
    )


async def _update(tx: Tx, changes: TrainingChanges) -> TrainingOutcome:
    training = await _organised_training(tx, changes.training_id)
    if isinstance(training, Problem):
        return failed(training)
    refused = _ended_problem(training, "changes")
    if refused is not None:
        return failed(refused)
    values = _given_changes(changes)
    if values.get("partner_employer_id") is not None:
        values["partner_employer_id"] = _key(
            values["partner_employer_id"], "Employer", "partnerEmployerId"
        )
    merged = {name: values.get(name, training[name]) for name in FIELD_NAMES}
    problems = _field_problems(merged)
    if "capacity" in values and merged["capacity"] < training["seats_taken"] and not problems:
        problems.append(_invalid(
            "capacity", f"{training['seats_taken']} workers are enrolled; not fewer seats."
        ))
    if "region_code" in values and not problems:
        denied = _where_problem(tx.viewer, merged["region_code"], "regionCode")
        problems += [denied] if denied else []
    if problems:
        return failed(*problems)
    missing = await _missing(tx, merged, set(values))
    if missing:
        return failed(*missing)
    for name in ("title", "provider"):
        if name in values:
            values[name] = values[name].strip()
    changed = await _change_training(tx, training, changes.version, values)
    if values.get("capacity", training["capacity"]) == training["capacity"]:
        return changed
    return await _seats_changed(tx, training["id"], changed)


UPDATE_TRAINING = declare_write(Write(
    "updateTraining", "Change a training that has not ended nor been cancelled (staff within "
    "their division, partners within their regions, admins).",
    TrainingChanges, TRAINING, TrainingErrorCode, _update, _changing_problems,
    ORGANISING_ROLES, ORGANISING_REFUSAL,
))


async def _cancel(tx: Tx, cancellation: TrainingCancellation) -> TrainingOutcome:
    training = await _organised_training(tx, cancellation.training_id)
    if isinstance(training, Problem):
        return failed(training)
    refused = _ended_problem(training, "is cancelled")
    if refused is not None:
        return failed(refused)
    cancelled = await _change_training(
        tx, training, cancellation.version, {"cancelled_at": datetime.now(UTC)}
    )
    return await _seats_changed(tx, training["id"], cancelled)


CANCEL_TRAINING = declare_write(Write(
    "cancelTraining", "Cancel a training that has not ended (staff within their division, "
    "partners within their regions, admins); it takes no more enrollments.",
    TrainingCancellation, TRAINING, TrainingErrorCode, _cancel, _training_key_problems,
    ORGANISING_ROLES, ORGANISING_REFUSAL,
))


# --- enrollments ----------------------------------------------------------------------------


def _enrolling_problems(viewer: Viewer, new: NewEnrollment) -> list[TrainingProblem]:
    found = [
        _key(new.worker_id, "Worker", "workerId"),
        _key(new.training_id, "Training", "trainingId"),
    ]
    problems = [key for key in found if isinstance(key, Problem)]
    if problems:
        return problems
    if viewer.role is Role.WORKER and found[0] != viewer.worker_id:
        return [Problem(("workerId",), Code.NOT_ALLOWED, "Workers enrol only themselves.")]
    return []


ACTIVE_ENROLLMENT = ENROLLMENTS.c.status != literal_column("'dropped'")
"""An enrollment that holds a seat: one per worker and training (a partial unique index);
after dropping out, a worker may enrol again. Written as the index's predicate is, with the
value in the text: `ON CONFLICT` infers the index only from a predicate that implies the
index's, which a parameter (unknown to a generic plan) does not."""


async def _enroll(tx: Tx, new: NewEnrollment) -> TrainingOutcome:
    worker_id = _key(new.worker_id, "Worker", "workerId")
    training_id = _key(new.training_id, "Training", "trainingId")
    if await seen_row(tx.connection, WORKER, worker_id, tx.viewer) is None:
        return failed(Problem(("workerId",), Code.NOT_FOUND, "No such worker."))
    # Locked to the commit: enrollments in one training take its seats one after another.
    training = await seen_row(tx.connection, TRAINING, training_id, tx.viewer, lock=True)
    if training is None:
        return failed(NO_SUCH_TRAINING)
    enrolled = await tx.connection.execute(
        select(ENROLLMENTS.c.id).where(
            ENROLLMENTS.c.worker_id == worker_id, ENROLLMENTS.c.training_id == training_id,
            ACTIVE_ENROLLMENT,
        )
    )
    duplicate = Problem(
        ("trainingId",), Code.DUPLICATE, "The worker is enrolled in this training already."
    )
    if enrolled.first() is not None:
        return failed(duplicate)
    status = _status_of(training)
    if status is not TrainingStatus.SCHEDULED:
        return failed(Problem(
            ("trainingId",), Code.NOT_OPEN,
            f"The training is {status.name}; only one that has not started takes enrollments.",
        ))
    if training["seats_taken"] >= training["capacity"]:
        return failed(Problem(("trainingId",), Code.FULL, "Every seat is taken."))
    made = await tx.connection.execute(
        upsert(ENROLLMENTS)
        .values(worker_id=worker_id, training_id=training_id, status=EnrollmentStatus.ENROLLED)
        .on_conflict_do_nothing(
            index_elements=[ENROLLMENTS.c.worker_id, ENROLLMENTS.c.training_id],
            index_where=ACTIVE_ENROLLMENT,
        )
        .returning(*readable_columns(ENROLLMENTS))
    )
    enrollment = made.mappings().first()
    if enrollment is None:
        return failed(duplicate)
    return await _seats_changed(tx, training_id, done(enrollment))


ENROLL_IN_TRAINING = declare_write(Write(
    "enrollInTraining", "Enrol a worker in a training that has not started and has a seat "
    "left (the worker; staff of their division and admins on their behalf); once per worker "
    "and training at a time (after dropping out, again).",
    NewEnrollment, ENROLLMENT, TrainingErrorCode, _enroll, _enrolling_problems,
    ENROLLING_ROLES, "Workers enrol, or staff on their behalf.", idempotent=True,
    audited=AUDITED,
))


def _enrollment_key_problems(_viewer: Viewer, request: Any) -> list[TrainingProblem]:
    key = _key(request.enrollment_id, "Enrollment", "enrollmentId")
    return [key] if isinstance(key, Problem) else []


async def _move(
    tx: Tx, enrollment_id: Any, version: int, to: EnrollmentStatus, values: dict[str, Any]
) -> TrainingOutcome:
    """Move an ENROLLED enrollment the viewer sees to `to`, at the version read."""
    key = _key(enrollment_id, "Enrollment", "enrollmentId")
    assert isinstance(key, int)
    enrollment = await seen_row(tx.connection, ENROLLMENT, key, tx.viewer, lock=True)
    if enrollment is None:
        return failed(NO_SUCH_ENROLLMENT)
    if enrollment["status"] is not EnrollmentStatus.ENROLLED:
        return failed(Problem(
            ("enrollmentId",), Code.INVALID_TRANSITION,
            f"The enrollment is {enrollment['status'].name}; only an ENROLLED one is "
            f"{to.name.lower()}.",
        ))
    return await tx.change(
        ENROLLMENT, key, version, {"status": to, **values}, NO_SUCH_ENROLLMENT,
        Code.STALE_VERSION,
    )


def _completion_problems(viewer: Viewer, completion: Completion) -> list[TrainingProblem]:
    problems = _enrollment_key_problems(viewer, completion)
    wrong = text_length_problem(completion.certificate_number, MAX_CERTIFICATE)
    if wrong is not None:
        problems.append(_invalid("certificateNumber", wrong))
    return problems


async def _complete(tx: Tx, completion: Completion) -> TrainingOutcome:
    number = completion.certificate_number.strip()
    # Two completions with one number at once: the second waits, then finds the first's.
    await serialized(tx.connection, "certificateNumber", number)
    used = await tx.connection.execute(
        select(ENROLLMENTS.c.id).where(ENROLLMENTS.c.certificate_number == number)
    )
    if used.first() is not None:
        return failed(Problem(
            ("certificateNumber",), Code.DUPLICATE, "That certificate number is recorded already."
        ))
    return await _move(
        tx, completion.enrollment_id, completion.version, EnrollmentStatus.COMPLETED,
        {"certificate_number": number, "completed_at": datetime.now(UTC)},
    )


RECORD_TRAINING_COMPLETION = declare_write(Write(
    "recordTrainingCompletion", "Record that an enrolled worker completed the training, with "
    "their certificate's number (staff of its division, admins).",
    Completion, ENROLLMENT, TrainingErrorCode, _complete, _completion_problems,
    COMPLETING_ROLES, "Only staff and admins record completions.",
    audited=("status", "certificateNumber"),
))


async def _drop(tx: Tx, dropping: Dropping) -> TrainingOutcome:
    dropped = await _move(
        tx, dropping.enrollment_id, dropping.version, EnrollmentStatus.DROPPED, {}
    )
    if dropped.row is None:
        return dropped
    return await _seats_changed(tx, dropped.row["training_id"], dropped)


DROP_ENROLLMENT = declare_write(Write(
    "dropEnrollment", "Drop an enrollment that was not completed (its worker, staff of its "
    "division, admins); its seat is free again.",
    Dropping, ENROLLMENT, TrainingErrorCode, _drop, _enrollment_key_problems,
    DROPPING_ROLES, "Only the worker or staff drop an enrollment.",
    audited=AUDITED,
))
