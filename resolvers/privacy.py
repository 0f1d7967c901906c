"""Personal data on purpose: revealing an ID number (audited), consents, the audit trail."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from db.models import Consent, Worker
from db.models.base import table_of
from db.pii import PersonalDataVault
from resolvers.access import Role, Viewer
from resolvers.audit import record_audit_event
from resolvers.catalog import visible
from resolvers.global_ids import encode_global_id
from resolvers.writes import Outcome, Problem, decoded_key, done, failed, transaction


class PrivacyErrorCode(Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"


PrivacyProblem = Problem[PrivacyErrorCode]
ConsentChange = Outcome[RowMapping, PrivacyErrorCode]

CONSENTS = table_of(Consent)
WORKERS = table_of(Worker)

PURPOSE_PATTERN = re.compile(r"[a-z][a-z0-9_.:-]{0,63}")
REVEAL_ROLES = {Role.ADMIN, Role.STAFF, Role.WORKER, Role.PARTNER}
CONSENT_ROLES = {Role.ADMIN, Role.STAFF, Role.WORKER}
NO_SUCH_WORKER = Problem(("workerId",), PrivacyErrorCode.NOT_FOUND, "No such worker.")


async def audit_reads(
    engine: AsyncEngine,
    viewer: Viewer,
    operation_name: str | None,
    reads: dict[str, set[int]],
    fields: set[str],
) -> None:
    """One audit event for the personal-data rows an operation returned that are audited
    (`reads`: type name -> keys, as `resolvers.catalog.audited_as` names them): a partner's
    (`partnerRead:<operation>`), or rankings anyone else read (`rankingRead:<operation>`)."""
    record_ids = [
        encode_global_id(type_name, key)
        for type_name, keys in sorted(reads.items())
        for key in sorted(keys)
    ]
    purpose = viewer.partner.purpose if viewer.partner else None
    kind = "partnerRead" if viewer.partner else "rankingRead"
    async with engine.begin() as connection:
        await record_audit_event(
            connection, viewer, f"{kind}:{operation_name or 'anonymous'}", record_ids,
            sorted(fields), purpose,
        )


@dataclass(frozen=True)
class Revealed:
    id_number: str
    worker: RowMapping


def _purpose_problem(purpose: str) -> PrivacyProblem | None:
    if not purpose.strip():
        return Problem(("purpose",), PrivacyErrorCode.INVALID, "State the purpose of this read.")
    if len(purpose) > 256:
        return Problem(
            ("purpose",), PrivacyErrorCode.INVALID, "The purpose must be at most 256 characters."
        )
    return None


def _worker_key(worker_id: str | None) -> int | PrivacyProblem | None:
    """The key behind a worker's global ID (None when none is given)."""
    if worker_id is None:
        return None
    return decoded_key(worker_id, "Worker", "workerId", PrivacyErrorCode.INVALID)


async def reveal_id_number(
    engine: AsyncEngine, vault: PersonalDataVault, viewer: Viewer, worker_id: str, purpose: str
) -> Outcome[Revealed, PrivacyErrorCode]:
    """The full ID number for a permitted viewer, with its audit event in the same transaction."""
    key = decoded_key(worker_id, "Worker", "workerId", PrivacyErrorCode.INVALID)
    if isinstance(key, Problem):
        return failed(key)
    if viewer.role not in REVEAL_ROLES:
        return failed(
            Problem((), PrivacyErrorCode.NOT_ALLOWED, "Your role may not reveal ID numbers.")
        )
    invalid = _purpose_problem(purpose)
    if invalid is not None:
        return failed(invalid)

    async def reveal(connection: AsyncConnection) -> Outcome[Revealed, PrivacyErrorCode]:
        worker = (
            await connection.execute(
                select(WORKERS).where(WORKERS.c.id == key, visible(viewer, WORKERS))
            )
        ).mappings().first()
        if worker is None:
            return failed(NO_SUCH_WORKER)
        # The audit names the worker by its one canonical ID, whatever the client sent.
        await record_audit_event(
            connection, viewer, "revealIdNumber", [encode_global_id("Worker", key)],
            ["Worker.idNumber"], purpose.strip(),
        )
        id_number = vault.decrypt("id_number", worker["id_number_encrypted"])
        return done(Revealed(id_number, worker))

    return await transaction(engine, reveal)


def _consent_subject(viewer: Viewer, worker_id: int | None) -> int | PrivacyProblem:
    """Whose consent this viewer may record or withdraw."""
    if viewer.role not in CONSENT_ROLES:
        return Problem(
            (), PrivacyErrorCode.NOT_ALLOWED,
            "Only the worker, or staff on their behalf, may do this.",
        )
    if viewer.role is Role.WORKER:
        if worker_id is not None and worker_id != viewer.worker_id:
            return Problem(
                ("workerId",), PrivacyErrorCode.NOT_ALLOWED,
                "Workers decide only their own consent.",
            )
        assert viewer.worker_id is not None
        return viewer.worker_id
    if worker_id is None:
        return Problem(("workerId",), PrivacyErrorCode.INVALID, "Say whose consent this is.")
    return worker_id


def _consent_text_problem(purpose: str, version: str | None) -> PrivacyProblem | None:
    if not PURPOSE_PATTERN.fullmatch(purpose):
        return Problem(
            ("purpose",), PrivacyErrorCode.INVALID,
            "A purpose is 1–64 lowercase letters, digits or . _ : - and starts with a letter.",
        )
    if version is not None and not 0 < len(version.strip()) <= 32:
        return Problem(
            ("version",), PrivacyErrorCode.INVALID, "The version must be 1–32 characters."
        )
    return None


async def _visible_worker(connection: AsyncConnection, viewer: Viewer, worker_id: int) -> bool:
    found = await connection.execute(
        select(WORKERS.c.id).where(WORKERS.c.id == worker_id, visible(viewer, WORKERS))
    )
    return found.first() is not None


async def _withdraw_live(
    connection: AsyncConnection, worker_id: int, purpose: str
) -> RowMapping | None:
    result = await connection.execute(
        update(CONSENTS)
        .where(
            CONSENTS.c.worker_id == worker_id,
            CONSENTS.c.purpose == purpose,
            CONSENTS.c.withdrawn_at.is_(None),
        )
        .values(withdrawn_at=func.now())
        .returning(*CONSENTS.c)
    )
    return result.mappings().first()


def _checked_subject(
    viewer: Viewer, worker_id: str | None, purpose: str, version: str | None
) -> int | PrivacyProblem:
    key = _worker_key(worker_id)
    if isinstance(key, Problem):
        return key
    subject = _consent_subject(viewer, key)
    if isinstance(subject, Problem):
        return subject
    return _consent_text_problem(purpose, version) or subject


async def _change_consent(
    engine: AsyncEngine,
    viewer: Viewer,
    worker_id: str | None,
    purpose: str,
    version: str | None,
    change: Callable[[AsyncConnection, int], Awaitable[ConsentChange]],
) -> ConsentChange:
    """`change(connection, worker)` of a consent the viewer may decide, for a worker it may
    see, in one transaction."""
    subject = _checked_subject(viewer, worker_id, purpose, version)
    if isinstance(subject, Problem):
        return failed(subject)

    async def checked(connection: AsyncConnection) -> ConsentChange:
        if not await _visible_worker(connection, viewer, subject):
            return failed(NO_SUCH_WORKER)
        return await change(connection, subject)

    return await transaction(engine, checked)


async def record_consent(
    engine: AsyncEngine, viewer: Viewer, worker_id: str | None, purpose: str, version: str
) -> ConsentChange:
    """Record a live consent; a live one for the same purpose is withdrawn (history is kept)."""

    async def record(connection: AsyncConnection, worker: int) -> ConsentChange:
        await _withdraw_live(connection, worker, purpose)
        created = await connection.execute(
            insert(CONSENTS)
            .values(worker_id=worker, purpose=purpose, version=version.strip())
            .returning(*CONSENTS.c)
        )
        return done(created.mappings().one())

    return await _change_consent(engine, viewer, worker_id, purpose, version, record)


async def withdraw_consent(
    engine: AsyncEngine, viewer: Viewer, worker_id: str | None, purpose: str
) -> ConsentChange:
    """Withdraw the worker's live consent to `purpose`."""

    async def withdraw(connection: AsyncConnection, worker: int) -> ConsentChange:
        withdrawn = await _withdraw_live(connection, worker, purpose)
        if withdrawn is None:
            return failed(Problem(
                ("purpose",), PrivacyErrorCode.NOT_FOUND,
                "There is no live consent for this purpose.",
            ))
        return done(withdrawn)

    return await _change_consent(engine, viewer, worker_id, purpose, None, withdraw)
