"""The three read workloads: a GraphQL query and the hand-written asyncpg fetch of the same data.

Each asyncpg fetch is what a competent engineer would write by hand: one statement, the
narrowest column list, joins or LATERAL subqueries instead of extra round trips. It returns the
data exactly as the GraphQL endpoint serialises it (global IDs, enum names, decimals as
strings, ISO timestamps), so the two can be compared value for value.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg

from db.models.enums import ApplicationStatus, EmploymentType, JobStatus, SalaryUnit
from resolvers.global_ids import encode_global_id

JSONObject = dict[str, Any]


class CountingConnection:
    """An asyncpg connection that counts the statements it sends."""

    def __init__(self, connection: asyncpg.pool.PoolConnectionProxy) -> None:
        self._connection = connection
        self.statements = 0

    async def fetch(self, sql: str, *args: object) -> list[asyncpg.Record]:
        self.statements += 1
        return await self._connection.fetch(sql, *args)


Fetch = Callable[[CountingConnection], Awaitable[JSONObject]]


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    query: str
    fetch: Fetch


# --- serialising like the GraphQL endpoint ------------------------------------------------


def enum_name(kind: type[enum.Enum], value: str) -> str:
    return kind(value).name


def decimal(value: Decimal) -> str:
    return str(value)


def timestamp(value: datetime) -> str:
    return value.isoformat()


def connection(nodes: list[JSONObject]) -> JSONObject:
    return {"edges": [{"node": node} for node in nodes]}


def count_objects(value: object) -> int:
    """How many objects (nodes and to-one relations) a result holds, connections not counted."""
    if isinstance(value, list):
        return sum(count_objects(item) for item in value)
    if not isinstance(value, dict):
        return 0
    wrapper = set(value) <= {"edges", "node", "pageInfo", "totalCount"}
    return (0 if wrapper else 1) + sum(count_objects(item) for item in value.values())


# --- 1. fifty jobs, flat ------------------------------------------------------------------

JOBS_FLAT_QUERY = """
query JobsFlat {
  jobs(first: 50) {
    edges {
      node { id title salaryMin salaryMax salaryUnit employmentType headcount status postedAt }
    }
  }
}
"""

JOBS_FLAT_SQL = """
SELECT id, title, salary_min, salary_max, salary_unit, employment_type, headcount, status,
       posted_at
FROM jobs
ORDER BY posted_at DESC, id DESC
LIMIT 50
"""


def job_node(row: asyncpg.Record, **more: object) -> JSONObject:
    """The fields of a job both job workloads read (and `more`)."""
    return {
        "id": encode_global_id("Job", row["id"]),
        "title": row["title"],
        "salaryMin": decimal(row["salary_min"]),
        "salaryMax": decimal(row["salary_max"]),
        "postedAt": timestamp(row["posted_at"]),
        **more,
    }


def fetch_jobs(sql: str, node: Callable[[asyncpg.Record], JSONObject]) -> Fetch:
    """A fetch of `{"jobs": ...}`: one statement, one node a row."""

    async def fetch(db: CountingConnection) -> JSONObject:
        return {"jobs": connection([node(row) for row in await db.fetch(sql)])}

    return fetch


def flat_job(row: asyncpg.Record) -> JSONObject:
    return job_node(
        row,
        salaryUnit=enum_name(SalaryUnit, row["salary_unit"]),
        employmentType=enum_name(EmploymentType, row["employment_type"]),
        headcount=row["headcount"],
        status=enum_name(JobStatus, row["status"]),
    )


# --- 2. fifty jobs with their employer and region -----------------------------------------

JOBS_NESTED_QUERY = """
query JobsWithEmployerAndRegion {
  jobs(first: 50) {
    edges {
      node {
        id title salaryMin salaryMax postedAt
        employer { id name }
        region { code name }
      }
    }
  }
}
"""

JOBS_NESTED_SQL = """
SELECT j.id, j.title, j.salary_min, j.salary_max, j.posted_at,
       e.id AS employer_id, e.name AS employer_name,
       r.code AS region_code, r.name AS region_name
FROM (
  SELECT id, title, salary_min, salary_max, posted_at, employer_id, region_code
  FROM jobs
  ORDER BY posted_at DESC, id DESC
  LIMIT 50
) AS j
JOIN employers AS e ON e.id = j.employer_id
JOIN regions AS r ON r.code = j.region_code
ORDER BY j.posted_at DESC, j.id DESC
"""


def nested_job(row: asyncpg.Record) -> JSONObject:
    employer_id = encode_global_id("Employer", row["employer_id"])
    return job_node(
        row,
        employer={"id": employer_id, "name": row["employer_name"]},
        region={"code": row["region_code"], "name": row["region_name"]},
    )


# --- 3. employers -> jobs -> applications -> applicant ------------------------------------

EMPLOYER_TREE_QUERY = """
query EmployersJobsApplications {
  employers(first: 20) {
    edges { node {
      name
      jobs(first: 5) { edges { node {
        title
        applications(first: 5) { edges { node {
          status
          worker { name maskedIdNumber }
        } } }
      } } }
    } }
  }
}
"""

# One round trip: each LATERAL picks a parent's newest five through the
# (parent, sort key, id) index, so the whole tree costs 20 + 100 index probes.
EMPLOYER_TREE_SQL = """
SELECT e.id AS employer_id, e.name AS employer_name,
       j.id AS job_id, j.title,
       a.status, w.name AS worker_name, w.id_number_masked
FROM (
  SELECT id, name, created_at FROM employers ORDER BY created_at DESC, id DESC LIMIT 20
) AS e
LEFT JOIN LATERAL (
  SELECT id, title, posted_at FROM jobs
  WHERE employer_id = e.id
  ORDER BY posted_at DESC, id DESC
  LIMIT 5
) AS j ON true
LEFT JOIN LATERAL (
  SELECT status, worker_id, submitted_at, id FROM applications
  WHERE job_id = j.id
  ORDER BY submitted_at DESC, id DESC
  LIMIT 5
) AS a ON true
LEFT JOIN workers AS w ON w.id = a.worker_id
ORDER BY e.created_at DESC, e.id DESC,
         j.posted_at DESC NULLS LAST, j.id DESC,
         a.submitted_at DESC NULLS LAST, a.id DESC
"""


async def fetch_employer_tree(db: CountingConnection) -> JSONObject:
    employers: dict[int, JSONObject] = {}
    jobs: dict[int, JSONObject] = {}
    for row in await db.fetch(EMPLOYER_TREE_SQL):
        employer = employers.get(row["employer_id"])
        if employer is None:
            employer = employers[row["employer_id"]] = {
                "name": row["employer_name"],
                "jobs": {"edges": []},
            }
        if row["job_id"] is None:
            continue
        job = jobs.get(row["job_id"])
        if job is None:
            job = jobs[row["job_id"]] = {"title": row["title"], "applications": {"edges": []}}
            employer["jobs"]["edges"].append({"node": job})
        if row["status"] is None:
            continue
        application = {
            "status": enum_name(ApplicationStatus, row["status"]),
            "worker": {"name": row["worker_name"], "maskedIdNumber": row["id_number_masked"]},
        }
        job["applications"]["edges"].append({"node": application})
    return {"employers": connection(list(employers.values()))}


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "jobs_flat",
        "50 newest jobs, scalar fields only",
        JOBS_FLAT_QUERY,
        fetch_jobs(JOBS_FLAT_SQL, flat_job),
    ),
    Workload(
        "jobs_employer_region",
        "50 newest jobs, each with its employer and region",
        JOBS_NESTED_QUERY,
        fetch_jobs(JOBS_NESTED_SQL, nested_job),
    ),
    Workload(
        "employer_tree",
        "20 employers > 5 jobs each > 5 applications each > the applicant",
        EMPLOYER_TREE_QUERY,
        fetch_employer_tree,
    ),
)

WORKLOADS_BY_NAME = {workload.name: workload for workload in WORKLOADS}
