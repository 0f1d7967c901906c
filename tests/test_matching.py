"""Matching: recommendedJobs, recommendedWorkers, trainingRecommendations and
setRecommendationPreference.

Every ranking is held, score, reasons and order, to an oracle (`tests/matching_oracle.py`)
computed in Python from what the same viewer reads through the API, on both read paths and
as viewers of several roles: a ranking that used a fact the viewer may not read (an
employer and a worker's survey) differs from it. Then: the opt-out, who may ask, bad
arguments, the audit trail, partners' agreements and the statements a ranking costs.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, rows_removed_after
from tests.matching_oracle import (
    JOB,
    TRAINING,
    Profile,
    every,
    jobs_for,
    profiles,
    trainings_for,
    workers_for,
)
from tests.partners import consented_partner_key
from tests.postings import as_worker, codes, key_of

ERRORS = "userErrors { field code message }"
JOBS_FOR = f"""query JobsFor($id: ID!, $first: Int) {{ recommendedJobs(workerId: $id, first: $first)
  {{ recommendations {{ score reasons job {{ id }} }} {ERRORS} }} }}"""
WORKERS_FOR = f"""query WorkersFor($id: ID!, $first: Int) {{
  recommendedWorkers(jobId: $id, first: $first)
  {{ recommendations {{ score reasons worker {{ id }} }} {ERRORS} }} }}"""
TRAININGS_FOR = f"""query TrainingsFor($id: ID!, $first: Int) {{
  trainingRecommendations(workerId: $id, first: $first)
  {{ recommendations {{ score reasons training {{ id }} }} {ERRORS} }} }}"""
PREFER = """mutation ($input: SetRecommendationPreferenceInput!) {
  setRecommendationPreference(input: $input) {
    worker { id recommendationOptOut recommendationPreferenceAt version }
    userErrors { field code message } } }"""
AUDIT = """query ($id: ID!, $operation: String!) {
  auditEvents(filter: {recordId: $id, operation: $operation}) { nodes { actor recordIds } } }"""
TODAY = date.today()


def listed(client_answer: Any, field: str, target: str) -> list[Any]:
    answer = client_answer[field]
    assert answer["userErrors"] == [], answer
    return [
        (r[target]["id"], float(r["score"]), r["reasons"]) for r in answer["recommendations"]
    ]


@pytest.fixture(scope="module")
async def surveyed(gql: GraphQLClient) -> list[dict[str, Any]]:
    """Seeded workers with a survey: id and home county."""
    data = await gql.ok(
        "{ workers(first: 60) { nodes { id currentRegion { code } hukouRegion { code } "
        "latestSurvey { id } } } }"
    )
    return [
        {"id": w["id"], "home": (w["currentRegion"] or w["hukouRegion"])["code"]}
        for w in data["workers"]["nodes"] if w["latestSurvey"]
    ]


@pytest.fixture(scope="module")
async def public_jobs(anonymous: GraphQLClient) -> set[str]:
    return {job["id"] for job in await every(anonymous, "jobs", "id")}


async def open_jobs(client: GraphQLClient, public: set[str]) -> list[dict[str, Any]]:
    """The jobs open to the public that `client`'s viewer sees."""
    return [job for job in await every(client, "jobs", JOB) if job["id"] in public]


def viewers(gql: GraphQLClient, settings: Settings, worker: dict[str, Any]) -> dict[str, Any]:
    return {
        "admin": gql,
        "staff": gql.as_(bearer(settings, "staff", region=worker["home"][:4] + "00")),
        "worker": as_worker(gql, settings, worker["id"]),
    }


@pytest.mark.parametrize("who", ["admin", "staff", "worker"])
async def test_jobs_for_a_worker_are_the_oracle_s_on_both_paths(
    who: str, gql: GraphQLClient, gql_resolvers: GraphQLClient, settings: Settings,
    surveyed: list[dict[str, Any]], public_jobs: set[str],
) -> None:
    made = 0
    for worker in surveyed[:6]:
        client = viewers(gql, settings, worker)[who]
        [mine] = await profiles(client, [worker["id"]])
        expected = jobs_for(mine, await open_jobs(client, public_jobs), 20)
        for path in (client, GraphQLClient(gql_resolvers.http, client.headers)):
            found = await path(JOBS_FOR, {"id": worker["id"], "first": 20})
            assert found.status == 200 and not found.errors, found.body
            assert listed(found.data, "recommendedJobs", "job") == expected
        made += len(expected)
    assert made > 10, "the seed gives these workers jobs to recommend"


@pytest.mark.parametrize("who", ["admin", "staff", "employer"])
async def test_workers_for_a_job_are_the_oracle_s_on_both_paths(
    who: str, gql: GraphQLClient, gql_resolvers: GraphQLClient, settings: Settings,
    public_jobs: set[str],
) -> None:
    jobs = [job for job in await every(gql, "jobs", JOB + " employer { id }")
            if job["id"] in public_jobs and job["occupation"]][:4]
    made = 0
    for job in jobs:
        client = {
            "admin": gql,
            "staff": gql.as_(bearer(settings, "staff", region=job["region"]["code"][:2] + "0000")),
            "employer": gql.as_(bearer(settings, "employer", employer_id=job["employer"]["id"])),
        }[who]
        seen = [w["id"] for w in await every(client, "workers", "id")]
        expected = workers_for(job, await profiles(client, seen), 15)
        for path in (client, GraphQLClient(gql_resolvers.http, client.headers)):
            found = await path(WORKERS_FOR, {"id": job["id"], "first": 15})
            assert found.status == 200 and not found.errors, found.body
            assert listed(found.data, "recommendedWorkers", "worker") == expected
        made += len(expected)
    if who != "employer":  # an employer sees only its applicants, who applied already
        assert made > 10


@pytest.fixture
async def trainings_removed(engine: AsyncEngine) -> AsyncIterator[None]:
    async with rows_removed_after(engine, "enrollments", "trainings"):
        yield


CREATE_TRAINING = """mutation ($input: CreateTrainingInput!) { createTraining(input: $input) {
  training { id } userErrors { field code message } } }"""


async def a_gap(gql: GraphQLClient, surveyed: list[dict[str, Any]]) -> tuple[Profile, str]:
    """A surveyed worker and an occupation they intend with no skill or training in it."""
    for mine in await profiles(gql, [w["id"] for w in surveyed]):
        gaps = [o for o in mine.occupations if o not in mine.skilled | mine.trained]
        if gaps:
            return mine, gaps[0]
    raise AssertionError("no seeded worker intends an occupation they lack")


async def test_trainings_that_close_a_gap_nearest_first(
    gql: GraphQLClient, gql_resolvers: GraphQLClient, surveyed: list[dict[str, Any]],
    trainings_removed: None,
) -> None:
    mine, gap = await a_gap(gql, surveyed)
    starts = str(TODAY + timedelta(days=20))
    made = {}
    for place, region, subsidised in (
        ("near", mine.home, True), ("far", "110101" if mine.home[:2] != "11" else "440306", False),
    ):
        created = (await gql.ok(CREATE_TRAINING, {"input": {
            "title": f"{place} {uuid.uuid4().hex[:6]}", "kind": "EMPLOYMENT_SKILLS",
            "mode": "OPEN", "provider": "职业技能培训中心", "occupationCode": gap,
            "regionCode": region, "startsOn": starts,
            "endsOn": str(TODAY + timedelta(days=30)), "capacity": 3, "subsidised": subsidised,
        }}))["createTraining"]
        assert created["userErrors"] == []
        made[place] = created["training"]["id"]
    trainings = await every(gql, "trainings", TRAINING)
    expected = trainings_for(mine, trainings, 50)
    for client in (gql, gql_resolvers):
        found = listed(
            await client.ok(TRAININGS_FOR, {"id": mine.id, "first": 50}),
            "trainingRecommendations", "training",
        )
        assert found == expected
    ranked = [training for training, _, _ in expected]
    assert ranked.index(made["near"]) < ranked.index(made["far"])
    near = next(reasons for training, _, reasons in expected if training == made["near"])
    assert near[1:] == ["同一区县", "补贴培训"] and near[0].endswith("尚无该工种技能或培训")


async def test_a_worker_who_opts_out_is_ranked_nowhere_and_told_why(
    gql: GraphQLClient, gql_resolvers: GraphQLClient, settings: Settings,
    public_jobs: set[str], engine: AsyncEngine,
) -> None:
    job = next(j for j in await every(gql, "jobs", JOB) if j["id"] in public_jobs
               and j["occupation"])
    ranked = listed(await gql.ok(WORKERS_FOR, {"id": job["id"], "first": 50}),
                    "recommendedWorkers", "worker")
    assert ranked, "someone fits the job"
    worker = ranked[0][0]
    me = as_worker(gql, settings, worker)
    try:
        refused = (await me.ok(PREFER, {"input": {"workerId": worker, "optOut": True}}))
        payload = refused["setRecommendationPreference"]
        assert payload["userErrors"] == []
        assert payload["worker"]["recommendationOptOut"] is True
        assert payload["worker"]["recommendationPreferenceAt"] is not None
        for client in (gql, gql_resolvers):
            again = listed(await client.ok(WORKERS_FOR, {"id": job["id"], "first": 50}),
                           "recommendedWorkers", "worker")
            assert worker not in [w for w, _, _ in again]
            assert [w for w, _, _ in again] == [w for w, _, _ in ranked if w != worker][:50]
            for query, field in ((JOBS_FOR, "recommendedJobs"),
                                 (TRAININGS_FOR, "trainingRecommendations")):
                answer = (await client.ok(query, {"id": worker}))[field]
                assert answer["recommendations"] == []
                assert codes(answer) == [(("workerId",), "OPTED_OUT")]
                assert "拒绝" in answer["userErrors"][0]["message"]
        home = (await gql.ok(
            "query ($id: ID!) { node(id: $id) { ... on Worker { hukouRegion { code } } } }",
            {"id": worker},
        ))["node"]["hukouRegion"]["code"]
        caseworker = gql.as_(bearer(settings, "staff", region=home[:4] + "00"))
        shown = await caseworker.ok(
            "query ($id: ID!) { node(id: $id) { ... on Worker { recommendationOptOut } } }",
            {"id": worker},
        )
        assert shown["node"] == {"recommendationOptOut": True}
    finally:
        allowed = await me.ok(PREFER, {"input": {"workerId": worker, "optOut": False}})
        assert allowed["setRecommendationPreference"]["worker"]["recommendationOptOut"] is False
    back = listed(await gql.ok(WORKERS_FOR, {"id": job["id"], "first": 50}),
                  "recommendedWorkers", "worker")
    assert back == ranked


async def test_who_may_set_a_preference(
    gql: GraphQLClient, settings: Settings, surveyed: list[dict[str, Any]]
) -> None:
    mine, other = surveyed[0]["id"], surveyed[1]["id"]
    cases = [
        (as_worker(gql, settings, mine), other, [(("input", "workerId"), "NOT_ALLOWED")]),
        (gql.as_(bearer(settings, "employer", employer_id="RW1wbG95ZXI6MQ==")), mine,
         [((), "NOT_ALLOWED")]),
        (gql, "V29ya2VyOjk5OTk5OTk5", [(("input", "workerId"), "NOT_FOUND")]),
        (gql, "Sm9iOjE=", [(("input", "workerId"), "INVALID")]),
    ]
    for client, worker, expected in cases:
        answer = await client.ok(PREFER, {"input": {"workerId": worker, "optOut": True}})
        assert codes(answer["setRecommendationPreference"]) == expected


@pytest.mark.parametrize("path", ["compiled", "resolvers"])
async def test_who_may_ask_and_what_bad_arguments_get(
    path: str, gql: GraphQLClient, gql_resolvers: GraphQLClient, settings: Settings,
    surveyed: list[dict[str, Any]],
) -> None:
    http = gql.http if path == "compiled" else gql_resolvers.http
    worker, other = surveyed[0]["id"], surveyed[1]["id"]
    anonymous = GraphQLClient(http)
    employer = GraphQLClient(http, bearer(settings, "employer", employer_id="RW1wbG95ZXI6MQ=="))
    me = GraphQLClient(http, as_worker(gql, settings, worker).headers)
    admin = GraphQLClient(http, gql.headers)
    cases: list[tuple[GraphQLClient, str, str, str, list[Any]]] = [
        (anonymous, JOBS_FOR, "recommendedJobs", worker, [((), "NOT_ALLOWED")]),
        (employer, JOBS_FOR, "recommendedJobs", worker, [((), "NOT_ALLOWED")]),
        (anonymous, WORKERS_FOR, "recommendedWorkers", "Sm9iOjE=", [((), "NOT_ALLOWED")]),
        (me, JOBS_FOR, "recommendedJobs", other, [(("workerId",), "NOT_FOUND")]),
        (me, TRAININGS_FOR, "trainingRecommendations", other, [(("workerId",), "NOT_FOUND")]),
        (admin, JOBS_FOR, "recommendedJobs", "Sm9iOjE=", [(("workerId",), "INVALID")]),
        (admin, JOBS_FOR, "recommendedJobs", "not an id", [(("workerId",), "INVALID")]),
        (admin, WORKERS_FOR, "recommendedWorkers", "Sm9iOjk5OTk5OTk5",
         [(("jobId",), "NOT_FOUND")]),
    ]
    for client, query, field, subject, expected in cases:
        answer = await client(query, {"id": subject})
        assert answer.status == 200 and not answer.errors, answer.body
        assert answer.data[field]["recommendations"] == []
        assert codes(answer.data[field]) == expected, (query, subject)
    for first in (0, 51, -1):
        answer = await admin(JOBS_FOR, {"id": worker, "first": first})
        assert answer.data is None or answer.data.get("recommendedJobs") is None
        [error] = answer.errors
        assert "first" in error["message"] and "between 1 and 50" in error["message"]


async def audit_of(gql: GraphQLClient, record: str, operation: str) -> list[Any]:
    found = await gql.ok(AUDIT, {"id": record, "operation": operation})
    return list(found["auditEvents"]["nodes"])


@pytest.mark.parametrize("path", ["compiled", "resolvers"])
async def test_each_list_read_by_staff_is_audited_but_a_worker_s_own_is_not(
    path: str, gql: GraphQLClient, gql_resolvers: GraphQLClient, settings: Settings,
    surveyed: list[dict[str, Any]], public_jobs: set[str],
) -> None:
    http = gql.http if path == "compiled" else gql_resolvers.http
    worker = surveyed[2]
    subject = f"caseworker-{uuid.uuid4().hex[:8]}"
    staff = GraphQLClient(
        http, bearer(settings, "staff", subject, region=worker["home"][:2] + "0000")
    )
    await staff.ok(JOBS_FOR.replace("JobsFor", "StaffJobs"), {"id": worker["id"]})
    events = await audit_of(gql, worker["id"], "rankingRead:StaffJobs")
    assert [e for e in events if e["actor"] == f"staff:{subject}"] != [], events
    me = GraphQLClient(http, as_worker(gql, settings, worker["id"]).headers)
    await me.ok(JOBS_FOR.replace("JobsFor", "MyJobs"), {"id": worker["id"]})
    assert await audit_of(gql, worker["id"], "rankingRead:MyJobs") == []
    job = next(iter(sorted(public_jobs)))
    ranked = listed(
        await staff.ok(WORKERS_FOR.replace("WorkersFor", "StaffWorkers"), {"id": job}),
        "recommendedWorkers", "worker",
    )
    for ranked_worker, _, _ in ranked[:3]:
        events = await audit_of(gql, ranked_worker, "rankingRead:StaffWorkers")
        assert [e for e in events if e["actor"] == f"staff:{subject}"] != []


async def test_a_partner_needs_every_type_and_field_a_ranking_reads(
    gql: GraphQLClient, settings: Settings, database_url: str,
    surveyed: list[dict[str, Any]],
) -> None:
    worker = surveyed[0]
    province = worker["home"][:2] + "0000"
    reads = ["Worker", "SkillSurvey", "JobIntention", "WorkerSkill", "Enrollment"]
    async with consented_partner_key(
        settings, database_url, partner="matcher", scopes=["recommendedJobs"],
        regions=[province], types=["Job", *reads[:-1]],
    ) as short:
        refused = await gql.as_({"x-api-key": short})(JOBS_FOR, {"id": worker["id"]})
        [error] = refused.errors
        assert "'Enrollment', which recommendedJobs reads" in error["message"]
    async with consented_partner_key(
        settings, database_url, partner="matcher", scopes=["recommendedJobs"],
        regions=[province], types=["Job", *reads],
        fields=["Job.id", "Worker.*", "SkillSurvey.*", "JobIntention.*", "WorkerSkill.*",
                "Enrollment.status"],
    ) as listing:
        refused = await gql.as_({"x-api-key": listing})(JOBS_FOR, {"id": worker["id"]})
        [error] = refused.errors
        assert "'Enrollment.training', which recommendedJobs reads" in error["message"]
    async with consented_partner_key(
        settings, database_url, partner="matcher", scopes=["recommendedJobs"],
        regions=[province], types=["Job", *reads],
    ) as key:
        partner = gql.as_({"x-api-key": key})
        operation = JOBS_FOR.replace("JobsFor", "PartnerJobs")
        answer = await partner.ok(operation, {"id": worker["id"]})
        assert answer["recommendedJobs"]["userErrors"] == []
        [event] = await audit_of(gql, worker["id"], "partnerRead:PartnerJobs")
        assert worker["id"] in event["recordIds"]


async def test_a_ranking_is_one_statement_compiled_and_a_few_on_the_resolver_path(
    gql: GraphQLClient, gql_resolvers: GraphQLClient, settings: Settings,
    surveyed: list[dict[str, Any]], public_jobs: set[str],
) -> None:
    worker = surveyed[0]
    me = as_worker(gql, settings, worker["id"])
    job = next(iter(sorted(public_jobs)))
    for first in (2, 40):
        compiled = await me(JOBS_FOR, {"id": worker["id"], "first": first})
        assert compiled.headers["x-read-path"] == "compiled" and compiled.statements == 1
        staff = await gql(WORKERS_FOR, {"id": job, "first": first})
        assert staff.headers["x-read-path"] == "compiled"
        assert staff.statements == 2, "the ranking and its audit event"
        resolved = await GraphQLClient(gql_resolvers.http, me.headers)(
            JOBS_FOR, {"id": worker["id"], "first": first}
        )
        assert resolved.statements == 4, (
            "the worker; the ranking, planned for its values (SET LOCAL first); the jobs"
        )
        assert key_of(worker["id"]) > 0


async def test_an_employer_s_ranking_never_uses_a_survey_it_may_not_read(
    gql: GraphQLClient, settings: Settings, engine: AsyncEngine
) -> None:
    """An applicant of the employer whose fit to an occupation is in their survey alone
    (employers never read surveys) is ranked for a job of it for staff, not for the
    employer, whose ranking is the oracle's over what the employer reads."""
    data = await gql.ok(
        "{ employers(first: 20) { nodes { id region { code } jobs(first: 10) { nodes { "
        "applications(first: 10) { nodes { worker { id } } } } } } } }"
    )
    for employer in data["employers"]["nodes"]:
        applicants = sorted({
            a["worker"]["id"] for job in employer["jobs"]["nodes"]
            for a in job["applications"]["nodes"]
        })
        as_employer = gql.as_(bearer(settings, "employer", employer_id=employer["id"]))
        seen_by_employer = {p.id: p for p in await profiles(as_employer, applicants)}
        for full in await profiles(gql, applicants):
            survey_only = set(full.occupations) - related_of(seen_by_employer[full.id])
            if survey_only:
                break
        else:
            continue
        break
    else:
        raise AssertionError("no applicant's occupation is in their survey alone")
    occupation = sorted(survey_only)[0]
    created = await gql.ok(CREATE_JOB, {"input": {
        "employerId": employer["id"], "title": f"焊工 {uuid.uuid4().hex[:8]}",
        "regionCode": employer["region"]["code"], "occupationCode": occupation,
        "salaryMin": "6000", "salaryMax": "8000", "salaryUnit": "MONTH", "headcount": 2,
        "employmentType": "FULL_TIME", "status": "PUBLISHED",
    }})
    job_id = created["createJob"]["job"]["id"]
    try:
        staff = gql.as_(bearer(settings, "staff", region=employer["region"]["code"][:2] + "0000"))
        for_staff = listed(await gql.ok(WORKERS_FOR, {"id": job_id, "first": 50}),
                           "recommendedWorkers", "worker")
        for_staff_too = listed(await staff.ok(WORKERS_FOR, {"id": job_id, "first": 50}),
                               "recommendedWorkers", "worker")
        assert full.id in [w for w, _, _ in for_staff]
        assert full.id in [w for w, _, _ in for_staff_too] or not for_staff_too
        for_employer = listed(await as_employer.ok(WORKERS_FOR, {"id": job_id, "first": 50}),
                              "recommendedWorkers", "worker")
        assert full.id not in [w for w, _, _ in for_employer]
        [job] = [j for j in await every(as_employer, "jobs", JOB) if j["id"] == job_id]
        expected = workers_for(job, list(seen_by_employer.values()), 50)
        assert for_employer == expected
    finally:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM jobs WHERE id = :id"),
                                     {"id": key_of(job_id)})


def related_of(profile: Profile) -> set[str]:
    return set(profile.occupations) | profile.skilled | profile.trained


CREATE_JOB = """mutation ($input: CreateJobInput!) { createJob(input: $input) {
  job { id } userErrors { field code message } } }"""


async def test_a_document_holds_a_few_rankings_at_most(
    gql: GraphQLClient, surveyed: list[dict[str, Any]]
) -> None:
    """Each ranking scores thousands of candidates whatever it returns: it costs
    RANKING_COST, so aliases can't multiply the work past the cost limit."""
    def aliased(count: int) -> str:
        return "query ($id: ID!) { " + " ".join(
            f"r{n}: recommendedJobs(workerId: $id, first: 1) {{ userErrors {{ code }} }}"
            for n in range(count)
        ) + " }"

    assert (await gql(aliased(3), {"id": surveyed[0]["id"]})).status == 200
    refused = await gql(aliased(11), {"id": surveyed[0]["id"]})
    assert refused.status == 400
    assert refused.errors[0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
