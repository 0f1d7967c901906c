"""The workloads (issue 8's six, `job_by_varying_id`, two over insurance records: a worker's
summary and a province's yearly statistic, two as many workers or staff, a job search, and
workers applying to jobs), each for laborhub, PostGraphile and asyncpg.

Each asyncpg fetch is what a competent engineer would write by hand: one statement, the
narrowest column list, joins or LATERAL subqueries instead of extra round trips. It returns the
data exactly as the laborhub endpoint serialises it. The PostGraphile queries alias their
fields to laborhub's names (`employer: employerByEmployerId`), so every answer has the same
shape and `bench.same_data` can compare them value by value. Every list is ordered the same
way everywhere: newest first, the id breaking ties (laborhub's defaults).

`job_by_varying_id` is `job_by_id` with one variant per job of `Subject.job_ids`: each request
asks for the next of the newest jobs, so a server cannot answer from one cached result, only
from a plan that binds the id (`job_by_id` is its variant 0, the newest job, every time).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import asyncpg

from bench.recommendations import RECOMMENDATION_WORKLOADS
from bench.workloads import (
    LABORHUBS,
    PUBLIC_JOBS,
    Claims,
    CountingConnection,
    Fetch,
    JSONObject,
    Subject,
    Workload,
    anonymous,
    connection,
    decimal,
    enum_name,
    timestamp,
)
from db.codes import division_prefix
from db.models.enums import (
    ApplicationStatus,
    ContributionStatus,
    InsuranceType,
    JobStatus,
    SalaryUnit,
)
from resolvers.filters import keyword_pattern
from resolvers.global_ids import encode_global_id

# --- the seven job fields the flat workloads read ------------------------------------------

JOB_FIELDS = "id title salaryMin salaryMax salaryUnit status postedAt"
PG_JOB_FIELDS = "id: rowId title salaryMin salaryMax salaryUnit status postedAt"
# A job's status as laborhub answers it: EXPIRED once a published job's validity has passed.
JOB_COLUMNS = (
    "id, title, salary_min, salary_max, salary_unit, CASE WHEN status = 'published' AND "
    "valid_through <= now() THEN 'expired' ELSE status END AS status, posted_at"
)
PUBLISHED_NOW = "status = 'published' AND (valid_through IS NULL OR valid_through > now())"
NEWEST = "[POSTED_AT_DESC, ROW_ID_DESC]"
LATEST_PERIOD = "[PERIOD_DESC, ROW_ID_DESC]"


def job_node(row: asyncpg.Record, **more: object) -> JSONObject:
    """A job's id, title, salaries and postedAt (and `more`)."""
    return {
        "id": encode_global_id("Job", row["id"]),
        "title": row["title"],
        "salaryMin": decimal(row["salary_min"]),
        "salaryMax": decimal(row["salary_max"]),
        "postedAt": timestamp(row["posted_at"]),
        **more,
    }


def flat_job(row: asyncpg.Record) -> JSONObject:
    return job_node(
        row,
        salaryUnit=enum_name(SalaryUnit, row["salary_unit"]),
        status=enum_name(JobStatus, row["status"]),
    )


def fetch_jobs(sql: str, node: Callable[[asyncpg.Record], JSONObject]) -> Fetch:
    """A fetch of `{"jobs": ...}`: one statement, one node a row."""

    async def fetch(db: CountingConnection, subject: Subject, variant: int = 0) -> JSONObject:
        return {"jobs": connection([node(row) for row in await db.fetch(sql)])}

    return fetch


# --- 1. one job by id (and 7. a different one each request) -------------------------------

JOB_BY_ID_QUERY = f"""
query JobById($id: ID!) {{
  job: node(id: $id) {{ ... on Job {{ {JOB_FIELDS} }} }}
}}
"""

PG_JOB_BY_ID = f"""
query JobById($id: BigInt!) {{
  job: jobByRowId(rowId: $id) {{ {PG_JOB_FIELDS} }}
}}
"""

JOB_BY_ID_SQL = f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1"


def newest_jobs(subject: Subject) -> int:
    """A variant for each job of `subject.job_ids`: variant i is the i-th newest."""
    return len(subject.job_ids)


def job_id_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    job_id = subject.job_ids[variant]
    if server in LABORHUBS:
        return {"id": encode_global_id("Job", job_id)}
    return {"id": str(job_id)}  # PostGraphile's BigInt is a string


async def fetch_job_by_id(db: CountingConnection, subject: Subject, variant: int = 0) -> JSONObject:
    rows = await db.fetch(JOB_BY_ID_SQL, subject.job_ids[variant])
    return {"job": flat_job(rows[0]) if rows else None}


# --- 2. fifty jobs, flat -------------------------------------------------------------------

JOBS_FLAT_QUERY = f"""
query JobsFlat {{
  jobs(first: 50) {{ edges {{ node {{ {JOB_FIELDS} }} }} }}
}}
"""

PG_JOBS_FLAT = f"""
query JobsFlat {{
  jobs: allJobs(first: 50, orderBy: {NEWEST}) {{ edges {{ node {{ {PG_JOB_FIELDS} }} }} }}
}}
"""

JOBS_FLAT_SQL = f"""
SELECT {JOB_COLUMNS}
FROM jobs
ORDER BY posted_at DESC, id DESC
LIMIT 50
"""


# --- 3. fifty jobs with their employer and region ------------------------------------------

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

PG_JOBS_NESTED = f"""
query JobsWithEmployerAndRegion {{
  jobs: allJobs(first: 50, orderBy: {NEWEST}) {{
    edges {{
      node {{
        id: rowId title salaryMin salaryMax postedAt
        employer: employerByEmployerId {{ id: rowId name }}
        region: regionByRegionCode {{ code name }}
      }}
    }}
  }}
}}
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


# --- 4. employers -> jobs -> applications -> applicant -------------------------------------

EMPLOYER_TREE_QUERY = """
query EmployersJobsApplications {
  employers(first: 20) {
    edges { node {
      name
      jobs(first: 5) { edges { node {
        title
        applications(first: 5) { edges { node {
          status
          worker { name }
        } } }
      } } }
    } }
  }
}
"""

PG_EMPLOYER_TREE = """
query EmployersJobsApplications {
  employers: allEmployers(first: 20, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) {
    edges { node {
      name
      jobs: jobsByEmployerId(first: 5, orderBy: [POSTED_AT_DESC, ROW_ID_DESC]) {
        edges { node {
          title
          applications: applicationsByJobId(
            first: 5, orderBy: [SUBMITTED_AT_DESC, ROW_ID_DESC]
          ) { edges { node {
            status
            worker: workerByWorkerId { name }
          } } }
        } }
      }
    } }
  }
}
"""

# One round trip: each LATERAL picks a parent's newest five through the
# (parent, sort key, id) index, so the whole tree costs 20 + 100 index probes.
EMPLOYER_TREE_SQL = """
SELECT e.id AS employer_id, e.name AS employer_name,
       j.id AS job_id, j.title,
       a.status, w.name AS worker_name
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


async def fetch_employer_tree(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
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
            "worker": {"name": row["worker_name"]},
        }
        job["applications"]["edges"].append({"node": application})
    return {"employers": connection(list(employers.values()))}


# --- 5. totalCount and 20 jobs of one county and status ------------------------------------

JOBS_FILTERED_QUERY = f"""
query JobsOfCounty($county: String!) {{
  jobs(first: 20, filter: {{regionCode: $county, status: PUBLISHED}}) {{
    totalCount
    edges {{ node {{ {JOB_FIELDS} }} }}
  }}
}}
"""

PG_JOBS_FILTERED = f"""
query JobsOfCounty($county: String!) {{
  jobs: allJobs(
    first: 20, condition: {{regionCode: $county, status: "published"}}, orderBy: {NEWEST}
  ) {{
    totalCount
    edges {{ node {{ {PG_JOB_FIELDS} }} }}
  }}
}}
"""

# A county has no divisions under it, so laborhub's "everything under regionCode" and the
# peers' equality select the same rows. One statement: the count is a scalar subquery beside
# the page (a `count(*) OVER ()` would read and sort every matching row before LIMIT: 45 ms
# instead of 8 on `large`); an empty page means a count of 0, as there is no offset.
JOBS_FILTERED_SQL = f"""
SELECT (
  SELECT count(*) FROM jobs WHERE region_code = $1 AND {PUBLISHED_NOW}
) AS total_count, page.*
FROM (
  SELECT {JOB_COLUMNS}
  FROM jobs
  WHERE region_code = $1 AND {PUBLISHED_NOW}
  ORDER BY posted_at DESC, id DESC
  LIMIT 20
) AS page
ORDER BY page.posted_at DESC, page.id DESC
"""


def county_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    return {"county": subject.county}


async def fetch_jobs_filtered(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
    rows = await db.fetch(JOBS_FILTERED_SQL, subject.county)
    total = rows[0]["total_count"] if rows else 0
    return {"jobs": {"totalCount": total, **connection([flat_job(row) for row in rows])}}


# --- 6. 100 jobs, each with its employer and the employer's newest three jobs --------------

JOBS_EMPLOYER_JOBS_QUERY = """
query JobsWithEmployerJobs {
  jobs(first: 100) {
    edges { node {
      id title postedAt
      employer {
        id name
        jobs(first: 3) { edges { node { id title postedAt } } }
      }
    } }
  }
}
"""

PG_JOBS_EMPLOYER_JOBS = f"""
query JobsWithEmployerJobs {{
  jobs: allJobs(first: 100, orderBy: {NEWEST}) {{
    edges {{ node {{
      id: rowId title postedAt
      employer: employerByEmployerId {{
        id: rowId name
        jobs: jobsByEmployerId(first: 3, orderBy: {NEWEST}) {{
          edges {{ node {{ id: rowId title postedAt }} }}
        }}
      }}
    }} }}
  }}
}}
"""

JOBS_EMPLOYER_JOBS_SQL = """
SELECT j.id, j.title, j.posted_at, e.id AS employer_id, e.name AS employer_name,
       ej.id AS other_id, ej.title AS other_title, ej.posted_at AS other_posted_at
FROM (
  SELECT id, title, posted_at, employer_id FROM jobs ORDER BY posted_at DESC, id DESC LIMIT 100
) AS j
JOIN employers AS e ON e.id = j.employer_id
LEFT JOIN LATERAL (
  SELECT id, title, posted_at FROM jobs
  WHERE employer_id = e.id
  ORDER BY posted_at DESC, id DESC
  LIMIT 3
) AS ej ON true
ORDER BY j.posted_at DESC, j.id DESC, ej.posted_at DESC NULLS LAST, ej.id DESC
"""


def short_job(job_id: int, title: str, posted_at: datetime) -> JSONObject:
    return {"id": encode_global_id("Job", job_id), "title": title, "postedAt": timestamp(posted_at)}


async def fetch_jobs_employer_jobs(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
    jobs: dict[int, JSONObject] = {}
    for row in await db.fetch(JOBS_EMPLOYER_JOBS_SQL):
        job = jobs.get(row["id"])
        if job is None:
            employer = {
                "id": encode_global_id("Employer", row["employer_id"]),
                "name": row["employer_name"],
                "jobs": {"edges": []},
            }
            job = jobs[row["id"]] = {
                **short_job(row["id"], row["title"], row["posted_at"]),
                "employer": employer,
            }
        if row["other_id"] is not None:
            other = short_job(row["other_id"], row["other_title"], row["other_posted_at"])
            job["employer"]["jobs"]["edges"].append({"node": other})
    return {"jobs": connection(list(jobs.values()))}


# --- 8. one worker's insurance summary ----------------------------------------------------

WORKER_INSURANCE_QUERY = """
query WorkerInsurance($id: ID!) {
  worker: node(id: $id) {
    ... on Worker {
      insuranceRecords(first: 24) {
        totalCount
        nodes { period insuranceType contributionBase employerAmount personalAmount status }
      }
    }
  }
}
"""

PG_WORKER_INSURANCE = f"""
query WorkerInsurance($id: BigInt!) {{
  worker: workerByRowId(rowId: $id) {{
    insuranceRecords: insuranceRecordsByWorkerId(first: 24, orderBy: {LATEST_PERIOD}) {{
      totalCount
      nodes {{ period insuranceType contributionBase employerAmount personalAmount status }}
    }}
  }}
}}
"""

# The count beside the page, as in JOBS_FILTERED_SQL: both read the worker's rows through
# the unique key's index (worker_id leads it), in every partition.
WORKER_INSURANCE_SQL = """
SELECT (SELECT count(*) FROM insurance_records WHERE worker_id = $1) AS total_count, page.*
FROM (
  SELECT id, period, insurance_type, contribution_base, employer_amount, personal_amount, status
  FROM insurance_records
  WHERE worker_id = $1
  ORDER BY period DESC, id DESC
  LIMIT 24
) AS page
ORDER BY page.period DESC, page.id DESC
"""


def insured_worker_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    if server in LABORHUBS:
        return {"id": encode_global_id("Worker", subject.insured_worker)}
    return {"id": str(subject.insured_worker)}  # PostGraphile's BigInt is a string


def insurance_node(row: asyncpg.Record) -> JSONObject:
    return {
        "period": row["period"].strftime("%Y-%m"),
        "insuranceType": enum_name(InsuranceType, row["insurance_type"]),
        "contributionBase": decimal(row["contribution_base"]),
        "employerAmount": decimal(row["employer_amount"]),
        "personalAmount": decimal(row["personal_amount"]),
        "status": enum_name(ContributionStatus, row["status"]),
    }


async def fetch_worker_insurance(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
    rows = await db.fetch(WORKER_INSURANCE_SQL, subject.insured_worker)
    total = rows[0]["total_count"] if rows else 0
    records = {"totalCount": total, "nodes": [insurance_node(row) for row in rows]}
    return {"worker": {"insuranceRecords": records}}


# --- 9. a province's yearly statistic -----------------------------------------------------

PROVINCE_YEAR_QUERY = """
query ProvinceYear($province: String!, $from: String!, $to: String!) {
  insuranceRecords(filter: {regionCode: $province, from: $from, to: $to}, first: 1) {
    totalCount
  }
}
"""

# Everything under the province (its code prefix as a range: region_code compares
# byte-wise) in the year's months. Stock PostGraphile has equality conditions only, so it
# cannot ask this in one request.
PROVINCE_YEAR_SQL = """
SELECT count(*) AS total_count
FROM insurance_records
WHERE region_code >= $1 AND region_code < $2 AND period >= $3 AND period <= $4
"""


def province_year_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    year = subject.insurance_year
    return {"province": subject.province, "from": f"{year:04d}-01", "to": f"{year:04d}-12"}


async def fetch_province_year(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
    prefix = division_prefix(subject.province)
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    year = subject.insurance_year
    rows = await db.fetch(PROVINCE_YEAR_SQL, prefix, upper, date(year, 1, 1), date(year, 12, 1))
    return {"insuranceRecords": {"totalCount": rows[0]["total_count"]}}


# --- 10. a worker's own applications, as each of thousands of workers ----------------------

OWN_APPLICATIONS_QUERY = """
query MyApplications {
  workers(first: 1) {
    nodes {
      name
      applications(first: 5) { totalCount nodes { status job { title } } }
    }
  }
}
"""

# As the worker: `workers` holds the worker themself, and their newest applications.
OWN_APPLICATIONS_SQL = """
SELECT w.name, (SELECT count(*) FROM applications WHERE worker_id = w.id) AS total_count,
       a.status, a.title
FROM workers AS w
LEFT JOIN LATERAL (
  SELECT a.status, j.title, a.submitted_at, a.id
  FROM applications AS a JOIN jobs AS j ON j.id = a.job_id
  WHERE a.worker_id = w.id
  ORDER BY a.submitted_at DESC, a.id DESC
  LIMIT 5
) AS a ON true
WHERE w.id = $1
ORDER BY a.submitted_at DESC, a.id DESC
"""


def applicants(subject: Subject) -> int:
    """A variant for each of `subject.applicants`: more workers than a process keeps plans
    of, so a plan kept per worker would be compiled again for every request."""
    return len(subject.applicants)


def applicant(subject: Subject, variant: int) -> int:
    return subject.applicants[variant]


async def fetch_own_applications(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
    rows = await db.fetch(OWN_APPLICATIONS_SQL, applicant(subject, variant))
    applications = [
        {"status": enum_name(ApplicationStatus, row["status"]), "job": {"title": row["title"]}}
        for row in rows if row["status"] is not None
    ]
    worker = {
        "name": rows[0]["name"],
        "applications": {"totalCount": rows[0]["total_count"], "nodes": applications},
    }
    return {"workers": {"nodes": [worker]}}


def worker_asking(subject: Subject, variant: int) -> Claims:
    worker = applicant(subject, variant)
    return {"role": "worker", "subject": f"bench-worker-{worker}", "worker_id": str(worker)}


COUNTY_WORKERS_QUERY = """
query CountyWorkers {
  workers(first: 5) { totalCount nodes { name } }
}
"""

# As staff of a county: the workers who live in it or come from it, newest first.
COUNTY_WORKERS_SQL = """
SELECT
  (SELECT count(*) FROM workers
   WHERE current_region_code >= $1 AND current_region_code < $2
      OR hukou_region_code >= $1 AND hukou_region_code < $2) AS total_count,
  ARRAY(SELECT name FROM workers
        WHERE current_region_code >= $1 AND current_region_code < $2
           OR hukou_region_code >= $1 AND hukou_region_code < $2
        ORDER BY created_at DESC, id DESC LIMIT 5) AS names
"""


def counties(subject: Subject) -> int:
    """A variant for each of `subject.counties`: more divisions than a process keeps plans
    of, so a plan kept per division would be compiled again for every request."""
    return len(subject.counties)


def county_staff_asking(subject: Subject, variant: int) -> Claims:
    county = subject.counties[variant]
    return {"role": "staff", "subject": f"bench-staff-{county}", "region": county}


async def fetch_county_workers(
    db: CountingConnection, subject: Subject, variant: int = 0
) -> JSONObject:
    county = subject.counties[variant]
    after = county[:-1] + chr(ord(county[-1]) + 1)
    [row] = await db.fetch(COUNTY_WORKERS_SQL, county, after)
    return {
        "workers": {
            "totalCount": row["total_count"],
            "nodes": [{"name": name} for name in row["names"]],
        }
    }


# --- 11. a job search: a keyword in a county, as a visitor ---------------------------------

SEARCH_KEYWORDS = (
    "服务", "普工", "电工", "焊工", "保姆", "司机", "保安", "保洁", "快递", "包吃", "急招", "学徒",
)
"""Two-character keywords a migrant worker types (some match no title: 普工, 保姆)."""

SEARCH_QUERY = """
query Search($keyword: String!, $county: String!) {
  jobs(first: 20, filter: {keyword: $keyword, regionCode: $county}) {
    totalCount
    nodes { id title salaryMin salaryMax salaryUnit employer { name } }
  }
}
"""


def pg_search(subject: Subject) -> str:
    """The public view (published, valid at `$now`, not hidden by reports) of the county, and
    the keyword as laborhub matches it: in `searchText` (lowercased) when the database has the
    column, else in the title, case-insensitively (laborhub's ILIKE)."""
    match = (
        "searchText: {includes: $keyword}"
        if subject.search_text
        else "title: {includesInsensitive: $keyword}"
    )
    return f"""
query Search($keyword: String!, $county: String!, $now: Datetime!) {{
  jobs: allJobs(first: 20, orderBy: {NEWEST}, filter: {{
    regionCode: {{equalTo: $county}}
    status: {{equalTo: "published"}}
    openReports: {{lessThan: 3}}
    or: [{{validThrough: {{isNull: true}}}}, {{validThrough: {{greaterThan: $now}}}}]
    {match}
  }}) {{
    totalCount
    nodes {{
      id: rowId title salaryMin salaryMax salaryUnit
      employer: employerByEmployerId {{ name }}
    }}
  }}
}}
"""


def search_sql(subject: Subject) -> str:
    """One statement: the count beside the page (as JOBS_FILTERED_SQL), the page's employers
    joined after its LIMIT. `$2` is `keyword_pattern`'s: ILIKE on the title, or LIKE on the
    lowercased `search_text` (narrowed first by its bigrams, `$3`, when they are indexed)."""
    if subject.search_text:
        match = "search_text LIKE $2"
        if subject.search_grams:
            match = "search_grams @> $3::text[] AND " + match
    else:
        match = "title ILIKE $2"
    where = f"region_code = $1 AND {PUBLIC_JOBS} AND {match}"
    return f"""
SELECT (SELECT count(*) FROM jobs WHERE {where}) AS total_count,
       page.id, page.title, page.salary_min, page.salary_max, page.salary_unit,
       e.name AS employer_name
FROM (
  SELECT id, title, salary_min, salary_max, salary_unit, employer_id, posted_at
  FROM jobs
  WHERE {where}
  ORDER BY posted_at DESC, id DESC
  LIMIT 20
) AS page
JOIN employers AS e ON e.id = page.employer_id
ORDER BY page.posted_at DESC, page.id DESC
"""


def search_variants(subject: Subject) -> int:
    """Every keyword in every county of `subject.search_counties`: consecutive requests change
    the keyword, and the county every len(SEARCH_KEYWORDS) requests."""
    return len(SEARCH_KEYWORDS) * len(subject.search_counties)


def search_checks(subject: Subject) -> tuple[int, ...]:
    """Each keyword once, each in another county (12 of the 25), for the sanity check: every
    server must find the same jobs (and count) for each."""
    counties = len(subject.search_counties)
    keywords = len(SEARCH_KEYWORDS)
    return tuple(k + keywords * ((k * 7) % counties) for k in range(keywords)) if counties else ()


def search_terms(subject: Subject, variant: int) -> tuple[str, str]:
    """The keyword and the county of `variant`."""
    county = subject.search_counties[variant // len(SEARCH_KEYWORDS)]
    return SEARCH_KEYWORDS[variant % len(SEARCH_KEYWORDS)], county


def search_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    keyword, county = search_terms(subject, variant)
    if server in LABORHUBS:
        return {"keyword": keyword, "county": county}
    # The page is built once, before the clock: a job expiring during a run still shows on the
    # peers (they filter at the time the request was built), as it would not on laborhub.
    now = datetime.now(UTC).isoformat()
    return {"keyword": keyword.lower() if subject.search_text else keyword, "county": county,
            "now": now}


def bigrams(text: str) -> list[str]:
    """The overlapping two-character pieces of `text` (itself when shorter)."""
    return [text[i : i + 2] for i in range(len(text) - 1)] or [text]


async def fetch_search(db: CountingConnection, subject: Subject, variant: int = 0) -> JSONObject:
    keyword, county = search_terms(subject, variant)
    if subject.search_text:
        keyword = keyword.strip().lower()
    args: list[object] = [county, keyword_pattern(keyword, "keyword")]
    if subject.search_text and subject.search_grams:
        args.append(bigrams(keyword))
    rows = await db.fetch(search_sql(subject), *args)
    nodes = [
        {
            "id": encode_global_id("Job", row["id"]),
            "title": row["title"],
            "salaryMin": decimal(row["salary_min"]),
            "salaryMax": decimal(row["salary_max"]),
            "salaryUnit": enum_name(SalaryUnit, row["salary_unit"]),
            "employer": {"name": row["employer_name"]},
        }
        for row in rows
    ]
    return {"jobs": {"totalCount": rows[0]["total_count"] if rows else 0, "nodes": nodes}}


# --- 12. workers applying to jobs, each a new application ----------------------------------

APPLY_MUTATION = """
mutation Apply($input: ApplyToJobInput!) {
  applyToJob(input: $input) {
    application { status job { id } worker { id } }
    userErrors { code field message }
  }
}
"""

# The same checks as applyToJob (the worker exists; the job is published, valid, not hidden by
# reports, not full, kept so until the commit; one application per worker and job) in one
# INSERT; none of its audit event or idempotency key.
APPLY_SQL = """
INSERT INTO applications (worker_id, job_id, status)
SELECT w.id, j.id, 'submitted'
FROM workers AS w, jobs AS j
WHERE w.id = $1 AND j.id = $2
  AND j.status = 'published' AND (j.valid_through IS NULL OR j.valid_through > now())
  AND j.open_reports < 3 AND j.openings_filled < j.headcount
FOR SHARE OF j
ON CONFLICT (worker_id, job_id) DO NOTHING
RETURNING status, job_id, worker_id
"""

APPLY_KEY_PREFIX = "bench-apply-"
"""The idempotency keys (and token subjects) of `apply`: how a later run finds what an
interrupted one left."""


def apply_pairs(subject: Subject) -> int:
    """A variant for each pair of `subject.apply_pairs`: every request a new application."""
    return len(subject.apply_pairs)


def apply_variables(subject: Subject, server: str, variant: int = 0) -> dict[str, object]:
    worker, job = subject.apply_pairs[variant]
    return {
        "input": {
            "workerId": encode_global_id("Worker", worker),
            "jobId": encode_global_id("Job", job),
            "idempotencyKey": f"{APPLY_KEY_PREFIX}{worker}-{job}",
        }
    }


def applying_worker(subject: Subject, variant: int) -> Claims:
    worker = subject.apply_pairs[variant][0]
    return {"role": "worker", "subject": f"{APPLY_KEY_PREFIX}{worker}", "worker_id": str(worker)}


async def fetch_apply(db: CountingConnection, subject: Subject, variant: int = 0) -> JSONObject:
    worker, job = subject.apply_pairs[variant]
    rows = await db.fetch(APPLY_SQL, worker, job)
    if not rows:
        raise RuntimeError(f"worker {worker} could not apply to job {job}")
    application = {
        "status": enum_name(ApplicationStatus, rows[0]["status"]),
        "job": {"id": encode_global_id("Job", job)},
        "worker": {"id": encode_global_id("Worker", worker)},
    }
    return {"applyToJob": {"application": application, "userErrors": []}}


# The applications of this run's pairs (whoever made them) and those laborhub made under
# `apply`'s idempotency keys (in any run), with the keys.
REMOVE_APPLICATIONS_SQL = f"""
WITH keys AS (
  DELETE FROM idempotency_keys
  WHERE operation = 'applyToJob' AND key LIKE '{APPLY_KEY_PREFIX}%'
  RETURNING result_id
)
DELETE FROM applications
WHERE id IN (SELECT result_id FROM keys)
   OR (worker_id, job_id) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))
"""

# The audit trail is append-only (a trigger refuses deletes); a superuser (the bench connects
# as the database owner, on the local server `postgres`) can skip the trigger for this delete.
REMOVE_AUDIT_SQL = f"""
DELETE FROM audit_events
WHERE operation = 'applyToJob' AND actor LIKE 'worker:{APPLY_KEY_PREFIX}%'
"""


async def remove_applications(pool: asyncpg.Pool, subject: Subject) -> int:
    """Undo `apply`: its applications, idempotency keys and, when allowed, audit events."""
    workers = [worker for worker, _ in subject.apply_pairs]
    jobs = [job for _, job in subject.apply_pairs]
    async with pool.acquire() as connection, connection.transaction():
        status = await connection.execute(REMOVE_APPLICATIONS_SQL, workers, jobs)
        removed = int(status.split()[-1])
        try:
            async with connection.transaction():  # a savepoint: refused, the rest stays
                await connection.execute("SET LOCAL session_replication_role = replica")
                await connection.execute(REMOVE_AUDIT_SQL)
        except asyncpg.InsufficientPrivilegeError:
            pass
    return removed


WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "job_by_id",
        "one job by id, 7 fields",
        JOB_BY_ID_QUERY,
        PG_JOB_BY_ID,
        fetch_job_by_id,
        job_id_variables,
    ),
    Workload(
        "jobs_flat",
        "50 newest jobs, 7 fields",
        JOBS_FLAT_QUERY,
        PG_JOBS_FLAT,
        fetch_jobs(JOBS_FLAT_SQL, flat_job),
    ),
    Workload(
        "jobs_employer_region",
        "50 newest jobs, each with its employer and region",
        JOBS_NESTED_QUERY,
        PG_JOBS_NESTED,
        fetch_jobs(JOBS_NESTED_SQL, nested_job),
    ),
    Workload(
        "employer_tree",
        "20 employers > 5 jobs each > 5 applications each > the applicant's name",
        EMPLOYER_TREE_QUERY,
        PG_EMPLOYER_TREE,
        fetch_employer_tree,
    ),
    Workload(
        "jobs_county_count",
        "totalCount + 20 newest published jobs of one county",
        JOBS_FILTERED_QUERY,
        PG_JOBS_FILTERED,
        fetch_jobs_filtered,
        county_variables,
    ),
    Workload(
        "jobs_employer_jobs",
        "100 newest jobs, each with its employer and the employer's 3 newest jobs",
        JOBS_EMPLOYER_JOBS_QUERY,
        PG_JOBS_EMPLOYER_JOBS,
        fetch_jobs_employer_jobs,
    ),
    Workload(
        "worker_insurance",
        "one worker's 24 latest insurance records (6 fields) and their totalCount",
        WORKER_INSURANCE_QUERY,
        PG_WORKER_INSURANCE,
        fetch_worker_insurance,
        insured_worker_variables,
    ),
    Workload(
        "insurance_province_year",
        "totalCount of one province's insurance records in one year (no PostGraphile)",
        PROVINCE_YEAR_QUERY,
        None,
        fetch_province_year,
        province_year_variables,
    ),
    Workload(
        "own_applications",
        "a worker's name and 5 newest applications, as each of 3,000 workers in turn"
        " (no PostGraphile: it has no worker role here)",
        OWN_APPLICATIONS_QUERY,
        None,
        fetch_own_applications,
        variants=applicants,
        asker=worker_asking,
    ),
    Workload(
        "county_staff_workers",
        "totalCount and 5 newest workers of a county, as its staff, for each of 3,000 counties"
        " in turn (no PostGraphile: it has no staff role here)",
        COUNTY_WORKERS_QUERY,
        None,
        fetch_county_workers,
        variants=counties,
        asker=county_staff_asking,
    ),
    Workload(
        "job_by_varying_id",
        "one job by id, 7 fields, a different job each request",
        JOB_BY_ID_QUERY,
        PG_JOB_BY_ID,
        fetch_job_by_id,
        job_id_variables,
        variants=newest_jobs,
    ),
    Workload(
        "search",
        "a visitor's job search: totalCount and 20 newest jobs (6 fields and the employer's"
        " name) of a 2-character keyword in a county, 12 keywords x 25 counties in turn",
        SEARCH_QUERY,
        pg_search,
        fetch_search,
        search_variables,
        variants=search_variants,
        asker=anonymous,
        checked=search_checks,
    ),
    Workload(
        "apply",
        "a worker applies to a job, each request a new (worker, job), with the worker's token"
        " (no PostGraphile: it has no such mutation here)",
        APPLY_MUTATION,
        None,
        fetch_apply,
        apply_variables,
        variants=apply_pairs,
        asker=applying_worker,
        reset=remove_applications,
        expect=b'"userErrors":[]',
    ),
    *RECOMMENDATION_WORKLOADS,
)

WORKLOADS_BY_NAME = {workload.name: workload for workload in WORKLOADS}
