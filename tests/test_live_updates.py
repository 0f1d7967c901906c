"""Live updates beyond new applications: `applicationStatusChanged`, `serviceQueue`,
`trainingSeatsChanged`, over real WebSockets to process A while the writes go to process B.

Each test shows that a subscriber who may not see a row receives nothing about it by the
next message it does receive being a later event (events arrive in commit order), and that a
refused write sends nothing. Then: partners (where the agreement reaches the type), persisted
and trusted documents named by a subscribe, and the connections a principal holds across
processes, also after a process dies.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from resolvers.access import ANONYMOUS, Role, Viewer
from resolvers.events import (
    APPLICATION_STATUSES,
    APPLICATIONS_SUBMITTED,
    SERVICE_QUEUE,
    TRAINING_SEATS,
    Event,
    EventType,
)
from server.persisted import register_trusted, sha256_of
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.live_clients import (
    PROTOCOL,
    SETTLE_SECONDS,
    admitted,
    live,
    message,
    next_data,
    on,
    serve,
    serving_pair,
    subscribe_to,
    ws_url,
)
from tests.live_server import ServeProcess
from tests.partners import consented_partner_key
from tests.postings import Employer, as_worker, post_job, seeded_employers, seeded_workers
from tests.registering import CURRENT, HUKOU, new_id_number, worker_input

pytestmark = pytest.mark.usefixtures("registered_workers_removed")

servers = serving_pair()

ERRORS = "userErrors { field code message }"
STATUS = """subscription ($id: ID) { applicationStatusChanged(applicationId: $id) {
  id status } }"""
QUEUE = """subscription ($r: String) { serviceQueue(regionCode: $r) { __typename
  ... on Worker { id } ... on SkillSurvey { id worker { id } } } }"""
SEATS = """subscription ($id: ID!) { trainingSeatsChanged(trainingId: $id) {
  id seatsLeft status } }"""
APPLY = f"""mutation ($input: ApplyToJobInput!) {{ applyToJob(input: $input) {{
  application {{ id version }} {ERRORS} }} }}"""
REVIEW = f"""mutation ($input: ReviewApplicationInput!) {{ reviewApplication(input: $input) {{
  application {{ id version }} {ERRORS} }} }}"""
WITHDRAW = f"""mutation ($input: WithdrawApplicationInput!) {{
  withdrawApplication(input: $input) {{ application {{ id version }} {ERRORS} }} }}"""
REGISTER = f"""mutation ($input: RegisterWorkerInput!) {{ registerWorker(input: $input) {{
  worker {{ id }} {ERRORS} }} }}"""
SURVEY = f"""mutation ($input: RecordSkillSurveyInput!) {{ recordSkillSurvey(input: $input) {{
  skillSurvey {{ id }} {ERRORS} }} }}"""
CREATE_TRAINING = f"""mutation ($input: CreateTrainingInput!) {{ createTraining(input: $input) {{
  training {{ id version }} {ERRORS} }} }}"""
UPDATE_TRAINING = f"""mutation ($input: UpdateTrainingInput!) {{ updateTraining(input: $input) {{
  training {{ id version }} {ERRORS} }} }}"""
CANCEL_TRAINING = f"""mutation ($input: CancelTrainingInput!) {{ cancelTraining(input: $input) {{
  training {{ id version }} {ERRORS} }} }}"""
ENROLL = f"""mutation ($input: EnrollInTrainingInput!) {{ enrollInTraining(input: $input) {{
  enrollment {{ id version }} {ERRORS} }} }}"""
DROP = f"""mutation ($input: DropEnrollmentInput!) {{ dropEnrollment(input: $input) {{
  enrollment {{ id version }} {ERRORS} }} }}"""
BEIJING = "110105"  # 朝阳区, 北京市


@pytest.fixture(scope="module", autouse=True)
async def made_rows_removed(engine: AsyncEngine) -> AsyncIterator[None]:
    """The jobs (with their applications and placements) and trainings (with their
    enrollments) the module makes go when it ends."""
    async with engine.connect() as connection:
        jobs = (await connection.execute(text("SELECT max(id) FROM jobs"))).scalar_one()
        trainings = (await connection.execute(text("SELECT max(id) FROM trainings"))).scalar_one()
    yield
    async with engine.begin() as connection:
        for statement in (
            "DELETE FROM placements WHERE job_id > :j",
            "DELETE FROM applications WHERE job_id > :j",
            "DELETE FROM jobs WHERE id > :j",
            "DELETE FROM enrollments WHERE training_id > :t",
            "DELETE FROM trainings WHERE id > :t",
        ):
            await connection.execute(text(statement), {"j": jobs, "t": trainings})


@pytest.fixture(scope="module")
async def employers(gql: GraphQLClient) -> list[Employer]:
    return await seeded_employers(gql)


async def written(client: GraphQLClient, mutation: str, **values: Any) -> Any:
    """The payload of `mutation` with `values` as its input."""
    data = await client.ok(mutation, {"input": values})
    return next(iter(data.values()))


async def succeeded(client: GraphQLClient, mutation: str, **values: Any) -> Any:
    """The row of a payload without user errors."""
    payload = await written(client, mutation, **values)
    assert payload["userErrors"] == [], payload
    return next(value for name, value in payload.items() if name != "userErrors")


def codes(payload: Any) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def first_error(socket: ClientConnection, operation_id: str) -> Any:
    """The first error of the operation's next message (`error`; or `next` with errors, and
    then the `complete` that ends the operation)."""
    received = await message(socket)
    assert received["id"] == operation_id, received
    if received["type"] == "error":
        return received["payload"][0]
    assert received["type"] == "next" and received["payload"]["errors"], received
    assert await message(socket) == {"id": operation_id, "type": "complete"}
    return received["payload"]["errors"][0]


# --- applicationStatusChanged ---------------------------------------------------------------


async def test_a_status_change_reaches_the_worker_the_employer_staff_and_admins_only(
    servers: tuple[ServeProcess, ServeProcess],
    gql: GraphQLClient,
    settings: Settings,
    employers: list[Employer],
) -> None:
    a, b = servers
    mine, other = employers
    jobs = [await post_job(gql, mine), await post_job(gql, other)]
    workers = await seeded_workers(gql, 20)
    worker = workers[uuid.uuid4().int % len(workers)]
    async with on(b, as_worker(gql, settings, worker)) as applying:
        first, second = [
            await succeeded(applying, APPLY, workerId=worker, jobId=job["id"]) for job in jobs
        ]
    worker_token = bearer(settings, "worker", subject=f"w-{uuid.uuid4().hex[:8]}",
                          worker_id=worker)
    mine_token = bearer(settings, "employer", subject="live-mine", employer_id=mine.id)
    other_token = bearer(settings, "employer", subject="live-other", employer_id=other.id)
    staff_token = bearer(settings, "staff", subject="live-near", region=mine.province)
    admin_token = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    async with (
        live(a, worker_token) as own, live(a, mine_token) as employer,
        live(a, other_token) as stranger, live(a, staff_token) as staff,
        live(a, admin_token) as admin,
    ):
        for socket in (own, employer, stranger, staff):
            await subscribe_to(socket, "s", STATUS)
        await subscribe_to(admin, "s", STATUS, {"id": second["id"]})
        await asyncio.sleep(SETTLE_SECONDS)
        async with on(b, gql.as_(mine_token)) as reviewing:
            stale = await written(
                reviewing, REVIEW, applicationId=first["id"], decision="REJECT",
                version=first["version"] + 5,
            )
            assert codes(stale) == ["STALE_VERSION"], stale  # refused: sends nothing
            await succeeded(
                reviewing, REVIEW, applicationId=first["id"], decision="SHORTLIST",
                version=first["version"],
            )
        shortlisted = {"applicationStatusChanged": {"id": first["id"], "status": "SHORTLISTED"}}
        for socket in (own, employer, staff):
            assert await next_data(socket, "s") == shortlisted
        async with on(b, gql.as_(other_token)) as reviewing:
            await succeeded(
                reviewing, REVIEW, applicationId=second["id"], decision="SHORTLIST",
                version=second["version"],
            )
        changed = {"applicationStatusChanged": {"id": second["id"], "status": "SHORTLISTED"}}
        # The first news the other employer and the admin (who asked for the second
        # application) get is the second application's: nothing of the first reached them.
        for socket in (stranger, admin, own):
            assert await next_data(socket, "s") == changed
        async with on(b, as_worker(gql, settings, worker)) as withdrawing:
            await succeeded(
                withdrawing, WITHDRAW, applicationId=second["id"], version=second["version"] + 1
            )
        withdrawn = {"applicationStatusChanged": {"id": second["id"], "status": "WITHDRAWN"}}
        for socket in (own, stranger):
            assert await next_data(socket, "s") == withdrawn
        async with on(b, gql.as_(mine_token)) as reviewing:
            await succeeded(
                reviewing, REVIEW, applicationId=first["id"], decision="REJECT",
                version=first["version"] + 1,
            )
        rejected = {"applicationStatusChanged": {"id": first["id"], "status": "REJECTED"}}
        for socket in (employer, staff):  # nothing of the other employer's job came between
            assert await next_data(socket, "s") == rejected


# --- serviceQueue ---------------------------------------------------------------------------


async def test_the_service_queue_brings_registrations_and_surveys_of_the_division(
    servers: tuple[ServeProcess, ServeProcess], gql: GraphQLClient, settings: Settings
) -> None:
    a, b = servers
    near = bearer(settings, "staff", subject="queue-near", region="440000")
    far = bearer(settings, "staff", subject="queue-far", region="110000")
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    async with live(a, near) as caseworker, live(a, far) as beijing, live(a, admin) as city:
        await subscribe_to(caseworker, "q", QUEUE)
        await subscribe_to(beijing, "q", QUEUE)
        await subscribe_to(city, "q", QUEUE, {"r": "440300"})  # 深圳市 alone
        await asyncio.sleep(SETTLE_SECONDS)
        async with on(b, gql) as writing:
            values = worker_input(hukouRegionCode=HUKOU, currentRegionCode=CURRENT)
            guangdong = await succeeded(writing, REGISTER, **values)
            again = await written(writing, REGISTER, **values)
            assert codes(again) == ["DUPLICATE"], again  # refused: sends nothing
            survey = await succeeded(
                writing, SURVEY, workerId=guangdong["id"], skills=["welding"]
            )
            beijinger = await succeeded(writing, REGISTER, **worker_input(
                idNumber=new_id_number(BEIJING), hukouRegionCode=BEIJING,
                currentRegionCode=BEIJING,
            ))
        registered = {"serviceQueue": {"__typename": "Worker", "id": guangdong["id"]}}
        surveyed = {"serviceQueue": {
            "__typename": "SkillSurvey", "id": survey["id"], "worker": {"id": guangdong["id"]},
        }}
        for socket in (caseworker, city):
            assert await next_data(socket, "q") == registered
            assert await next_data(socket, "q") == surveyed
        # Beijing's caseworker hears first of the Beijing worker: nothing of Guangdong's.
        assert await next_data(beijing, "q") == {
            "serviceQueue": {"__typename": "Worker", "id": beijinger["id"]}
        }


async def test_a_queue_narrowed_outside_the_division_is_refused_naming_the_argument(
    servers: tuple[ServeProcess, ServeProcess], settings: Settings
) -> None:
    a, _ = servers
    staff = bearer(settings, "staff", subject="queue-narrow", region="440000")
    worker = bearer(settings, "worker", subject="queue-worker", worker_id="V29ya2VyOjE=")
    async with live(a, staff) as socket, live(a, worker) as not_staff:
        for number, region in enumerate(("110000", "abc")):
            await subscribe_to(socket, str(number), QUEUE, {"r": region})
            error = await first_error(socket, str(number))
            assert error["extensions"]["code"] == "BAD_USER_INPUT", error
            assert error["extensions"]["argument"] == "regionCode", error
        await subscribe_to(not_staff, "w", QUEUE)
        assert (await first_error(not_staff, "w"))["extensions"]["code"] == "FORBIDDEN"


# --- trainingSeatsChanged and partners -------------------------------------------------------


def training(employer: Employer, capacity: int = 5) -> dict[str, Any]:
    starts = date.today() + timedelta(days=30)
    return {
        "title": f"叉车司机培训 {uuid.uuid4().hex[:8]}", "kind": "EMPLOYMENT_SKILLS",
        "mode": "PROJECT_BASED", "provider": "市职业技能培训中心",
        "regionCode": employer.region, "startsOn": str(starts),
        "endsOn": str(starts + timedelta(days=10)), "capacity": capacity,
    }


async def test_seats_reach_whoever_may_read_the_training_and_a_partner_where_it_reaches(
    servers: tuple[ServeProcess, ServeProcess],
    gql: GraphQLClient,
    settings: Settings,
    database_url: str,
    employers: list[Employer],
) -> None:
    a, b = servers
    mine, other = employers
    here = await succeeded(gql, CREATE_TRAINING, **training(mine))
    there = await succeeded(gql, CREATE_TRAINING, **training(other))
    [worker] = await seeded_workers(gql, 1)
    reader = bearer(settings, "worker", subject=f"w-{uuid.uuid4().hex[:8]}", worker_id=worker)
    async with (
        consented_partner_key(
            settings, database_url, partner="seats-reached", scopes=["trainings"],
            regions=[mine.province], consenting=False,
        ) as reaching,
        consented_partner_key(
            settings, database_url, partner="seats-unreached", scopes=["jobs"],
            regions=[mine.province], consenting=False,
        ) as unreaching,
        live(a, reader) as anyone, live(a, {"X-API-Key": reaching}) as partner,
        live(a, {"X-API-Key": unreaching}) as outsider,
    ):
        await subscribe_to(outsider, "here", SEATS, {"id": here["id"]})
        refused = await first_error(outsider, "here")
        assert refused["extensions"]["code"] == "FORBIDDEN", refused
        assert "Training" in refused["message"], refused
        await subscribe_to(anyone, "here", SEATS, {"id": here["id"]})
        await subscribe_to(partner, "here", SEATS, {"id": here["id"]})
        await subscribe_to(partner, "there", SEATS, {"id": there["id"]})  # outside its regions
        await asyncio.sleep(SETTLE_SECONDS)
        async with on(b, gql) as writing:
            await succeeded(writing, ENROLL, workerId=worker, trainingId=there["id"])
            enrolled = await succeeded(writing, ENROLL, workerId=worker, trainingId=here["id"])
        seats = {"trainingSeatsChanged": {"id": here["id"], "seatsLeft": 4, "status": "SCHEDULED"}}
        assert await next_data(partner, "here") == seats  # nothing of the training outside
        assert await next_data(anyone, "here") == seats
        async with on(b, gql) as writing:
            again = await written(writing, ENROLL, workerId=worker, trainingId=here["id"])
            assert codes(again) == ["DUPLICATE"], again  # refused: sends nothing
            await succeeded(
                writing, UPDATE_TRAINING, trainingId=here["id"], version=here["version"],
                title="改名不改座位",
            )  # seats unchanged: sends nothing
            await succeeded(
                writing, DROP, enrollmentId=enrolled["id"], version=enrolled["version"]
            )
            await succeeded(
                writing, UPDATE_TRAINING, trainingId=here["id"], version=here["version"] + 1,
                capacity=8,
            )
            await succeeded(
                writing, CANCEL_TRAINING, trainingId=here["id"], version=here["version"] + 2
            )
        for seats_left, status in ((5, "SCHEDULED"), (8, "SCHEDULED"), (8, "CANCELLED")):
            assert await next_data(anyone, "here") == {"trainingSeatsChanged": {
                "id": here["id"], "seatsLeft": seats_left, "status": status,
            }}


# --- persisted and trusted documents ----------------------------------------------------------


def by_hash(document: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256_of(document)}}


async def named_only_by_hash(socket: ClientConnection, operation_id: str, document: str) -> None:
    await socket.send(json.dumps({
        "id": operation_id, "type": "subscribe", "payload": {"extensions": by_hash(document)},
    }))


def junk_seats(name: str) -> str:
    """A subscription of its own text that answers at once: its argument is refused."""
    return f'subscription {name} {{ trainingSeatsChanged(trainingId: "junk") {{ id }} }}'


async def ran(socket: ClientConnection, operation_id: str) -> bool:
    """Whether the operation ran: its resolver refused the junk ID."""
    error = await first_error(socket, operation_id)
    assert error["extensions"].get("code") == "BAD_USER_INPUT", error
    return True


async def test_a_subscribe_names_a_persisted_document_by_its_hash(
    servers: tuple[ServeProcess, ServeProcess], settings: Settings, engine: AsyncEngine
) -> None:
    a, _ = servers
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    trusted = junk_seats(f"Trusted_{uuid.uuid4().hex[:8]}")
    await register_trusted(engine, [(None, trusted)])
    apq = junk_seats(f"Apq_{uuid.uuid4().hex[:8]}")
    async with live(a, admin) as socket:
        await named_only_by_hash(socket, "trusted", trusted)
        assert await ran(socket, "trusted")
        await named_only_by_hash(socket, "unknown", apq)
        error = await first_error(socket, "unknown")
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND", error
        await subscribe_to(socket, "stored", apq, extensions=by_hash(apq))
        assert await ran(socket, "stored")
        await named_only_by_hash(socket, "apq", apq)  # stored by the one before
        assert await ran(socket, "apq")
        await subscribe_to(socket, "mismatch", apq, extensions=by_hash(trusted))
        error = await first_error(socket, "mismatch")
        assert error["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH", error


@pytest.fixture
def trusted_only(
    tmp_path_factory: pytest.TempPathFactory, settings: Settings, database_url: str
) -> Iterator[ServeProcess]:
    """A third process, in trusted-documents mode."""
    process = serve(
        tmp_path_factory, settings, database_url, "c", LABORHUB_TRUSTED_DOCUMENTS_ONLY="1"
    )
    try:
        yield process
    finally:
        process.kill_group()


async def test_in_trusted_documents_mode_only_registered_documents_subscribe(
    trusted_only: ServeProcess, settings: Settings, engine: AsyncEngine
) -> None:
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    registered = junk_seats(f"Registered_{uuid.uuid4().hex[:8]}")
    await register_trusted(engine, [(None, registered)])
    unregistered = junk_seats(f"Unregistered_{uuid.uuid4().hex[:8]}")
    async with live(trusted_only, admin) as socket:
        for operation_id, name_it in (
            ("text", lambda s: subscribe_to(s, "text", unregistered)),
            ("hash", lambda s: named_only_by_hash(s, "hash", unregistered)),
        ):
            await name_it(socket)
            error = await first_error(socket, operation_id)
            assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED", error
        await subscribe_to(socket, "registered-text", registered)
        assert await ran(socket, "registered-text")
        await named_only_by_hash(socket, "registered-hash", registered)
        assert await ran(socket, "registered-hash")


# --- connections per principal across processes ------------------------------------------------


async def refused_for_too_many(server: ServeProcess, payload: dict[str, Any]) -> bool:
    async with connect(ws_url(server), subprotocols=[PROTOCOL]) as socket:
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        with pytest.raises(ConnectionClosed) as closed:
            await message(socket)
    return closed.value.rcvd is not None and closed.value.rcvd.code == 4429


async def test_a_principal_holds_its_connections_across_processes(
    servers: tuple[ServeProcess, ServeProcess], settings: Settings
) -> None:
    a, b = servers
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    async with live(a, admin):
        async with live(b, admin):
            assert await refused_for_too_many(a, admin)
            assert await refused_for_too_many(b, admin)
        await admitted(a, admin)  # the one closed on B no longer counts


async def test_the_connections_of_a_process_that_died_no_longer_count(
    servers: tuple[ServeProcess, ServeProcess],
    trusted_only: ServeProcess,
    settings: Settings,
) -> None:
    a, b = servers
    admin = bearer(settings, "admin", subject=f"admin-{uuid.uuid4().hex[:8]}")
    async with live(trusted_only, admin), live(trusted_only, admin):
        assert await refused_for_too_many(a, admin)
        trusted_only.kill_group()  # its sockets and its database session end with it
        await admitted(a, admin, b)


# --- the sieves ---------------------------------------------------------------------------------


def test_each_feed_sieves_on_the_ids_its_events_carry() -> None:
    """The first pass before the row is read again under the viewer's policy."""
    status = Event(
        EventType.APPLICATION_STATUS_CHANGED, 1, job_id=2, employer_id=3, worker_id=4,
        regions=("440306",),
    )
    registered = Event(EventType.WORKER_REGISTERED, 7, worker_id=7, regions=("440306", HUKOU))
    cases = [
        (APPLICATION_STATUSES, status, Viewer(Role.WORKER, worker_id=4), True),
        (APPLICATION_STATUSES, status, Viewer(Role.WORKER, worker_id=5), False),
        (APPLICATION_STATUSES, status, Viewer(Role.EMPLOYER, employer_id=3), True),
        (APPLICATION_STATUSES, status, Viewer(Role.EMPLOYER, employer_id=9), False),
        (APPLICATION_STATUSES, status, Viewer(Role.STAFF, region_code="440300"), True),
        (APPLICATION_STATUSES, status, Viewer(Role.STAFF, region_code="110000"), False),
        (APPLICATION_STATUSES, status, Viewer(Role.ADMIN), True),
        (APPLICATIONS_SUBMITTED, status, Viewer(Role.ADMIN), False),  # not its type
        (SERVICE_QUEUE, registered, Viewer(Role.STAFF, region_code="410000"), True),  # hukou
        (SERVICE_QUEUE, registered, Viewer(Role.STAFF, region_code="440306"), True),
        (SERVICE_QUEUE, registered, Viewer(Role.STAFF, region_code="110000"), False),
        (SERVICE_QUEUE, registered, Viewer(Role.ADMIN), True),
    ]
    for feed, event, viewer, expected in cases:
        assert feed.concerns(viewer, event) is expected, (feed, event, viewer)
    assert not SERVICE_QUEUE.admits(Viewer(Role.WORKER, worker_id=7))
    assert TRAINING_SEATS.admits(ANONYMOUS)
