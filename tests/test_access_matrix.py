"""Who may see what, per role, on every path: lists, totals, relations, node/nodes, mutations.

The seeded `tiny` data set is read as an admin to find the subjects, then each role asks the
same questions. An object a role may not see is null or absent, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from db.pii import PersonalDataVault
from db.session import create_engine
from server.auth import create_api_key
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer

SUBJECTS = """{
  applications: workers(first: 100) { nodes { id currentRegion { code } hukouRegion { code }
    applications(first: 10) { nodes { id job { id status employer { id } } } }
    insuranceRecords(first: 1) { totalCount } } }
  jobs(first: 100) { totalCount nodes { id status region { code } employer { id } } }
  published: jobs(filter: {status: PUBLISHED}) { totalCount }
  records: insuranceRecords { totalCount }
}"""


@dataclass(frozen=True)
class Subjects:
    worker: str  # a worker with applications and insurance records
    worker_region: str
    other_worker: str  # a worker in another province, with applications
    other_region: str
    employer: str  # the employer of one of `worker`'s applications
    application: str  # that application
    foreign_application: str  # an application to another employer's job
    hidden_job: str  # a job that is not published
    hidden_job_employer: str
    published_jobs: int
    all_jobs: int
    all_records: int


def province(code: str) -> str:
    return code[:2] + "0000"


@pytest.fixture(scope="module")
async def subjects(gql: GraphQLClient) -> Subjects:
    data = await gql.ok(SUBJECTS)
    workers = [
        w for w in data["applications"]["nodes"]
        if w["applications"]["nodes"] and w["insuranceRecords"]["totalCount"]
    ]
    worker = workers[0]
    region = province(worker["currentRegion"]["code"])
    other = next(
        w for w in data["applications"]["nodes"]
        if w["applications"]["nodes"]
        and province(w["currentRegion"]["code"]) != region
        and province(w["hukouRegion"]["code"]) != region
    )
    application = worker["applications"]["nodes"][0]
    employer = application["job"]["employer"]["id"]
    foreign = next(
        a["id"] for w in data["applications"]["nodes"] for a in w["applications"]["nodes"]
        if a["job"]["employer"]["id"] != employer
    )
    hidden = next(j for j in data["jobs"]["nodes"] if j["status"] != "PUBLISHED")
    return Subjects(
        worker=worker["id"],
        worker_region=region,
        other_worker=other["id"],
        other_region=province(other["currentRegion"]["code"]),
        employer=employer,
        application=application["id"],
        foreign_application=foreign,
        hidden_job=hidden["id"],
        hidden_job_employer=hidden["employer"]["id"],
        # counted, not summed over a page: other tests' jobs may run past the first 100
        published_jobs=data["published"]["totalCount"],
        all_jobs=data["jobs"]["totalCount"],
        all_records=data["records"]["totalCount"],
    )



@pytest.fixture(scope="module")
def clients(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings, subjects: Subjects
) -> dict[str, GraphQLClient]:
    return {
        "anonymous": anonymous,
        "admin": gql,
        "worker": gql.as_(bearer(settings, "worker", worker_id=subjects.worker)),
        "employer": gql.as_(bearer(settings, "employer", employer_id=subjects.employer)),
        "staff": gql.as_(bearer(settings, "staff", region=subjects.worker_region)),
    }


COUNTS = """{ workers { totalCount nodes { id } } jobs { totalCount }
  insuranceRecords(first: 100) { totalCount nodes { worker { id } employer { id }
    region { code } } }
  auditEvents { totalCount } }"""


async def counts(client: GraphQLClient) -> dict[str, Any]:
    result = await client(COUNTS)
    assert result.status == 200 and not result.errors, result.body
    return dict(result.data)


async def test_anonymous_sees_published_jobs_and_no_personal_data(
    clients: dict[str, GraphQLClient], subjects: Subjects
) -> None:
    seen = await counts(clients["anonymous"])
    assert seen["workers"] == {"totalCount": 0, "nodes": []}
    assert seen["insuranceRecords"]["totalCount"] == 0
    assert seen["auditEvents"]["totalCount"] == 0
    assert seen["jobs"]["totalCount"] == subjects.published_jobs < subjects.all_jobs
    refs = await clients["anonymous"].ok(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } regions { code }"
        " trainings { totalCount } }",
        {"ids": [subjects.worker, subjects.hidden_job, subjects.application]},
    )
    assert refs["nodes"] == [None, None, None]
    assert len(refs["regions"]) == 31 and refs["trainings"]["totalCount"] > 0


async def test_worker_sees_only_their_own_records(
    clients: dict[str, GraphQLClient], subjects: Subjects
) -> None:
    seen = await counts(clients["worker"])
    assert [w["id"] for w in seen["workers"]["nodes"]] == [subjects.worker]
    records = seen["insuranceRecords"]
    assert records["totalCount"] > 0
    assert {r["worker"]["id"] for r in records["nodes"]} == {subjects.worker}
    assert seen["auditEvents"]["totalCount"] == 0
    found = await clients["worker"].ok(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [subjects.worker, subjects.other_worker, subjects.application,
                 subjects.foreign_application]},
    )
    assert [n and n["id"] for n in found["nodes"]] == [
        subjects.worker, None, subjects.application, None
    ]


async def test_employer_sees_own_jobs_applicants_and_contributions(
    clients: dict[str, GraphQLClient], subjects: Subjects, settings: Settings
) -> None:
    employer = clients["employer"]
    seen = await counts(employer)
    applicants = await employer.ok(
        """{ workers(first: 100) { nodes { maskedIdNumber applications(first: 50) {
             nodes { job { employer { id } } } } } } }"""
    )
    assert applicants["workers"]["nodes"], "the employer's applicants"
    for worker in applicants["workers"]["nodes"]:
        assert "*" * 8 in worker["maskedIdNumber"]
        employers = {a["job"]["employer"]["id"] for a in worker["applications"]["nodes"]}
        assert employers == {subjects.employer}  # other employers' applications stay hidden
    assert subjects.worker in {w["id"] for w in seen["workers"]["nodes"]}
    assert all(r["employer"]["id"] == subjects.employer for r in seen["insuranceRecords"]["nodes"])
    await _employer_sees_its_contributions(clients["admin"], settings, subjects)
    own = await employer.ok(
        "query ($id: ID!) { employer: node(id: $id) { ... on Employer { jobs(first: 100) "
        "{ totalCount } } } }", {"id": subjects.employer},
    )
    everyone = await clients["admin"].ok(
        "query ($id: ID!) { employer: node(id: $id) { ... on Employer { jobs(first: 100) "
        "{ totalCount } } } }", {"id": subjects.employer},
    )
    assert own == everyone  # drafts and closed postings of its own included
    other = await employer.ok(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [subjects.foreign_application, subjects.application]},
    )
    assert other["nodes"] == [None, {"id": subjects.application}]


async def _employer_sees_its_contributions(
    admin: GraphQLClient, settings: Settings, subjects: Subjects
) -> None:
    """An employer who contributes sees its contributions, all of them, and no others'."""
    some = await admin.ok("{ insuranceRecords(first: 50) { nodes { employer { id } } } }")
    contributor = next(
        r["employer"]["id"] for r in some["insuranceRecords"]["nodes"] if r["employer"]
    )
    its = await admin.ok(
        "query ($e: ID!) { insuranceRecords(filter: {employerId: $e}) { totalCount } }",
        {"e": contributor},
    )
    employer = admin.as_(bearer(settings, "employer", employer_id=contributor))
    records = (await counts(employer))["insuranceRecords"]
    assert records["nodes"] and {r["employer"]["id"] for r in records["nodes"]} == {contributor}
    assert records["totalCount"] == its["insuranceRecords"]["totalCount"] < subjects.all_records


async def test_employer_cannot_see_another_employers_unpublished_job(
    gql: GraphQLClient, settings: Settings, subjects: Subjects
) -> None:
    listed = await gql.ok("{ employers(first: 100) { nodes { id } } }")
    others = [e["id"] for e in listed["employers"]["nodes"]
              if e["id"] != subjects.hidden_job_employer]
    next_employer = gql.as_(bearer(settings, "employer", employer_id=others[0]))
    owner = gql.as_(bearer(settings, "employer", employer_id=subjects.hidden_job_employer))
    query = "query ($id: ID!) { node(id: $id) { id } }"
    assert (await next_employer.ok(query, {"id": subjects.hidden_job}))["node"] is None
    assert (await owner.ok(query, {"id": subjects.hidden_job}))["node"] is not None


async def test_staff_see_their_division_only(
    clients: dict[str, GraphQLClient], subjects: Subjects
) -> None:
    seen = await counts(clients["staff"])
    records = seen["insuranceRecords"]["nodes"]
    assert records and all(r["region"]["code"][:2] == subjects.worker_region[:2] for r in records)
    assert seen["insuranceRecords"]["totalCount"] < subjects.all_records
    found = await clients["staff"].ok(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [subjects.worker, subjects.other_worker]},
    )
    assert found["nodes"] == [{"id": subjects.worker}, None]
    filtered = await clients["staff"].ok(
        "query ($r: String!) { workers(filter: {regionCode: $r}) { totalCount } }",
        {"r": subjects.other_region},
    )
    assert filtered["workers"]["totalCount"] == 0  # asking for another division finds nothing


REVEAL = """mutation ($id: ID!, $purpose: String!) {
  revealIdNumber(input: {workerId: $id, purpose: $purpose}) {
    idNumber worker { maskedIdNumber } userErrors { field code message } } }"""


async def test_reveal_is_permitted_audited_and_refused_by_role(
    clients: dict[str, GraphQLClient], subjects: Subjects
) -> None:
    outcomes = {}
    for role in ("anonymous", "worker", "employer", "staff", "admin"):
        result = await clients[role].ok(REVEAL, {"id": subjects.worker, "purpose": "tests"})
        outcomes[role] = result["revealIdNumber"]
    for role in ("anonymous", "employer"):
        assert outcomes[role]["idNumber"] is None
        assert outcomes[role]["userErrors"][0]["code"] == "NOT_ALLOWED"
    for role in ("worker", "staff", "admin"):
        revealed = outcomes[role]
        assert revealed["userErrors"] == []
        number, masked = revealed["idNumber"], revealed["worker"]["maskedIdNumber"]
        assert re.fullmatch(r"\d{17}[\dX]", number)
        assert number[:6] == masked[:6] and number[-4:] == masked[-4:]
    refused = await clients["staff"].ok(REVEAL, {"id": subjects.other_worker, "purpose": "x"})
    assert refused["revealIdNumber"]["userErrors"][0]["code"] == "NOT_FOUND"
    blank = await clients["admin"].ok(REVEAL, {"id": subjects.worker, "purpose": " "})
    assert blank["revealIdNumber"]["userErrors"][0]["field"] == ["input", "purpose"]
    audit = await clients["admin"].ok(
        """query ($id: ID!) { auditEvents(filter: {recordId: $id, operation: "revealIdNumber"})
             { totalCount nodes { actor role purpose sensitiveFields } } }""",
        {"id": subjects.worker},
    )
    events = audit["auditEvents"]["nodes"]
    assert audit["auditEvents"]["totalCount"] == 3
    assert {e["role"] for e in events} == {"worker", "staff", "admin"}
    assert all(e["purpose"] == "tests" and e["sensitiveFields"] == ["Worker.idNumber"]
               for e in events)


async def test_audit_events_are_append_only(database_url: str) -> None:
    # The trigger fires per row: give each statement a row of its own (rolled back with it).
    own_row = (
        "INSERT INTO audit_events (actor, role, operation, record_ids, sensitive_fields) "
        "VALUES ('append-only-test', 'admin', 'test', '{}', '{}')"
    )
    engine = create_engine(database_url)
    try:
        for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
            with pytest.raises(Exception, match="append-only"):
                async with engine.begin() as connection:
                    await connection.execute(text(own_row))
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()


CONSENT = """mutation ($id: ID, $purpose: String!) {
  recordConsent(input: {workerId: $id, purpose: $purpose, version: "v1"}) {
    consent { purpose withdrawnAt } userErrors { field code message } } }"""
WITHDRAW = """mutation ($purpose: String!) { withdrawConsent(input: {purpose: $purpose}) {
  consent { withdrawnAt } userErrors { code } } }"""
PARTNER_WORKERS = "{ workers(first: 100) { nodes { id name } } }"


async def test_partner_reads_personal_data_only_with_live_consent(
    http: httpx.AsyncClient, clients: dict[str, GraphQLClient], settings: Settings,
    database_url: str, subjects: Subjects,
) -> None:
    engine = create_engine(database_url)
    try:
        key = await create_api_key(
            engine, PersonalDataVault(settings.master_key()), partner="matching-agency",
            scopes=["workers", "jobs"], regions=[subjects.worker_region], fields=None,
            purpose="job-matching",
        )
    finally:
        await engine.dispose()
    partner = GraphQLClient(http, {"x-api-key": key})
    assert (await partner.ok(PARTNER_WORKERS))["workers"]["nodes"] == []

    worker = clients["worker"]
    granted = await worker.ok(CONSENT, {"id": None, "purpose": "job-matching"})
    assert granted["recordConsent"]["userErrors"] == []
    seen = (await partner.ok(PARTNER_WORKERS))["workers"]["nodes"]
    assert [w["id"] for w in seen] == [subjects.worker]
    audit = await clients["admin"].ok(
        """query ($id: ID!) { auditEvents(filter: {recordId: $id}) { nodes { operation role
             purpose sensitiveFields } } }""", {"id": subjects.worker},
    )
    reads = [e for e in audit["auditEvents"]["nodes"] if e["role"] == "partner"]
    assert reads and reads[0]["purpose"] == "job-matching"
    assert "Worker.name" in reads[0]["sensitiveFields"]

    assert (await worker.ok(WITHDRAW, {"purpose": "job-matching"}))["withdrawConsent"][
        "userErrors"] == []
    assert (await partner.ok(PARTNER_WORKERS))["workers"]["nodes"] == []
    again = await worker.ok(WITHDRAW, {"purpose": "job-matching"})
    assert again["withdrawConsent"]["userErrors"][0]["code"] == "NOT_FOUND"
    other = await worker.ok(CONSENT, {"id": subjects.other_worker, "purpose": "job-matching"})
    assert other["recordConsent"]["userErrors"][0]["code"] == "NOT_ALLOWED"


async def test_partner_scopes_regions_and_fields(
    http: httpx.AsyncClient, settings: Settings, database_url: str, subjects: Subjects
) -> None:
    engine = create_engine(database_url)
    vault = PersonalDataVault(settings.master_key())
    try:
        narrow = await create_api_key(
            engine, vault, partner="jobs-board", scopes=["jobs"],
            regions=[subjects.worker_region], fields=["Job.title", "Job.region", "Region.*"],
            purpose="job-matching",
        )
    finally:
        await engine.dispose()
    partner = GraphQLClient(http, {"x-api-key": narrow})
    jobs = await partner.ok("{ jobs(first: 100) { totalCount nodes { title region { code } } } }")
    regions = {n["region"]["code"][:2] for n in jobs["jobs"]["nodes"]}
    assert regions == {subjects.worker_region[:2]}, "jobs of its region, and only those"
    out_of_scope = await partner("{ insuranceRecords { totalCount } }")
    assert out_of_scope.data is None and out_of_scope.errors[0]["extensions"]["code"] == "FORBIDDEN"
    assert "'insuranceRecords'" in out_of_scope.errors[0]["message"]
    field = await partner("{ jobs { nodes { title salaryMin } } }")
    assert field.data is None and "'Job.salaryMin'" in field.errors[0]["message"]
    reveal = await partner(REVEAL, {"id": subjects.worker, "purpose": "x"})
    assert "'revealIdNumber'" in reveal.errors[0]["message"]
