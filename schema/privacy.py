"""Personal data on purpose: consents, revealing an ID number, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from resolvers.errors import BadArgument, Problem
from resolvers.global_ids import decode_int_id, encode_global_id
from resolvers.privacy import record_consent, reveal_id_number, withdraw_consent
from schema.context import Info
from schema.errors import UserError, user_errors
from schema.node import Node
from schema.workers import Worker


@strawberry.enum(description="Why a privacy operation changed nothing.")
class PrivacyErrorCode(Enum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"


@strawberry.type
class PrivacyError(UserError):
    code: PrivacyErrorCode


@strawberry.type(description="A worker's consent to one purpose; live until withdrawn.")
class Consent(Node):
    purpose: str
    version: str
    granted_at: datetime
    withdrawn_at: datetime | None


@strawberry.input
class RevealIdNumberInput:
    worker_id: strawberry.ID
    purpose: str = strawberry.field(description="Why the full number is needed; audited.")


@strawberry.type
class RevealIdNumberPayload:
    id_number: str | None = strawberry.field(description="The full resident ID number.")
    worker: Worker | None
    user_errors: list[PrivacyError]


@strawberry.input
class RecordConsentInput:
    worker_id: strawberry.ID | None = strawberry.field(
        default=None, description="Whose consent; workers may leave it out for their own."
    )
    purpose: str = strawberry.field(description="e.g. `job-matching`, `insurance-transfer`.")
    version: str = strawberry.field(description="Version of the consent text agreed to.")


@strawberry.type
class RecordConsentPayload:
    consent: Consent | None
    user_errors: list[PrivacyError]


@strawberry.input
class WithdrawConsentInput:
    worker_id: strawberry.ID | None = None
    purpose: str


@strawberry.type
class WithdrawConsentPayload:
    consent: Consent | None
    user_errors: list[PrivacyError]


def _worker_key(global_id: strawberry.ID | None) -> int | Problem | None:
    if global_id is None:
        return None
    try:
        return decode_int_id(global_id, "Worker", "workerId")
    except BadArgument:
        return Problem(("workerId",), "INVALID", "Not the ID of a worker.")


def _errors(problems: tuple[Problem, ...]) -> list[PrivacyError]:
    return user_errors(PrivacyError, PrivacyErrorCode, problems)


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(description="The full ID number, for a stated purpose; audited.")
    async def reveal_id_number(
        self, info: Info, input: RevealIdNumberInput
    ) -> RevealIdNumberPayload:
        key = _worker_key(input.worker_id)
        if not isinstance(key, int):
            problem = key or Problem(("workerId",), "INVALID", "Not the ID of a worker.")
            errors = _errors((problem,))
            return RevealIdNumberPayload(id_number=None, worker=None, user_errors=errors)
        ctx = info.context
        # The audit names the worker by its one canonical ID, whatever the client sent.
        revealed = await reveal_id_number(
            ctx.database.engine, ctx.database.vault, ctx.viewer, key,
            encode_global_id("Worker", key), input.purpose,
        )
        worker = None if revealed.worker is None else Worker.from_row(revealed.worker)
        return RevealIdNumberPayload(
            id_number=revealed.id_number, worker=worker, user_errors=_errors(revealed.problems)
        )

    @strawberry.mutation(description="Record a worker's consent to a purpose.")
    async def record_consent(self, info: Info, input: RecordConsentInput) -> RecordConsentPayload:
        key = _worker_key(input.worker_id)
        if isinstance(key, Problem):
            return RecordConsentPayload(consent=None, user_errors=_errors((key,)))
        change = await record_consent(
            info.context.database.engine, info.context.viewer, key, input.purpose, input.version
        )
        consent = None if change.consent is None else Consent.from_row(change.consent)
        return RecordConsentPayload(consent=consent, user_errors=_errors(change.problems))

    @strawberry.mutation(description="Withdraw a worker's live consent to a purpose.")
    async def withdraw_consent(
        self, info: Info, input: WithdrawConsentInput
    ) -> WithdrawConsentPayload:
        key = _worker_key(input.worker_id)
        if isinstance(key, Problem):
            return WithdrawConsentPayload(consent=None, user_errors=_errors((key,)))
        ctx = info.context
        change = await withdraw_consent(ctx.database.engine, ctx.viewer, key, input.purpose)
        consent = None if change.consent is None else Consent.from_row(change.consent)
        return WithdrawConsentPayload(consent=consent, user_errors=_errors(change.problems))
