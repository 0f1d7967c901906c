"""Two matching workloads: `recommended_jobs` (jobs for a worker) and `recommended_workers`
(workers for a job), asked by a staff member of one province (`Subject.match_province`) for
each of up to 200 workers (`Subject.match_workers`) or jobs (`Subject.match_jobs`) in turn, the
first 10 of each ranking.

Their hand-written side runs the ranking laborhub's compiled path runs: the statement of
`Ranking.ranked` (`resolvers.matching`) for that staff member, compiled once per province as
the compiled path compiles it (`resolvers.compiler.driver_sql`, the subject's key a parameter),
with the ranked rows' fields joined around it in one statement. What it leaves out is what
laborhub adds around the ranking: the checks that make `userErrors` (the subject seen, not
refused), the JSON built in SQL, and the audit event each staff read of a ranking appends.

Every ranking a staff member reads is audited (one `audit_events` row a request, actor
`staff:bench-recommend-<province>`): `remove_ranking_audits` deletes them after each check and
measurement, as `apply` deletes its own.
"""

from __future__ import annotations

import functools

import asyncpg
from sqlalchemy import BigInteger, bindparam

from bench.workloads import (
    Claims,
    CountingConnection,
    JSONObject,
    Subject,
    Workload,
)
from resolvers.access import Role, Viewer
from resolvers.compiler import DriverSql, driver_sql
from resolvers.compiler.json_sql import BOUND
from resolvers.declarations import Ranking
from resolvers.global_ids import encode_global_id
from resolvers.matching import RECOMMENDED_JOBS, RECOMMENDED_WORKERS

FIRST = 10
"""How many recommendations each request asks for."""
TIMEOUT_SECONDS = 10.0
"""The hand-written side's limit on a statement: laborhub's (`LABORHUB_STATEMENT_TIMEOUT_MS`,
10 s by default), so that a statement stuck on a bad plan fails here as it fails there, and
does not run on past the measurement."""

STAFF_PREFIX = "bench-recommend-"
"""The token subject of the staff member who asks (`staff:bench-recommend-<province>` in the
audit trail): how the clean-up finds the audit events these workloads made."""

RECOMMENDED_JOBS_QUERY = """
query RecommendedJobs($workerId: ID!) {
  recommendedJobs(workerId: $workerId, first: 10) {
    recommendations { score reasons job { id title employer { name } region { name } } }
    userErrors { code message }
  }
}
"""

RECOMMENDED_WORKERS_QUERY = """
query RecommendedWorkers($jobId: ID!) {
  recommendedWorkers(jobId: $jobId, first: 10) {
    recommendations { score reasons worker { id name } }
    userErrors { code }
  }
}
"""


def staff_viewer(province: str) -> Viewer:
    return Viewer(Role.STAFF, subject=f"{STAFF_PREFIX}{province}", region_code=province)


def staff_asking(subject: Subject, variant: int) -> Claims:
    """The staff member of the matching province, for every variant."""
    province = subject.match_province
    return {"role": "staff", "subject": f"{STAFF_PREFIX}{province}", "region": province}


RANKINGS = {ranking.name: ranking for ranking in (RECOMMENDED_JOBS, RECOMMENDED_WORKERS)}


@functools.lru_cache(maxsize=8)
def peer_statement(name: str, province: str) -> tuple[str, tuple[object, ...], int]:
    """The statement of the ranking `name` for the province's staff, compiled as the compiled
    path compiles it (`driver_sql`, for asyncpg), inside the join to the ranked rows' fields;
    its parameters, and the index of the one to set to the subject's key."""
    ranking = RANKINGS[name]
    key = bindparam(f"{BOUND}0_key", 0, BigInteger)  # a variable's: never shared
    driven: DriverSql = driver_sql(ranking.ranked(staff_viewer(province), key, FIRST))
    [(index, _, _)] = driven.bound
    wrap = jobs_sql if ranking is RECOMMENDED_JOBS else workers_sql
    return wrap(driven.sql), driven.parameters, index


def jobs_sql(ranked: str) -> str:
    """The ranked jobs with the fields `recommended_jobs` asks for, best first."""
    return f"""
SELECT ranked.score, ranked.reasons, j.id, j.title, e.name AS employer_name,
       r.name AS region_name
FROM ({ranked}) AS ranked
JOIN jobs AS j ON j.id = ranked.key
JOIN employers AS e ON e.id = j.employer_id
JOIN regions AS r ON r.code = j.region_code
ORDER BY ranked.position
"""


def workers_sql(ranked: str) -> str:
    """The ranked workers with the fields `recommended_workers` asks for, best first."""
    return f"""
SELECT ranked.score, ranked.reasons, w.id, w.name
FROM ({ranked}) AS ranked
JOIN workers AS w ON w.id = ranked.key
ORDER BY ranked.position
"""


async def fetch_ranked(
    db: CountingConnection, ranking: Ranking, province: str, key: int
) -> list[asyncpg.Record]:
    sql, parameters, index = peer_statement(ranking.name, province)
    arguments = list(parameters)
    arguments[index] = key
    return await db.fetch(sql, *arguments, limit_seconds=TIMEOUT_SECONDS, replanned=True)


def match_workers(subject: Subject) -> int:
    return len(subject.match_workers)


def match_jobs(subject: Subject) -> int:
    return len(subject.match_jobs)


def worker_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    return {"workerId": encode_global_id("Worker", subject.match_workers[variant])}


def job_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    return {"jobId": encode_global_id("Job", subject.match_jobs[variant])}


async def fetch_recommended_jobs(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
    worker = subject.match_workers[variant]
    rows = await fetch_ranked(db, RECOMMENDED_JOBS, subject.match_province, worker)
    recommendations = [
        {
            "score": float(row["score"]),
            "reasons": list(row["reasons"]),
            "job": {
                "id": encode_global_id("Job", row["id"]),
                "title": row["title"],
                "employer": {"name": row["employer_name"]},
                "region": {"name": row["region_name"]},
            },
        }
        for row in rows
    ]
    return {"recommendedJobs": {"recommendations": recommendations, "userErrors": []}}


async def fetch_recommended_workers(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
    job = subject.match_jobs[variant]
    rows = await fetch_ranked(db, RECOMMENDED_WORKERS, subject.match_province, job)
    recommendations = [
        {
            "score": float(row["score"]),
            "reasons": list(row["reasons"]),
            "worker": {"id": encode_global_id("Worker", row["id"]), "name": row["name"]},
        }
        for row in rows
    ]
    return {"recommendedWorkers": {"recommendations": recommendations, "userErrors": []}}


# The audit trail is append-only (a trigger refuses deletes); a superuser can skip the trigger
# for this delete, as `apply`'s clean-up does.
REMOVE_RANKING_AUDITS_SQL = f"""
DELETE FROM audit_events
WHERE operation LIKE 'rankingRead:%' AND actor LIKE 'staff:{STAFF_PREFIX}%'
"""


async def remove_ranking_audits(pool: asyncpg.Pool, subject: Subject) -> int:
    """Delete the audit events of these workloads' ranking reads (of any run), when allowed
    (`session_replication_role = replica` needs a superuser; otherwise they stay)."""
    async with pool.acquire() as connection, connection.transaction():
        try:
            async with connection.transaction():
                await connection.execute("SET LOCAL session_replication_role = replica")
                status = await connection.execute(REMOVE_RANKING_AUDITS_SQL)
        except asyncpg.InsufficientPrivilegeError:
            return 0
    return int(status.split()[-1])


RECOMMENDATION_WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "recommended_jobs",
        "the 10 best jobs for a worker, scored and explained, with each job's title, employer"
        " and region, as staff of a province, for each of 200 surveyed workers in turn"
        " (no PostGraphile: it has no such field)",
        RECOMMENDED_JOBS_QUERY,
        None,
        fetch_recommended_jobs,
        worker_variables,
        variants=match_workers,
        asker=staff_asking,
        reset=remove_ranking_audits,
        expect=b'"userErrors":[]',
    ),
    Workload(
        "recommended_workers",
        "the 10 best workers for a job, scored and explained, with each worker's name, as"
        " staff of a province, for each of 200 of its open jobs in turn"
        " (no PostGraphile: it has no such field)",
        RECOMMENDED_WORKERS_QUERY,
        None,
        fetch_recommended_workers,
        job_variables,
        variants=match_jobs,
        asker=staff_asking,
        reset=remove_ranking_audits,
        expect=b'"userErrors":[]',
    ),
)
