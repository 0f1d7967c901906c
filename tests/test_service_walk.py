"""A worker's way through the services, over HTTP and a real WebSocket, as the people at each
step would ask: a caseworker surveys the worker, a training is recommended and they enrol,
complete it, a job is recommended with the training among its reasons, the worker applies,
and the employer's subscription hears of the application. Everything the walk makes is
removed after it (audit events stay: they are append-only)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from server.app import create_app
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, rows_removed_after
from tests.live_server import uvicorn_in_thread
from tests.matching_oracle import profiles
from tests.postings import as_worker, key_of, seeded_employers

TODAY = date.today()
ERRORS = "userErrors { field code message }"


@pytest.fixture
def live_url(settings: Settings, database_url: str) -> Iterator[str]:
    """The app served by uvicorn on a free port (lifespan on: its event listener runs)."""
    with uvicorn_in_thread(create_app(settings, database_url)) as url:
        yield url


@pytest.fixture
async def walk_removed(engine: AsyncEngine) -> AsyncIterator[None]:
    """What the walk makes goes after it: applications, jobs, enrolments, trainings and
    surveys newer than the walk."""
    async with rows_removed_after(
        engine, "applications", "jobs", "enrollments", "trainings", "skill_surveys"
    ):
        yield


async def step(client: GraphQLClient, operation: str, field: str, **values: Any) -> Any:
    """A mutation's payload, which must hold no user errors."""
    data = await client.ok(operation, {"input": values})
    payload = data[field]
    assert payload["userErrors"] == [], payload
    return payload


async def test_survey_training_job_application_and_the_employer_hears_of_it(
    live_url: str, gql: GraphQLClient, settings: Settings, walk_removed: None
) -> None:
    # A worker, and an occupation with skills in the vocabulary they have none of.
    worker = (await gql.ok("{ workers(first: 1) { nodes { id } } }"))["workers"]["nodes"][0]["id"]
    [mine] = await profiles(gql, [worker])
    skills = (await gql.ok("{ skills { code occupation { code name } } }"))["skills"]
    occupation = next(
        s["occupation"] for s in skills
        if s["occupation"] and s["occupation"]["code"] not in mine.skilled | mine.trained
    )
    county = mine.home
    caseworker = gql.as_(bearer(settings, "staff", "walk-caseworker", region=county[:2] + "0000"))
    me = as_worker(gql, settings, worker)

    # 1. The caseworker surveys the worker: they want that occupation, near home.
    await step(caseworker, f"""mutation ($input: RecordSkillSurveyInput!) {{
        recordSkillSurvey(input: $input) {{ skillSurvey {{ id }} {ERRORS} }} }}""",
        "recordSkillSurvey", workerId=worker, intendedOccupationCodes=[occupation["code"]],
        intendedRegionCodes=[county], expectedSalary="6000", willingToRelocate=False)

    # 2. A training in it opens nearby, and is recommended to the worker first.
    training = (await step(gql, f"""mutation ($input: CreateTrainingInput!) {{
        createTraining(input: $input) {{ training {{ id }} {ERRORS} }} }}""",
        "createTraining", title=f"{occupation['name']}培训班 {uuid.uuid4().hex[:6]}",
        kind="EMPLOYMENT_SKILLS", mode="OPEN", provider="县职业技能培训中心",
        occupationCode=occupation["code"], regionCode=county,
        startsOn=str(TODAY + timedelta(days=7)), endsOn=str(TODAY + timedelta(days=21)),
        capacity=20, subsidised=True))["training"]
    recommended = (await me.ok("""query ($id: ID!) { trainingRecommendations(workerId: $id) {
        recommendations { training { id } reasons } userErrors { code } } }""",
        {"id": worker}))["trainingRecommendations"]
    first = recommended["recommendations"][0]
    assert first["training"]["id"] == training["id"]
    assert first["reasons"] == [
        f"意向工种 {occupation['name']}，尚无该工种技能或培训", "同一区县", "补贴培训"
    ]

    # 3. The worker enrols; the caseworker records the completion.
    enrollment = (await step(me, f"""mutation ($input: EnrollInTrainingInput!) {{
        enrollInTraining(input: $input) {{ enrollment {{ id version }} {ERRORS} }} }}""",
        "enrollInTraining", workerId=worker, trainingId=training["id"]))["enrollment"]
    await step(caseworker, f"""mutation ($input: RecordTrainingCompletionInput!) {{
        recordTrainingCompletion(input: $input) {{ enrollment {{ id }} {ERRORS} }} }}""",
        "recordTrainingCompletion", enrollmentId=enrollment["id"],
        version=enrollment["version"], certificateNumber=f"WALK-{uuid.uuid4().hex[:12]}")

    # 4. An employer posts a job in that occupation, in the worker's county.
    employer = (await seeded_employers(gql))[0]
    job = (await step(gql, f"""mutation ($input: CreateJobInput!) {{
        createJob(input: $input) {{ job {{ id }} {ERRORS} }} }}""", "createJob",
        employerId=employer.id, title=f"{occupation['name']} {uuid.uuid4().hex[:6]}",
        regionCode=county, occupationCode=occupation["code"], salaryMin="6500",
        salaryMax="9000", salaryUnit="MONTH", headcount=3, employmentType="FULL_TIME",
        status="PUBLISHED"))["job"]

    # 5. The job is recommended to the worker, the training among its reasons.
    jobs = (await me.ok("""query ($id: ID!) { recommendedJobs(workerId: $id, first: 50) {
        recommendations { job { id } score reasons } userErrors { code } } }""",
        {"id": worker}))["recommendedJobs"]["recommendations"]
    [found] = [r for r in jobs if r["job"]["id"] == job["id"]]
    assert found["reasons"] == [
        f"意向工种 {occupation['name']}", f"已完成 {occupation['name']} 培训", "同一区县",
        "期望月薪 6000，岗位 6500–9000",
    ]
    assert found["score"] == 30 + 15 + 25 + 15 and jobs[0]["job"]["id"] == job["id"]

    # 6. The employer subscribes; the worker applies; the employer hears of it.
    socket_url = live_url.replace("http://", "ws://") + "/graphql"
    token = bearer(settings, "employer", "walk-employer", employer_id=employer.id)
    async with connect(socket_url, subprotocols=[Subprotocol("graphql-transport-ws")]) as socket:
        await socket.send(json.dumps({
            "type": "connection_init", "payload": {"Authorization": token["authorization"]},
        }))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "walk", "type": "subscribe", "payload": {
            "query": "subscription ($job: ID) { applicationSubmitted(jobId: $job) { "
                     "id status worker { id } job { id } } }",
            "variables": {"job": job["id"]},
        }}))
        await asyncio.sleep(1.0)  # the subscription reaches the listener
        applied = (await step(me, f"""mutation ($input: ApplyToJobInput!) {{
            applyToJob(input: $input) {{ application {{ id }} {ERRORS} }} }}""",
            "applyToJob", workerId=worker, jobId=job["id"]))["application"]
        heard = json.loads(await asyncio.wait_for(socket.recv(), 10))
        while heard["type"] == "ping":
            heard = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert heard == {"id": "walk", "type": "next", "payload": {"data": {"applicationSubmitted": {
        "id": applied["id"], "status": "SUBMITTED", "worker": {"id": worker},
        "job": {"id": job["id"]},
    }}}}
    assert key_of(applied["id"]) > 0
