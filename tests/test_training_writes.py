"""createTraining, updateTraining, cancelTraining, enrollInTraining, recordTrainingCompletion,
dropEnrollment: each invalid field named, who may, idempotent retries, versions, the moves a
training and an enrollment may make, and the last seats raced by more workers than there are.

Each test makes trainings of its own; the module removes them and their enrollments when it
ends (the seeded trainings and enrollments are left as they were). The workers are seeded ones,
each signed in as a person of their own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from server.settings import Settings
from tests.conftest import GraphQLClient, bearer, rows_removed_after
from tests.partners import consented_partner_key
from tests.postings import Employer, as_worker, codes, key_of, seeded_employers

TRAINING = (
    "id title kind mode provider capacity subsidised startsOn endsOn version status "
    "cancelledAt seatsLeft enrolledCount partnerEmployer { id } occupation { code } "
    "region { code }"
)
ENROLLMENT = "id status version certificateNumber completedAt worker { id } training { id }"
ERRORS = "userErrors { field code message }"
CREATE = f"""mutation ($input: CreateTrainingInput!) {{ createTraining(input: $input) {{
  training {{ {TRAINING} }} {ERRORS} }} }}"""
UPDATE = f"""mutation ($input: UpdateTrainingInput!) {{ updateTraining(input: $input) {{
  training {{ {TRAINING} }} {ERRORS} }} }}"""
CANCEL = f"""mutation ($input: CancelTrainingInput!) {{ cancelTraining(input: $input) {{
  training {{ {TRAINING} }} {ERRORS} }} }}"""
ENROLL = f"""mutation ($input: EnrollInTrainingInput!) {{ enrollInTraining(input: $input) {{
  enrollment {{ {ENROLLMENT} }} {ERRORS} }} }}"""
COMPLETE = f"""mutation ($input: RecordTrainingCompletionInput!) {{
  recordTrainingCompletion(input: $input) {{ enrollment {{ {ENROLLMENT} }} {ERRORS} }} }}"""
DROP = f"""mutation ($input: DropEnrollmentInput!) {{ dropEnrollment(input: $input) {{
  enrollment {{ {ENROLLMENT} }} {ERRORS} }} }}"""
READ = f"""query ($id: ID!) {{ node(id: $id) {{ ... on Training {{ {TRAINING}
  enrollments(first: 50) {{ totalCount }} }} }} }}"""
AUDIT = """query ($id: ID!, $operation: String!) {
  auditEvents(filter: {recordId: $id, operation: $operation}) {
    nodes { recordIds sensitiveFields } } }"""
TODAY = date.today()


@pytest.fixture(scope="module", autouse=True)
async def trainings_removed(engine: AsyncEngine) -> AsyncIterator[None]:
    """The module's trainings (every one made after it starts) and the enrollments made
    meanwhile go when it ends: other tests count the seeded ones."""
    async with rows_removed_after(engine, "enrollments", "trainings"):
        yield


@pytest.fixture(scope="module")
async def employers(gql: GraphQLClient) -> list[Employer]:
    return await seeded_employers(gql)


@pytest.fixture(scope="module")
async def workers(gql: GraphQLClient) -> list[tuple[str, str]]:
    """Seeded workers: (ID, hukou region code)."""
    data = await gql.ok("{ workers(first: 40) { nodes { id hukouRegion { code } } } }")
    return [(n["id"], n["hukouRegion"]["code"]) for n in data["workers"]["nodes"]]


async def run(client: GraphQLClient, mutation: str, **values: Any) -> Any:
    data = await client.ok(mutation, {"input": values})
    return next(iter(data.values()))


def training_input(employer: Employer, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "title": f"叉车司机培训 {uuid.uuid4().hex[:8]}", "kind": "EMPLOYMENT_SKILLS",
        "mode": "PROJECT_BASED", "provider": "市职业技能培训中心",
        "regionCode": employer.region, "startsOn": str(TODAY + timedelta(days=30)),
        "endsOn": str(TODAY + timedelta(days=40)), "capacity": 5, "subsidised": True,
    }
    values.update(overrides)
    return values


async def create(client: GraphQLClient, employer: Employer, **overrides: Any) -> Any:
    made = await run(client, CREATE, **training_input(employer, **overrides))
    assert made["userErrors"] == [], made
    return made["training"]


async def enroll(client: GraphQLClient, worker_id: str, training_id: str) -> Any:
    made = await run(client, ENROLL, workerId=worker_id, trainingId=training_id)
    assert made["userErrors"] == [], made
    return made["enrollment"]


def staff_of(gql: GraphQLClient, settings: Settings, region: str) -> GraphQLClient:
    return gql.as_(bearer(settings, "staff", region=region[:2] + "0000"))


async def test_a_training_is_created_and_read_on_both_paths(
    gql: GraphQLClient, gql_resolvers: GraphQLClient, employers: list[Employer]
) -> None:
    training = await create(
        gql, employers[0], mode="ORDER_BASED", partnerEmployerId=employers[0].id,
        occupationCode=None,
    )
    assert training["mode"] == "ORDER_BASED" and training["kind"] == "EMPLOYMENT_SKILLS"
    assert training["partnerEmployer"] == {"id": employers[0].id}
    assert (training["version"], training["status"], training["cancelledAt"]) == (
        1, "SCHEDULED", None
    )
    assert (training["seatsLeft"], training["enrolledCount"]) == (5, 0)
    assert training["region"] == {"code": employers[0].region}
    compiled = await gql.ok(READ, {"id": training["id"]})
    resolved = await gql_resolvers.ok(READ, {"id": training["id"]})
    assert compiled == resolved
    assert compiled["node"]["seatsLeft"] == 5 and compiled["node"]["status"] == "SCHEDULED"


async def test_an_open_training_needs_no_partner_employer(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    training = await create(gql, employers[0], mode="OPEN")
    assert training["mode"] == "OPEN" and training["partnerEmployer"] is None


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"title": "  "}, "title", "INVALID"),
        ({"title": "训" * 129}, "title", "INVALID"),
        ({"provider": ""}, "provider", "INVALID"),
        ({"regionCode": "12"}, "regionCode", "INVALID"),
        ({"regionCode": "999999"}, "regionCode", "NOT_FOUND"),
        ({"occupationCode": "forklift"}, "occupationCode", "INVALID"),
        ({"occupationCode": "4-99-99-99"}, "occupationCode", "NOT_FOUND"),
        ({"endsOn": str(TODAY + timedelta(days=29))}, "endsOn", "INVALID"),
        ({"capacity": 0}, "capacity", "INVALID"),
        ({"capacity": 10_001}, "capacity", "INVALID"),
        ({"mode": "ORDER_BASED"}, "partnerEmployerId", "INVALID"),
        ({"mode": "TARGETED"}, "partnerEmployerId", "INVALID"),
        ({"partnerEmployerId": "not-an-id"}, "partnerEmployerId", "INVALID"),
        ({"partnerEmployerId": "RW1wbG95ZXI6OTk5OTk5OQ=="}, "partnerEmployerId", "NOT_FOUND"),
        ({"idempotencyKey": ""}, "idempotencyKey", "INVALID"),
    ],
)
async def test_each_invalid_field_of_a_new_training_is_named(
    gql: GraphQLClient, employers: list[Employer], overrides: dict[str, Any], field: str,
    code: str,
) -> None:
    made = await run(gql, CREATE, **training_input(employers[0], **overrides))
    assert made["training"] is None
    assert codes(made) == [(("input", field), code)]


async def test_who_may_create_a_training_and_where(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings,
    employers: list[Employer], workers: list[tuple[str, str]],
) -> None:
    here, there = employers[0], employers[1]
    staff = staff_of(gql, settings, here.region)
    assert (await create(staff, here))["region"] == {"code": here.region}
    elsewhere = await run(staff, CREATE, **training_input(there))
    assert codes(elsewhere) == [(("input", "regionCode"), "NOT_ALLOWED")]
    for client in (
        anonymous, as_worker(gql, settings, workers[0][0]),
        gql.as_(bearer(settings, "employer", employer_id=here.id)),
    ):
        refused = await run(client, CREATE, **training_input(here))
        assert codes(refused) == [((), "NOT_ALLOWED")]


async def test_a_partner_creates_trainings_within_its_regions(
    gql: GraphQLClient, settings: Settings, database_url: str, employers: list[Employer]
) -> None:
    here, there = employers[0], employers[1]
    async with consented_partner_key(
        settings, database_url, partner="training-agency",
        scopes=["createTraining", "updateTraining", "cancelTraining"],
        regions=[here.province], consenting=False,
    ) as key:
        partner = GraphQLClient(gql.http, {"x-api-key": key})
        made = await run(partner, CREATE, **training_input(here))
        assert made["userErrors"] == [] and made["training"]["title"].startswith("叉车")
        elsewhere = await run(partner, CREATE, **training_input(there))
        assert codes(elsewhere) == [(("input", "regionCode"), "NOT_ALLOWED")]
        training = made["training"]["id"]
        moved = await run(partner, UPDATE, trainingId=training, version=1, regionCode=there.region)
        assert codes(moved) == [(("input", "regionCode"), "NOT_ALLOWED")]
        changed = await run(partner, UPDATE, trainingId=training, version=1, capacity=8)
        assert changed["training"]["capacity"] == 8
        cancelled = await run(partner, CANCEL, trainingId=training, version=2)
        assert cancelled["training"]["status"] == "CANCELLED"
        unseen = await create(gql, there)
        hidden = await run(partner, CANCEL, trainingId=unseen["id"], version=1)
        assert codes(hidden) == [(("input", "trainingId"), "NOT_FOUND")]


async def test_a_retried_creation_makes_one_training(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    key = uuid.uuid4().hex
    values = training_input(employers[0], idempotencyKey=key)
    first, again = [await run(gql, CREATE, **values) for _ in range(2)]
    assert first["userErrors"] == [] and first == again
    reused = await run(gql, CREATE, **{**values, "capacity": 6})
    assert codes(reused) == [(("input", "idempotencyKey"), "IDEMPOTENCY_KEY_REUSED")]


async def test_a_training_is_updated_at_its_version(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    training = await create(gql, employers[0], occupationCode=None)
    changed = await run(
        gql, UPDATE, trainingId=training["id"], version=1, title="  电工培训  ", capacity=2
    )
    assert changed["userErrors"] == []
    after = changed["training"]
    assert (after["title"], after["capacity"], after["version"]) == ("电工培训", 2, 2)
    assert after["provider"] == training["provider"] and after["endsOn"] == training["endsOn"]
    stale = await run(gql, UPDATE, trainingId=training["id"], version=1, capacity=3)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    wrongs: list[tuple[dict[str, Any], str]] = [
        ({"title": None}, "title"),
        ({"capacity": None}, "capacity"),
        ({"mode": "TARGETED"}, "partnerEmployerId"),
        ({"endsOn": str(TODAY)}, "endsOn"),
        ({"regionCode": "999999"}, "regionCode"),
    ]
    for values, field in wrongs:
        wrong = await run(gql, UPDATE, trainingId=training["id"], version=2, **values)
        assert [f for f, _ in codes(wrong)] == [("input", field)], (values, wrong)
    nothing = await run(gql, UPDATE, trainingId=training["id"], version=2)
    assert codes(nothing) == [((), "INVALID")]
    partnered = await run(
        gql, UPDATE, trainingId=training["id"], version=2, mode="TARGETED",
        partnerEmployerId=employers[0].id,
    )
    assert partnered["training"]["partnerEmployer"] == {"id": employers[0].id}
    await enroll(gql, workers[0][0], training["id"])
    await enroll(gql, workers[1][0], training["id"])
    fewer = await run(gql, UPDATE, trainingId=training["id"], version=3, capacity=1)
    assert codes(fewer) == [(("input", "capacity"), "INVALID")]
    cleared = await run(
        gql, UPDATE, trainingId=training["id"], version=3, mode="PROJECT_BASED",
        partnerEmployerId=None,
    )
    assert cleared["training"]["partnerEmployer"] is None
    assert cleared["training"]["seatsLeft"] == 0
    staff = staff_of(gql, settings, employers[1].region)
    outside = await run(staff, UPDATE, trainingId=training["id"], version=4, capacity=9)
    assert codes(outside) == [(("input", "trainingId"), "NOT_ALLOWED")]


async def test_a_cancelled_or_ended_training_is_not_cancelled_changed_or_joined(
    gql: GraphQLClient, employers: list[Employer], workers: list[tuple[str, str]]
) -> None:
    training = await create(gql, employers[0])
    stale = await run(gql, CANCEL, trainingId=training["id"], version=2)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    cancelled = (await run(gql, CANCEL, trainingId=training["id"], version=1))["training"]
    assert cancelled["status"] == "CANCELLED" and cancelled["cancelledAt"] is not None
    assert cancelled["version"] == 2
    again = await run(gql, CANCEL, trainingId=training["id"], version=2)
    assert codes(again) == [(("input", "trainingId"), "INVALID_TRANSITION")]
    change = await run(gql, UPDATE, trainingId=training["id"], version=2, capacity=9)
    assert codes(change) == [(("input", "trainingId"), "INVALID_TRANSITION")]
    joined = await run(gql, ENROLL, workerId=workers[0][0], trainingId=training["id"])
    assert codes(joined) == [(("input", "trainingId"), "NOT_OPEN")]
    ended = await create(
        gql, employers[0], startsOn=str(TODAY - timedelta(days=20)),
        endsOn=str(TODAY - timedelta(days=10)),
    )
    assert ended["status"] == "ENDED"
    late = await run(gql, CANCEL, trainingId=ended["id"], version=1)
    assert codes(late) == [(("input", "trainingId"), "INVALID_TRANSITION")]
    running = await create(
        gql, employers[0], startsOn=str(TODAY - timedelta(days=5)),
        endsOn=str(TODAY + timedelta(days=5)),
    )
    assert running["status"] == "RUNNING"
    for started in (ended, running):
        joined = await run(gql, ENROLL, workerId=workers[0][0], trainingId=started["id"])
        assert codes(joined) == [(("input", "trainingId"), "NOT_OPEN")]
    missing = await run(gql, CANCEL, trainingId="VHJhaW5pbmc6OTk5OTk5OQ==", version=1)
    assert codes(missing) == [(("input", "trainingId"), "NOT_FOUND")]


async def test_a_worker_enrols_once_and_the_write_is_audited(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    training = await create(gql, employers[0])
    worker_id = workers[0][0]
    me = as_worker(gql, settings, worker_id)
    enrollment = await enroll(me, worker_id, training["id"])
    assert (enrollment["status"], enrollment["version"]) == ("ENROLLED", 1)
    assert enrollment["training"] == {"id": training["id"]}
    assert enrollment["worker"] == {"id": worker_id}
    again = await run(me, ENROLL, workerId=worker_id, trainingId=training["id"])
    assert codes(again) == [(("input", "trainingId"), "DUPLICATE")]
    other = await run(me, ENROLL, workerId=workers[1][0], trainingId=training["id"])
    assert codes(other) == [(("input", "workerId"), "NOT_ALLOWED")]
    read = (await gql.ok(READ, {"id": training["id"]}))["node"]
    assert (read["seatsLeft"], read["enrolledCount"]) == (4, 1)
    audit = await gql.ok(AUDIT, {"id": enrollment["id"], "operation": "enrollInTraining"})
    assert audit["auditEvents"]["nodes"] == [
        {"recordIds": [enrollment["id"]], "sensitiveFields": ["status"]}
    ]


async def test_who_may_enrol_a_worker(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings,
    employers: list[Employer], workers: list[tuple[str, str]],
) -> None:
    training = await create(gql, employers[0])
    worker_id, hukou = workers[2]
    staff = staff_of(gql, settings, hukou)
    assert (await enroll(staff, worker_id, training["id"]))["status"] == "ENROLLED"
    placed = await gql.ok(
        "{ workers(first: 40) { nodes { id hukouRegion { code } currentRegion { code } } } }"
    )
    other_worker = next(  # neither registered nor living in the staff's province
        n["id"] for n in placed["workers"]["nodes"]
        if n["hukouRegion"]["code"][:2] != hukou[:2]
        and (n["currentRegion"] or {"code": hukou})["code"][:2] != hukou[:2]
    )
    unseen = await run(staff, ENROLL, workerId=other_worker, trainingId=training["id"])
    assert codes(unseen) == [(("input", "workerId"), "NOT_FOUND")]
    employer = gql.as_(bearer(settings, "employer", employer_id=employers[0].id))
    for client in (anonymous, employer):
        refused = await run(client, ENROLL, workerId=worker_id, trainingId=training["id"])
        assert codes(refused) == [((), "NOT_ALLOWED")]
    wrong = await run(gql, ENROLL, workerId=training["id"], trainingId=worker_id)
    assert sorted(codes(wrong)) == [
        (("input", "trainingId"), "INVALID"), (("input", "workerId"), "INVALID")
    ]


async def test_a_retried_enrollment_makes_one(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    training = await create(gql, employers[0])
    worker_id = workers[3][0]
    me = as_worker(gql, settings, worker_id)
    key = uuid.uuid4().hex
    first, again = [
        await run(me, ENROLL, workerId=worker_id, trainingId=training["id"], idempotencyKey=key)
        for _ in range(2)
    ]
    assert first["userErrors"] == [] and first == again
    other = await create(gql, employers[0])
    reused = await run(
        me, ENROLL, workerId=worker_id, trainingId=other["id"], idempotencyKey=key
    )
    assert codes(reused) == [(("input", "idempotencyKey"), "IDEMPOTENCY_KEY_REUSED")]


async def test_more_workers_than_seats_enrolling_at_once_fill_exactly_the_seats(
    gql: GraphQLClient, settings: Settings, engine: AsyncEngine, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    """Twelve workers, each signed in as themself, enrol in a training of three seats at the
    same time: three are enrolled, nine are FULL, and the training has no seat left."""
    crowd = workers[:12]
    for _ in range(3):  # the race is real each time
        training = await create(gql, employers[0], capacity=3)
        results = await asyncio.gather(*(
            run(as_worker(gql, settings, w), ENROLL, workerId=w, trainingId=training["id"])
            for w, _ in crowd
        ))
        won = [r for r in results if r["enrollment"] is not None]
        assert len(won) == 3, [codes(r) for r in results]
        assert sorted(codes(r) for r in results if r["enrollment"] is None) == [
            [(("input", "trainingId"), "FULL")]
        ] * 9
        async with engine.connect() as connection:
            stored = await connection.execute(
                text("SELECT count(*) FROM enrollments WHERE training_id = :id"),
                {"id": key_of(training["id"])},
            )
        assert stored.scalar_one() == 3
        read = (await gql.ok(READ, {"id": training["id"]}))["node"]
        assert (read["seatsLeft"], read["enrolledCount"]) == (0, 3)


async def test_an_enrollment_is_completed_or_dropped_once(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    training = await create(gql, employers[0], capacity=3)
    first, second, third = (w for w, _ in workers[4:7])
    completing, dropping, other = [
        await enroll(gql, w, training["id"]) for w in (first, second, third)
    ]
    certificate = f"CERT-{uuid.uuid4().hex[:12]}"
    me = as_worker(gql, settings, first)
    refused = await run(
        me, COMPLETE, enrollmentId=completing["id"], version=1, certificateNumber=certificate
    )
    assert codes(refused) == [((), "NOT_ALLOWED")]
    blank = await run(gql, COMPLETE, enrollmentId=completing["id"], version=1,
                      certificateNumber=" ")
    assert codes(blank) == [(("input", "certificateNumber"), "INVALID")]
    stale = await run(gql, COMPLETE, enrollmentId=completing["id"], version=2,
                      certificateNumber=certificate)
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    staff = staff_of(gql, settings, employers[0].region)
    done = await run(staff, COMPLETE, enrollmentId=completing["id"], version=1,
                     certificateNumber=certificate)
    assert done["userErrors"] == []
    completed = done["enrollment"]
    assert (completed["status"], completed["certificateNumber"], completed["version"]) == (
        "COMPLETED", certificate, 2
    )
    assert completed["completedAt"] is not None
    audit = await gql.ok(
        AUDIT, {"id": completing["id"], "operation": "recordTrainingCompletion"}
    )
    assert audit["auditEvents"]["nodes"] == [
        {"recordIds": [completing["id"]], "sensitiveFields": ["status", "certificateNumber"]}
    ]
    twice = await run(gql, COMPLETE, enrollmentId=other["id"], version=1,
                      certificateNumber=certificate)
    assert codes(twice) == [(("input", "certificateNumber"), "DUPLICATE")]
    not_dropped = await run(me, DROP, enrollmentId=completing["id"], version=2)
    assert codes(not_dropped) == [(("input", "enrollmentId"), "INVALID_TRANSITION")]
    not_theirs = await run(me, DROP, enrollmentId=dropping["id"], version=1)
    assert codes(not_theirs) == [(("input", "enrollmentId"), "NOT_FOUND")]
    owner = as_worker(gql, settings, second)
    stale_drop = await run(owner, DROP, enrollmentId=dropping["id"], version=2)
    assert codes(stale_drop) == [(("input", "version"), "STALE_VERSION")]
    dropped = await run(owner, DROP, enrollmentId=dropping["id"], version=1)
    assert dropped["userErrors"] == [] and dropped["enrollment"]["status"] == "DROPPED"
    not_completed = await run(gql, COMPLETE, enrollmentId=dropping["id"], version=2,
                              certificateNumber=f"CERT-{uuid.uuid4().hex[:12]}")
    assert codes(not_completed) == [(("input", "enrollmentId"), "INVALID_TRANSITION")]
    again = await run(gql, DROP, enrollmentId=dropping["id"], version=2)
    assert codes(again) == [(("input", "enrollmentId"), "INVALID_TRANSITION")]
    read = (await gql.ok(READ, {"id": training["id"]}))["node"]
    assert (read["seatsLeft"], read["enrolledCount"]) == (1, 2), "the dropped seat is free"
    staff_drop = await run(staff, DROP, enrollmentId=other["id"], version=1)
    assert staff_drop["enrollment"]["status"] == "DROPPED"
    employer = gql.as_(bearer(settings, "employer", employer_id=employers[0].id))
    refusals: list[tuple[str, dict[str, Any]]] = [
        (DROP, {"version": 1}), (COMPLETE, {"version": 1, "certificateNumber": "X"}),
    ]
    for mutation, values in refusals:
        refused = await run(employer, mutation, enrollmentId=other["id"], **values)
        assert codes(refused) == [((), "NOT_ALLOWED")]


async def test_a_worker_who_dropped_out_enrols_again_once(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    training = await create(gql, employers[0], capacity=2)
    worker = workers[8][0]
    me = as_worker(gql, settings, worker)
    first = await enroll(me, worker, training["id"])
    dropped = await run(me, DROP, enrollmentId=first["id"], version=1)
    assert dropped["enrollment"]["status"] == "DROPPED"
    again = await enroll(me, worker, training["id"])
    assert again["id"] != first["id"] and again["status"] == "ENROLLED"
    twice = await run(me, ENROLL, workerId=worker, trainingId=training["id"])
    assert codes(twice) == [(("input", "trainingId"), "DUPLICATE")]
    read = (await gql.ok(READ, {"id": training["id"]}))["node"]
    assert (read["seatsLeft"], read["enrollments"]["totalCount"]) == (1, 2)


async def test_the_partner_employer_sees_the_enrollments_of_its_training(
    gql: GraphQLClient, settings: Settings, employers: list[Employer],
    workers: list[tuple[str, str]],
) -> None:
    partner, other = employers[0], employers[1]
    training = await create(gql, partner, mode="ORDER_BASED", partnerEmployerId=partner.id)
    enrollment = await enroll(gql, workers[7][0], training["id"])
    seen = "query ($id: ID!) { node(id: $id) { ... on Enrollment { id status } } }"
    for employer, shown in ((partner, True), (other, False)):
        client = gql.as_(bearer(settings, "employer", employer_id=employer.id))
        found = await client.ok(seen, {"id": enrollment["id"]})
        assert (found["node"] is not None) is shown
        listed = await client.ok(READ, {"id": training["id"]})
        assert listed["node"]["enrollments"]["totalCount"] == (1 if shown else 0)
