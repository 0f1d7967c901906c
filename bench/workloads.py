"""What a workload is: a laborhub query, a PostGraphile query (one text for 4 and 5, spelled
for each) and the hand-written asyncpg fetch of the same data, with the helpers the fetches use
to serialise like the laborhub endpoint (global IDs, enum names, decimals as strings, ISO
timestamps). The workloads themselves are in `bench.catalog`.

A workload has one or more *variants*: the distinct requests its clients cycle through (variant
0 .. n-1; most workloads have one, the same request every time). The variables and the asyncpg
fetch take the variant, so variant i asks every implementation for the same rows.

PostGraphile 5's Amber preset calls the `id` column `rowId` (its `id` is the Node ID); the
PostGraphile texts are written for 5 and `postgraphile_document` spells them for 4.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, Required, TypedDict

import asyncpg

from db.session import replanning

JSONObject = dict[str, Any]

LABORHUB = "laborhub"
"""laborhub on its resolver path (`LABORHUB_COMPILED_READS=0`)."""
LABORHUB_COMPILED = "laborhub-compiled"
"""laborhub with reads compiled to SQL where it can (`LABORHUB_COMPILED_READS=1`)."""
LABORHUBS = (LABORHUB_COMPILED, LABORHUB)
POSTGRAPHILE4 = "postgraphile4"
POSTGRAPHILE5 = "postgraphile5"
ASYNCPG = "asyncpg"
SERVERS = (*LABORHUBS, POSTGRAPHILE4, POSTGRAPHILE5)
"""The GraphQL servers a workload has a document for."""


class CountingConnection:
    """An asyncpg connection that counts the statements it sends."""

    def __init__(self, connection: asyncpg.pool.PoolConnectionProxy) -> None:
        self._connection = connection
        self.statements = 0

    async def fetch(
        self, sql: str, *args: object, limit_seconds: float | None = None,
        replanned: bool = False,
    ) -> list[asyncpg.Record]:
        """The rows; with `limit_seconds`, the statement cancelled after that long; with
        `replanned`, planned for these values (as laborhub plans its rankings:
        `db.session.replanning`)."""
        self.statements += 1
        async with replanning(self._connection) if replanned else nullcontext():
            return await self._connection.fetch(sql, *args, timeout=limit_seconds)


NEWEST_JOBS = 1000
"""How many of the newest jobs a run picks for the workloads that ask for a different job each
request."""
APPLICANTS = 3000  # more than a process keeps plans of (server.compiled_reads.PLANS)
STAFF_COUNTIES = 3000  # about as many as China has; more than a process keeps plans of
SEARCH_COUNTIES = 25
"""The counties with the most jobs in the public view that `search` cycles through."""
APPLY_PAIRS = 80_000
"""The (worker, job) pairs `apply` can make: more than one measurement sends (a pair applied
twice is a DUPLICATE, counted as an error); the hand-written INSERT makes some 3,000 a second,
which 30,000 pairs did not last 8 seconds of."""
MATCH_SUBJECTS = 200
"""How many workers (and jobs) of the matching province `recommended_jobs` (and
`recommended_workers`) cycle through."""


@dataclass(frozen=True)
class Subject:
    """The rows the parametrised workloads name, picked from the data once per run."""

    job_ids: tuple[int, ...]
    """The NEWEST_JOBS newest jobs (fewer when the data has fewer), newest first."""
    county: str
    """The county (a division with no children) with the most published jobs."""
    insured_worker: int
    """The worker with the most insurance records (the smallest id among equals)."""
    province: str
    """The province with the most insurance records (in its pooling regions)."""
    insurance_year: int
    """The year with the most insurance records (the latest among equals)."""
    applicants: tuple[int, ...] = ()
    """Up to APPLICANTS workers with applications, by id."""
    counties: tuple[str, ...] = ()
    """STAFF_COUNTIES county codes: every county of the reference data, those with the most
    workers (living or registered there) first, then codes of made-up counties under its
    prefectures (the reference data holds a sample of China's 2,800)."""
    search_counties: tuple[str, ...] = ()
    """Up to SEARCH_COUNTIES counties (level `county`, with no divisions under them) with the
    most jobs in the public view, most first."""
    search_text: bool = False
    """Whether the database has `jobs.search_text` (migration 0012: the lowercased title,
    description, employer and occupation names that `keyword` searches); without it `keyword`
    is a title ILIKE."""
    search_grams: bool = False
    """Whether it has `jobs.search_grams` (0012's bigrams of `search_text`, GIN-indexed)."""
    apply_pairs: tuple[tuple[int, int], ...] = ()
    """Up to APPLY_PAIRS (worker, job) pairs that can apply: the job open (published,
    valid a day longer at least, not hidden by reports, not full), no application of that
    worker to it; each worker once, the jobs spread over the open ones."""
    match_province: str = ""
    """The province (a code ending in 0000) with the most jobs in the public view that have an
    occupation, among those with surveyed workers: the division of the staff member who asks
    for recommendations."""
    match_workers: tuple[int, ...] = ()
    """Up to MATCH_SUBJECTS workers the province's staff sees (living or registered there)
    who have a skill survey (their latest is the profile matched) and did not refuse
    recommendations, spread evenly over them by id."""
    match_jobs: tuple[int, ...] = ()
    """Up to MATCH_SUBJECTS jobs of the province in the public view with an occupation, spread
    evenly over them by id."""

    @property
    def job_id(self) -> int:
        """The newest job."""
        return self.job_ids[0]


SUBJECT_SQL = """
SELECT
  ARRAY(SELECT id FROM jobs ORDER BY posted_at DESC, id DESC LIMIT $1) AS job_ids,
  (SELECT j.region_code FROM jobs AS j
   WHERE j.status = 'published'
     AND NOT EXISTS (SELECT 1 FROM regions AS c WHERE c.parent_code = j.region_code)
   GROUP BY j.region_code
   ORDER BY count(*) DESC, j.region_code
   LIMIT 1) AS county,
  (SELECT worker_id FROM insurance_records
   GROUP BY worker_id ORDER BY count(*) DESC, worker_id LIMIT 1) AS insured_worker,
  (SELECT p.code FROM insurance_records AS r
   JOIN regions AS p ON p.code = left(r.region_code, 2) || '0000'
   GROUP BY p.code ORDER BY count(*) DESC, p.code LIMIT 1) AS province,
  (SELECT extract(year FROM period)::int FROM insurance_records
   GROUP BY 1 ORDER BY count(*) DESC, 1 DESC LIMIT 1) AS insurance_year,
  ARRAY(SELECT DISTINCT worker_id FROM applications ORDER BY worker_id LIMIT $2) AS applicants,
  ARRAY(SELECT code FROM (
          SELECT c.code, false AS made_up, coalesce(people.n, 0) AS people
          FROM regions AS c LEFT JOIN (
            SELECT code, count(*) AS n FROM (
              SELECT current_region_code AS code FROM workers
              UNION ALL SELECT hukou_region_code FROM workers) AS codes
            GROUP BY code) AS people ON people.code = c.code
          WHERE c.level = 'county'
          UNION ALL
          SELECT left(p.code, 4) || lpad(n::text, 2, '0'), true, 0
          FROM regions AS p, generate_series(1, 99) AS n
          WHERE p.level = 'prefecture' AND NOT EXISTS (
            SELECT 1 FROM regions AS c WHERE c.code = left(p.code, 4) || lpad(n::text, 2, '0'))
        ) AS counties ORDER BY made_up, people DESC, code LIMIT $3) AS counties
"""


# The public view: what an anonymous caller sees of the jobs (`job_lifecycle.in_public_view`).
PUBLIC_JOBS = (
    "status = 'published' AND (valid_through IS NULL OR valid_through > now()) "
    "AND open_reports < 3"
)

SEARCH_SUBJECT_SQL = f"""
SELECT
  ARRAY(SELECT j.region_code FROM jobs AS j
        WHERE {PUBLIC_JOBS}
          AND EXISTS (SELECT 1 FROM regions AS c WHERE c.code = j.region_code
                      AND c.level = 'county'
                      AND NOT EXISTS (SELECT 1 FROM regions AS d WHERE d.parent_code = c.code))
        GROUP BY j.region_code ORDER BY count(*) DESC, j.region_code LIMIT $1) AS counties,
  EXISTS (SELECT 1 FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = 'jobs'
            AND column_name = 'search_text') AS search_text,
  EXISTS (SELECT 1 FROM information_schema.columns
          WHERE table_schema = current_schema() AND table_name = 'jobs'
            AND column_name = 'search_grams') AS search_grams
"""

# Worker n (by id) with the open job number (n * 7919) mod (open jobs): every worker once, the
# jobs spread (a hash join on the number); a pair that has an application already is left out.
APPLY_PAIRS_SQL = """
WITH open AS (
  SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
  FROM jobs
  WHERE status = 'published' AND (valid_through IS NULL OR valid_through > now() + interval '1 day')
    AND open_reports < 3 AND openings_filled < headcount
), worker AS (
  SELECT id, (row_number() OVER (ORDER BY id) - 1) * 7919
             % nullif((SELECT count(*) FROM open), 0) AS job_n
  FROM workers ORDER BY id LIMIT $1
)
SELECT worker.id AS worker_id, open.id AS job_id
FROM worker JOIN open ON open.n = worker.job_n
WHERE NOT EXISTS (
  SELECT 1 FROM applications AS a WHERE a.worker_id = worker.id AND a.job_id = open.id
)
ORDER BY worker.id
"""


# The province, then MATCH_SUBJECTS of each kind, every (count / MATCH_SUBJECTS)th by id.
MATCH_PROVINCE_SQL = f"""
SELECT p.code FROM jobs AS j
JOIN regions AS p ON p.code = left(j.region_code, 2) || '0000'
WHERE {PUBLIC_JOBS} AND j.occupation_code IS NOT NULL
  AND EXISTS (SELECT 1 FROM workers AS w JOIN skill_surveys AS s ON s.worker_id = w.id
              WHERE left(w.current_region_code, 2) = left(p.code, 2)
                 OR left(w.hukou_region_code, 2) = left(p.code, 2))
GROUP BY p.code ORDER BY count(*) DESC, p.code LIMIT 1
"""

MATCH_SUBJECTS_SQL = f"""
WITH workers_seen AS (
  SELECT w.id, row_number() OVER (ORDER BY w.id) - 1 AS n, count(*) OVER () AS total
  FROM workers AS w
  WHERE (left(w.current_region_code, 2) = $1 OR left(w.hukou_region_code, 2) = $1)
    AND NOT w.recommendation_opt_out
    AND EXISTS (SELECT 1 FROM skill_surveys AS s WHERE s.worker_id = w.id)
), jobs_open AS (
  SELECT id, row_number() OVER (ORDER BY id) - 1 AS n, count(*) OVER () AS total
  FROM jobs
  WHERE left(region_code, 2) = $1 AND {PUBLIC_JOBS} AND occupation_code IS NOT NULL
)
SELECT
  ARRAY(SELECT id FROM workers_seen WHERE n % greatest(total / $2, 1) = 0
        ORDER BY id LIMIT $2) AS workers,
  ARRAY(SELECT id FROM jobs_open WHERE n % greatest(total / $2, 1) = 0
        ORDER BY id LIMIT $2) AS jobs
"""


async def find_subject(pool: asyncpg.Pool) -> Subject:
    row = await pool.fetchrow(SUBJECT_SQL, NEWEST_JOBS, APPLICANTS, STAFF_COUNTIES)
    if row is None or not row["job_ids"] or row["county"] is None:
        raise RuntimeError("the bench database has no published jobs to pick a subject from")
    if row["insured_worker"] is None or row["province"] is None:
        raise RuntimeError("the bench database has no insurance records to pick a subject from")
    search = await pool.fetchrow(SEARCH_SUBJECT_SQL, SEARCH_COUNTIES)
    assert search is not None
    pairs = await pool.fetch(APPLY_PAIRS_SQL, APPLY_PAIRS)
    province = await pool.fetchval(MATCH_PROVINCE_SQL) or ""
    matched = await pool.fetchrow(MATCH_SUBJECTS_SQL, province[:2], MATCH_SUBJECTS)
    assert matched is not None
    return Subject(
        job_ids=tuple(row["job_ids"]),
        county=row["county"],
        insured_worker=row["insured_worker"],
        province=row["province"],
        insurance_year=row["insurance_year"],
        applicants=tuple(row["applicants"]),
        counties=tuple(row["counties"]),
        search_counties=tuple(search["counties"]),
        search_text=search["search_text"],
        search_grams=search["search_grams"],
        apply_pairs=tuple((pair["worker_id"], pair["job_id"]) for pair in pairs),
        match_province=province,
        match_workers=tuple(matched["workers"]),
        match_jobs=tuple(matched["jobs"]),
    )


class Fetch(Protocol):
    """The hand-written asyncpg read of a workload's variant (0, the one every workload has,
    when not given), returning the data as the laborhub endpoint serialises it."""

    def __call__(
        self, db: CountingConnection, subject: Subject, variant: int = 0, /
    ) -> Awaitable[JSONObject]: ...


class Variables(Protocol):
    """The GraphQL variables of a workload's variant (0 when not given) for `server` (one of
    SERVERS)."""

    def __call__(self, subject: Subject, server: str, variant: int = 0, /) -> dict[str, object]: ...


Variants = Callable[[Subject], int]
"""How many distinct requests a workload cycles through on the subject's data."""

class Claims(TypedDict, total=False):
    """What a development token says of who asks (`server.auth.mint_token`'s arguments)."""

    role: Required[str]
    subject: Required[str]
    worker_id: str
    region: str


Asker = Callable[[Subject, int], Claims | None]
"""The token claims (`role`, `subject` and the role's own: `worker_id`, `region`) a workload's
variant asks with, on laborhub, or None to ask with no credentials (`anonymous`); without an
asker it asks as admin."""

Reset = Callable[[asyncpg.Pool, Subject], Awaitable[int]]
"""Undo what a writing workload's requests wrote (rows it made, by any implementation, and of
earlier runs); returns how many rows it removed."""


def anonymous(subject: Subject, variant: int) -> None:
    """Ask with no credentials, as a visitor of the public site."""
    return None


def no_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    return {}


def one_variant(subject: Subject) -> int:
    """The same request every time."""
    return 1


@dataclass(frozen=True)
class Workload:
    name: str
    description: str
    query: str
    """laborhub's document."""
    postgraphile: str | Callable[[Subject], str] | None
    """PostGraphile 5's document (or how to write it for the subject's database);
    `postgraphile_document` spells it for 4. None when PostGraphile cannot ask for it in one
    request (stock PostGraphile has equality conditions only, no ranges, no code prefixes; no
    worker or staff role; no mutations): the peers then sit the workload out."""
    fetch: Fetch
    variables: Variables = field(default=no_variables)
    variants: Variants = field(default=one_variant)
    """How many distinct requests (variants 0 .. n-1) the clients cycle through, one after
    the other, given the run's subject."""
    asker: Asker | None = None
    checked: Callable[[Subject], tuple[int, ...]] | None = None
    """The variants the sanity check compares, when not `harness.checked_variants`' first,
    middle and last."""
    reset: Reset | None = None
    """For a workload that writes: run after its reference answers, after its sanity check of
    each server and after each measurement, so that each starts from the same data."""
    expect: bytes | None = None
    """Bytes every answer of a GraphQL server must hold to count as a success (a mutation's
    `"userErrors":[]`: its expected failures are data, not `errors`)."""

    def serves(self, server: str) -> bool:
        """Whether `server` (one of SERVERS) has a document for this workload."""
        return server in LABORHUBS or self.postgraphile is not None

    def document(self, server: str, subject: Subject) -> str:
        if server in LABORHUBS:
            return self.query
        if self.postgraphile is None:
            raise ValueError(f"workload {self.name} has no document for {server}")
        text = self.postgraphile
        return postgraphile_document(text if isinstance(text, str) else text(subject), server)

    def body(self, server: str, subject: Subject, variant: int) -> bytes:
        """The JSON request body of `variant` for `server` (one of SERVERS)."""
        request: JSONObject = {"query": self.document(server, subject)}
        variables = self.variables(subject, server, variant)
        if variables:
            request["variables"] = variables
        return json.dumps(request).encode()


def postgraphile_document(text: str, server: str) -> str:
    """PostGraphile 5's `rowId`, `jobByRowId`, `ROW_ID_DESC` as 4 spells them (`id`, ...)."""
    if server == POSTGRAPHILE5:
        return text
    if server == POSTGRAPHILE4:
        return text.replace("ROW_ID", "ID").replace("RowId", "Id").replace("rowId", "id")
    raise ValueError(f"server: expected {POSTGRAPHILE4} or {POSTGRAPHILE5}, got {server!r}")


# --- serialising like the laborhub endpoint ------------------------------------------------


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
