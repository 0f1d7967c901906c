"""Rankings on the resolver path: `rank` answers a `Ranking` root field (matching) through the
read gateway, as the compiled path answers it in one statement (`resolvers.compiler`).

In order: a caller of another role is NOT_ALLOWED (the ranking's refusal); `first` out of
range is a BadArgument; a malformed subject ID is INVALID, one the viewer may not see
NOT_FOUND; a `Refusal` that holds of the subject (a worker who refused recommendations)
answers its code; otherwise the ranked rows, each read again under its policy. Unless the
viewer is a worker (who is only ever ranked for as themself), the subject and every
personal row ranked are noted for the audit trail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.engine import RowMapping

from resolvers.access import Role, Viewer
from resolvers.catalog import CATALOG, decode_node_id
from resolvers.declarations import Ranking
from resolvers.errors import BadArgument
from resolvers.reads import Reads


@dataclass(frozen=True)
class RankingProblem:
    """Why no ranking was made: the argument at fault (None for the caller's role)."""

    argument: str | None
    code: Enum
    message: str


@dataclass(frozen=True)
class RankedRow:
    row: RowMapping
    score: float
    reasons: list[str]


@dataclass(frozen=True)
class RankingOutcome:
    rows: list[RankedRow] = field(default_factory=list)
    problems: list[RankingProblem] = field(default_factory=list)


def ranking_size(ranking: Ranking, first: int | None) -> int:
    """How many rows `first` asks for, or a BadArgument naming it."""
    if first is None:
        return ranking.default
    if not 1 <= first <= ranking.most:
        raise BadArgument("first", f"must be between 1 and {ranking.most}, got {first}")
    return first


def audits(viewer: Viewer) -> bool:
    """Whether the viewer's rankings are audited: everyone's but a worker's, whose rankings
    are only ever of and for themself."""
    return viewer.role is not Role.WORKER


def subject_key(ranking: Ranking, global_id: str) -> Any:
    """The key of the subject row `global_id` names, or a BadArgument naming the argument."""
    named = decode_node_id(global_id, ranking.argument)
    if named is None or named[0].name != ranking.subject:
        raise BadArgument(ranking.argument, f"expected an ID of type {ranking.subject}")
    return named[1]


async def rank(
    reads: Reads, ranking: Ranking, global_id: str, first: int | None
) -> RankingOutcome:
    viewer, codes = reads.viewer, ranking.codes
    if viewer.role not in ranking.roles:
        return _refused(None, codes["NOT_ALLOWED"], ranking.refusal)
    size = ranking_size(ranking, first)
    try:
        key = subject_key(ranking, global_id)
    except BadArgument as error:
        return _refused(ranking.argument, codes["INVALID"], error.message)
    subject = CATALOG.entity(ranking.subject)
    found = await reads.node(subject, key)
    if found is None:
        return _refused(ranking.argument, codes["NOT_FOUND"], f"No such {ranking.subject}.")
    for refusal in ranking.refusals:
        if refusal.value(found):
            return _refused(ranking.argument, refusal.code, refusal.message)
    assert subject.key is not None
    statement = ranking.ranked(viewer, bindparam(None, key, subject.key.type), size)
    ranked = await reads.ranked_rows(statement)
    target = CATALOG.entity(ranking.target)
    rows = await asyncio.gather(*(reads.node(target, r["key"]) for r in ranked))
    if audits(viewer):
        reads.audit_log.note_keys(ranking.subject, [key])
        if target.personal:
            reads.audit_log.note_keys(target.name, [r["key"] for r in ranked])
    return RankingOutcome([
        RankedRow(row, float(r["score"]), list(r["reasons"]))
        for r, row in zip(ranked, rows, strict=True) if row is not None
    ])


def _refused(argument: str | None, code: Enum, message: str) -> RankingOutcome:
    return RankingOutcome(problems=[RankingProblem(argument, code, message)])


__all__ = ["RankedRow", "RankingOutcome", "RankingProblem", "audits", "rank", "ranking_size",
           "subject_key"]
