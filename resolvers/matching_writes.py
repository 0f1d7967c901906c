"""Writing matching preferences: `setRecommendationPreference`, a declared write.

Automated decisions can be refused (PIPL art. 24): a worker who opts out is ranked in no
`recommendedWorkers` list, and `recommendedJobs` and `trainingRecommendations` for them answer
OPTED_OUT (`resolvers.matching`). The worker says so themself, or staff of their division or
admins record what the worker said; a partner may not. No `version` is asked for: the input
is the whole of the preference, and setting it twice leaves it as set. The change bumps the
worker's version (other writers read again) and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlalchemy.engine import RowMapping

from resolvers.access import Role, Viewer
from resolvers.catalog import visible
from resolvers.global_ids import GlobalId
from resolvers.matching import RecommendationErrorCode
from resolvers.pagination import readable_columns
from resolvers.workers import WORKER, WORKERS
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
)

Code = RecommendationErrorCode
PREFERRING_ROLES = frozenset({Role.WORKER, Role.STAFF, Role.ADMIN})


@dataclass(frozen=True, kw_only=True)
class RecommendationPreference:
    """Whether a worker refuses automated recommendations (PIPL art. 24)."""

    worker_id: GlobalId
    opt_out: bool = described(
        "True: no recommendation ranks the worker or is made for them; false: allowed again."
    )


def _problems(viewer: Viewer, preference: RecommendationPreference) -> list[Problem[Code]]:
    key = decoded_key(preference.worker_id, "Worker", "workerId", Code.INVALID)
    if isinstance(key, Problem):
        return [key]
    if viewer.role is Role.WORKER and key != viewer.worker_id:
        return [Problem(("workerId",), Code.NOT_ALLOWED, "Workers set only their own preference.")]
    return []


async def _set(tx: Tx, preference: RecommendationPreference) -> Outcome[RowMapping, Code]:
    key = decoded_key(preference.worker_id, "Worker", "workerId", Code.INVALID)
    changed = await tx.connection.execute(
        update(WORKERS)
        .where(WORKERS.c.id == key, visible(tx.viewer, WORKERS))
        .values(
            recommendation_opt_out=preference.opt_out,
            recommendation_preference_at=func.now(),
            version=WORKERS.c.version + 1,
        )
        .returning(*readable_columns(WORKERS))
    )
    worker = changed.mappings().first()
    if worker is None:
        return failed(Problem(("workerId",), Code.NOT_FOUND, "No such worker."))
    return done(worker)


SET_RECOMMENDATION_PREFERENCE = declare_write(Write(
    "setRecommendationPreference",
    "Refuse automated recommendations, or allow them again (the worker themself; staff of "
    "their division and admins recording what the worker said).",
    RecommendationPreference, WORKER, RecommendationErrorCode, _set, _problems,
    PREFERRING_ROLES, "A worker sets their own preference, or staff record it.",
    audited=("Worker.recommendationOptOut",),
))

__all__ = ["SET_RECOMMENDATION_PREFERENCE", "RecommendationPreference"]
