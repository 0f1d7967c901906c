"""Personal data on purpose: consents, revealing an ID number, and the audit trail."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry

from resolvers.privacy import (
    ConsentChange,
    PrivacyErrorCode,
    PrivacyProblem,
    record_consent,
    reveal_id_number,
    withdraw_consent,
)
from schema.context import Info
from schema.errors import UserError, user_errors
from schema.node import Node
from schema.workers import Worker

strawberry.enum(PrivacyErrorCode, description="Why a privacy operation changed nothing.")


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


def _errors(problems: Iterable[PrivacyProblem]) -> list[PrivacyError]:
    return user_errors(PrivacyError, problems)


def _consent(change: ConsentChange) -> Consent | None:
    return None if change.row is None else Consent.from_row(change.row)


def _worker_id(global_id: strawberry.ID | None) -> str | None:
    return None if global_id is None else str(global_id)


@strawberry.type
class PrivacyMutations:
    @strawberry.mutation(description="The full ID number, for a stated purpose; audited.")
    async def reveal_id_number(
        self, info: Info, input: RevealIdNumberInput
    ) -> RevealIdNumberPayload:
        ctx = info.context
        outcome = await reveal_id_number(
            ctx.database.engine, ctx.database.vault, ctx.viewer, str(input.worker_id),
            input.purpose,
        )
        revealed, errors = outcome.row, _errors(outcome.problems)
        if revealed is None:
            return RevealIdNumberPayload(id_number=None, worker=None, user_errors=errors)
        return RevealIdNumberPayload(
            id_number=revealed.id_number, worker=Worker.from_row(revealed.worker),
            user_errors=errors,
        )

    @strawberry.mutation(description="Record a worker's consent to a purpose.")
    async def record_consent(self, info: Info, input: RecordConsentInput) -> RecordConsentPayload:
        ctx = info.context
        change = await record_consent(
            ctx.database.engine, ctx.viewer, _worker_id(input.worker_id), input.purpose,
            input.version,
        )
        return RecordConsentPayload(consent=_consent(change), user_errors=_errors(change.problems))

    @strawberry.mutation(description="Withdraw a worker's live consent to a purpose.")
    async def withdraw_consent(
        self, info: Info, input: WithdrawConsentInput
    ) -> WithdrawConsentPayload:
        ctx = info.context
        change = await withdraw_consent(
            ctx.database.engine, ctx.viewer, _worker_id(input.worker_id), input.purpose
        )
        return WithdrawConsentPayload(
            consent=_consent(change), user_errors=_errors(change.problems)
        )
