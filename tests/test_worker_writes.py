"""registerWorker and updateWorker: ID numbers and phones checked, sealed and masked; each
invalid field named; who may write whom; duplicates, also raced; idempotent retries;
versions; the audit of what was written.

Every test registers its own workers (tests/registering.py), removed after it, so each passes
alone and in any order and no other test meets them.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.codes import generate_id_number
from db.models import Worker
from db.models.base import table_of
from db.pii import PersonalDataVault
from resolvers.global_ids import decode_int_id
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key
from tests.raw_json import post, refused
from tests.registering import (
    CURRENT,
    HUKOU,
    REGISTER,
    codes,
    new_id_number,
    read,
    register,
    registered,
    update,
    worker_count,
    worker_input,
)

pytestmark = pytest.mark.usefixtures("registered_workers_removed")

WORKERS = table_of(Worker)
AUDIT = """query ($id: ID!, $operation: String!) {
  auditEvents(filter: {recordId: $id, operation: $operation}) {
    nodes { actor role recordIds sensitiveFields } } }"""



def key_of(worker: Any) -> int:
    return decode_int_id(worker["id"], "Worker", "id")


async def stored(engine: AsyncEngine, worker: Any) -> Any:
    async with engine.connect() as connection:
        found = await connection.execute(select(WORKERS).where(WORKERS.c.id == key_of(worker)))
        return found.mappings().one()


# --- registering --------------------------------------------------------------------------


async def test_staff_register_a_worker_whose_gender_and_birth_come_from_the_id_number(
    gql: GraphQLClient, settings: Settings
) -> None:
    staff = gql.as_(bearer(settings, "staff", region="440000"))  # the current region's province
    before = await worker_count(gql)
    result = await register(
        staff, idNumber="11010519491231002x", hukouRegionCode="110105", phone="+86 139-1234-5678",
        skills=["welding", "forklift"], newEmploymentForm=True,
    )
    assert result["userErrors"] == []
    worker = result["worker"]
    assert worker["maskedIdNumber"] == "110105********002X"  # x is read as X
    assert worker["gender"] == "FEMALE" and worker["birthYear"] == 1949  # 17th digit 2, even
    assert worker["maskedPhone"] == "139****5678"
    assert worker["hukouRegion"] == {"code": "110105"}
    assert worker["currentRegion"] == {"code": CURRENT}
    assert worker["educationLevel"] == "JUNIOR_SECONDARY" and worker["newEmploymentForm"]
    assert worker["version"] == 1
    assert sorted((s["skill"]["code"], s["level"]) for s in worker["skills"]) == [
        ("forklift", 1), ("welding", 1)
    ]
    assert await read(gql, worker) == worker
    assert await worker_count(gql) == before + 1


async def test_the_id_number_and_phone_are_stored_sealed_never_in_plain_text(
    gql: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    id_number = new_id_number(male=True)
    worker = await registered(gql, idNumber=id_number, phone="13800138000")
    row = await stored(engine, worker)
    vault = PersonalDataVault(settings.master_key())
    for value in row.values():  # no column holds either in plain text, as text or bytes
        shown = value if isinstance(value, bytes) else str(value).encode()
        assert id_number.encode() not in shown and b"13800138000" not in shown
    assert vault.decrypt("id_number", row["id_number_encrypted"]) == id_number
    assert row["id_number_hash"] == vault.lookup_hash("id_number", id_number)
    assert row["id_number_masked"] == id_number[:6] + "********" + id_number[-4:]
    assert vault.decrypt("phone", row["phone_encrypted"]) == "13800138000"
    assert row["phone_hash"] == vault.lookup_hash("phone", "13800138000")
    assert row["phone_masked"] == worker["maskedPhone"] == "138****8000"
    assert row["gender"].value == "male" == worker["gender"].lower()
    assert row["birth_date"].strftime("%Y%m%d") == id_number[6:14]


async def test_each_invalid_field_is_named_and_nothing_is_written(gql: GraphQLClient) -> None:
    before = await worker_count(gql)
    next_year = date.today() + timedelta(days=366)
    cases: list[tuple[dict[str, Any], tuple[str, ...], str]] = [
        ({"idNumber": "340524198001010013"}, ("idNumber",), "INVALID"),  # checksum
        ({"idNumber": "11010519491331002X"}, ("idNumber",), "INVALID"),  # month 13
        ({"idNumber": generate_id_number(HUKOU, next_year, 1, True)}, ("idNumber",), "INVALID"),
        ({"idNumber": "1101051949123100"}, ("idNumber",), "INVALID"),  # 16 characters
        ({"idNumber": "11010519491231002Y"}, ("idNumber",), "INVALID"),
        (  # a valid number whose first two digits name no province
            {"idNumber": generate_id_number("990105", date(1980, 1, 1), 7, True)},
            ("idNumber",), "INVALID",
        ),
        ({"phone": "1380013800"}, ("phone",), "INVALID"),  # 10 digits
        ({"phone": "23800138000"}, ("phone",), "INVALID"),
        ({"phone": "12800138000"}, ("phone",), "INVALID"),  # 12 is no mobile prefix
        ({"phone": "138-0013-800a"}, ("phone",), "INVALID"),
        ({"name": "   "}, ("name",), "INVALID"),
        ({"name": "王" * 65}, ("name",), "INVALID"),
        ({"hukouRegionCode": "41142"}, ("hukouRegionCode",), "INVALID"),
        ({"hukouRegionCode": "999999"}, ("hukouRegionCode",), "NOT_FOUND"),
        ({"currentRegionCode": "440399"}, ("currentRegionCode",), "NOT_FOUND"),
        ({"skills": ["welding", "no-such-skill"]}, ("skills", "1"), "NOT_FOUND"),
        ({"skills": ["Welding!"]}, ("skills", "0"), "INVALID"),
        ({"skills": ["welding", "forklift", "welding"]}, ("skills", "2"), "INVALID"),
        ({"skills": ["welding"] * 51}, ("skills",), "INVALID"),
    ]
    for changes, field, code in cases:
        result = await register(gql, **changes)
        assert result["worker"] is None, changes
        assert (("input", *field), code) in codes(result), (changes, result["userErrors"])
    assert await worker_count(gql) == before


async def test_every_problem_of_a_registration_is_named_at_once(gql: GraphQLClient) -> None:
    result = await register(
        gql, idNumber="340524198001010013", phone="12345", name="", hukouRegionCode="x"
    )
    assert sorted(codes(result)) == [
        (("input", "hukouRegionCode"), "INVALID"), (("input", "idNumber"), "INVALID"),
        (("input", "name"), "INVALID"), (("input", "phone"), "INVALID"),
    ]


async def test_who_may_register_a_worker(
    gql: GraphQLClient, anonymous: GraphQLClient, settings: Settings
) -> None:
    before = await worker_count(gql)
    denied = {
        "anonymous": (anonymous, ()),
        "worker": (gql.as_(bearer(settings, "worker", worker_id="1")), ()),
        "employer": (gql.as_(bearer(settings, "employer", employer_id="1")), ()),
        "staff elsewhere": (
            gql.as_(bearer(settings, "staff", region="510000")), ("input", "currentRegionCode")
        ),
        "staff of a county beside": (
            gql.as_(bearer(settings, "staff", region="411481")), ("input", "currentRegionCode")
        ),
    }
    for who, (client, field) in denied.items():
        result = await register(client)
        assert result["worker"] is None, who
        assert [(tuple(e["field"] or ()), e["code"]) for e in result["userErrors"]] == [
            (field, "NOT_ALLOWED")
        ], who
    assert await worker_count(gql) == before
    # Staff where the worker's current region lies, and where their hukou lies.
    for division in ("440300", "411400", HUKOU):
        staff = gql.as_(bearer(settings, "staff", region=division))
        assert (await register(staff))["userErrors"] == [], division
    without_current = gql.as_(bearer(settings, "staff", region="410000"))
    assert (await register(without_current, currentRegionCode=None))["userErrors"] == []
    assert (await register(gql))["userErrors"] == []  # admins anywhere
    assert await worker_count(gql) == before + 5


async def test_partners_register_within_their_regions_and_scopes(
    gql: GraphQLClient, http: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    async with consented_partner_key(
        settings, database_url, partner="register-test", scopes=["registerWorker"],
        regions=["440300"], types=["WorkerSkill"],
    ) as key:
        partner = GraphQLClient(http, {"x-api-key": key})
        ok = await register(partner)
        assert ok["userErrors"] == [] and ok["worker"]["currentRegion"] == {"code": CURRENT}
        for changes in ({"currentRegionCode": "510104"}, {"currentRegionCode": None}):
            outside = await register(partner, **changes)
            assert codes(outside) == [(("input", "currentRegionCode"), "NOT_ALLOWED")], changes
    async with consented_partner_key(
        settings, database_url, partner="register-test", scopes=["workers"], regions=["440300"],
    ) as key:
        unscoped = await GraphQLClient(http, {"x-api-key": key})(
            REGISTER, {"input": worker_input()}
        )
        assert unscoped.data is None and unscoped.statements == 0
        assert unscoped.errors[0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_registered_id_number_is_a_duplicate_without_saying_whose(
    gql: GraphQLClient, settings: Settings
) -> None:
    id_number = new_id_number()
    first = await registered(gql, idNumber=id_number, name="李娜")
    before = await worker_count(gql)
    staff = gql.as_(bearer(settings, "staff", region="440000"))
    for same in (id_number, id_number.lower(), f" {id_number} "):
        again = await register(staff, idNumber=same, name="张伟", phone="13900139000")
        assert again["worker"] is None
        assert codes(again) == [(("input", "idNumber"), "DUPLICATE")]
        message = again["userErrors"][0]["message"]
        assert "李娜" not in message and first["id"] not in message and id_number not in message
    assert await worker_count(gql) == before


async def test_concurrent_registrations_of_one_person_make_one_worker(
    gql: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    id_number = new_id_number()
    before = await worker_count(gql)
    racing = [
        register(gql, idNumber=id_number, idempotencyKey=uuid.uuid4().hex) for _ in range(4)
    ] + [register(gql.as_(bearer(settings, "staff", region="410000")), idNumber=id_number)
         for _ in range(4)]
    results = await asyncio.gather(*racing)
    made = [r["worker"] for r in results if r["worker"] is not None]
    assert len(made) == 1, results
    assert sorted(codes(r) for r in results if r["worker"] is None) == [
        [(("input", "idNumber"), "DUPLICATE")]
    ] * 7
    assert await worker_count(gql) == before + 1
    vault = PersonalDataVault(settings.master_key())
    async with engine.connect() as connection:
        rows = await connection.execute(
            select(WORKERS.c.id).where(
                WORKERS.c.id_number_hash == vault.lookup_hash("id_number", id_number)
            )
        )
        assert [row.id for row in rows] == [key_of(made[0])]


async def test_a_retry_with_one_key_returns_the_same_worker(gql: GraphQLClient) -> None:
    before = await worker_count(gql)
    values = worker_input(idempotencyKey=uuid.uuid4().hex)
    first = (await gql.ok(REGISTER, {"input": values}))["registerWorker"]
    second = (await gql.ok(REGISTER, {"input": values}))["registerWorker"]
    assert first["userErrors"] == second["userErrors"] == []
    assert first["worker"] == second["worker"]
    concurrent = worker_input(idempotencyKey=uuid.uuid4().hex)
    results = await asyncio.gather(*(gql.ok(REGISTER, {"input": concurrent}) for _ in range(4)))
    assert len({r["registerWorker"]["worker"]["id"] for r in results}) == 1
    assert await worker_count(gql) == before + 2
    reused = await gql.ok(REGISTER, {"input": {**values, "name": "张伟"}})
    assert codes(reused["registerWorker"]) == [
        (("input", "idempotencyKey"), "IDEMPOTENCY_KEY_REUSED")
    ]
    assert await worker_count(gql) == before + 2


async def test_registering_is_audited_with_the_fields_written(
    gql: GraphQLClient, settings: Settings
) -> None:
    staff = gql.as_(bearer(settings, "staff", region="440000"))
    worker = await registered(staff, phone=None, skills=[])
    audit = await gql.ok(AUDIT, {"id": worker["id"], "operation": "registerWorker"})
    [event] = audit["auditEvents"]["nodes"]
    assert event["actor"] == "staff:test-staff" and event["role"] == "staff"
    assert event["recordIds"] == [worker["id"]]
    assert "Worker.idNumber" in event["sensitiveFields"]
    assert "Worker.phone" not in event["sensitiveFields"]  # none was given


async def test_malformed_text_is_refused_before_anything_runs(gql: GraphQLClient) -> None:
    before = await worker_count(gql)
    for field in ("name", "idNumber", "phone", "hukouRegionCode"):
        result = await post(gql, REGISTER, {"input": worker_input(**{field: "王\ud800"})})
        assert result.status == 400 and "data" not in result.body, field
        refused(result, f"variable '$input.{field}'", "lone surrogate")
    assert await worker_count(gql) == before


# --- updating ---------------------------------------------------------------------------------


async def test_a_worker_changes_their_own_contact_region_education_and_skills(
    gql: GraphQLClient, engine: AsyncEngine, settings: Settings
) -> None:
    worker = await registered(gql, skills=["welding", "forklift"])
    async with engine.begin() as connection:  # a level staff set meanwhile is kept
        await connection.execute(
            text("UPDATE worker_skills SET level = 4 "
                 "WHERE worker_id = :w AND skill_code = 'welding'"),
            {"w": key_of(worker)},
        )
    self = gql.as_(bearer(settings, "worker", worker_id=worker["id"]))
    changed = await update(
        self, worker, phone="13912345678", currentRegionCode="510104",
        educationLevel="VOCATIONAL", skills=["welding", "cnc-lathe"], newEmploymentForm=True,
    )
    assert changed["userErrors"] == []
    after = changed["worker"]
    assert after == {
        **worker, "maskedPhone": "139****5678", "currentRegion": {"code": "510104"},
        "educationLevel": "VOCATIONAL", "newEmploymentForm": True, "version": 2,
        "skills": after["skills"],
    }
    assert sorted((s["skill"]["code"], s["level"]) for s in after["skills"]) == [
        ("cnc-lathe", 1), ("welding", 4)
    ]
    assert await read(gql, worker) == after
    row = await stored(engine, worker)
    vault = PersonalDataVault(settings.master_key())
    assert vault.decrypt("phone", row["phone_encrypted"]) == "13912345678"
    assert b"13912345678" not in row["phone_encrypted"]


async def test_fields_left_out_stay_and_null_clears_only_phone_and_current_region(
    gql: GraphQLClient, engine: AsyncEngine
) -> None:
    worker = await registered(gql)
    for field in ("name", "hukouRegionCode", "educationLevel", "skills", "newEmploymentForm"):
        denied = await update(gql, worker, **{field: None})
        assert codes(denied) == [(("input", field), "INVALID")], field
    assert (await update(gql, worker))["userErrors"][0]["code"] == "INVALID"  # nothing to change
    assert await read(gql, worker) == worker
    cleared = await update(gql, worker, phone=None, currentRegionCode=None)
    assert cleared["userErrors"] == []
    assert cleared["worker"] == {
        **worker, "maskedPhone": None, "currentRegion": None, "version": 2
    }
    row = await stored(engine, worker)
    assert (row["phone_encrypted"], row["phone_hash"], row["phone_masked"]) == (None, None, None)
    renamed = await update(gql, cleared["worker"], name=" 王建军 ", skills=[])
    assert renamed["worker"] == {**cleared["worker"], "name": "王建军", "skills": [], "version": 3}


async def test_a_worker_changes_neither_their_id_card_fields_nor_anyone_else(
    gql: GraphQLClient, settings: Settings
) -> None:
    worker, other = await registered(gql), await registered(gql)
    self = gql.as_(bearer(settings, "worker", worker_id=worker["id"]))
    denied = await update(self, worker, name="王二", hukouRegionCode="110105", phone="13800000000")
    assert sorted(codes(denied)) == [
        (("input", "hukouRegionCode"), "NOT_ALLOWED"), (("input", "name"), "NOT_ALLOWED")
    ]
    assert codes(await update(self, other, phone="13800000000")) == [
        (("input", "workerId"), "NOT_ALLOWED")
    ]
    assert [await read(gql, worker), await read(gql, other)] == [worker, other]


async def test_who_may_change_a_worker(
    gql: GraphQLClient, anonymous: GraphQLClient, http: httpx.AsyncClient, settings: Settings,
    database_url: str,
) -> None:
    worker = await registered(gql)  # hukou 民权县 (Henan), living in 宝安区 (Guangdong)
    for who, client in {
        "anonymous": anonymous,
        "employer": gql.as_(bearer(settings, "employer", employer_id="1")),
    }.items():
        denied = await update(client, worker, phone="13800000000")
        assert codes(denied) == [((), "NOT_ALLOWED")], who
    elsewhere = gql.as_(bearer(settings, "staff", region="510000"))
    assert codes(await update(elsewhere, worker, educationLevel="BACHELOR")) == [
        (("input", "workerId"), "NOT_FOUND")
    ]
    hukou_staff = gql.as_(bearer(settings, "staff", region="410000"))
    changed = await update(hukou_staff, worker, educationLevel="BACHELOR")
    assert changed["userErrors"] == [] and changed["worker"]["version"] == 2
    worker = changed["worker"]
    # Staff keep a worker within their division: moving both regions away is denied.
    local = gql.as_(bearer(settings, "staff", region="440000"))
    away = await update(local, worker, currentRegionCode="510104")
    assert codes(away) == [(("input", "currentRegionCode"), "NOT_ALLOWED")]
    assert await read(gql, worker) == worker
    purpose = f"update-test-{uuid.uuid4().hex[:12]}"
    async with consented_partner_key(
        settings, database_url, partner="update-test", scopes=["updateWorker"],
        regions=["440300"], types=["WorkerSkill"], purpose=purpose, consenting=False,
    ) as key:
        partner = GraphQLClient(http, {"x-api-key": key})
        unconsented = await update(partner, worker, phone="13800000000")
        assert codes(unconsented) == [(("input", "workerId"), "NOT_FOUND")]
        consent = """mutation ($input: RecordConsentInput!) { recordConsent(input: $input) {
          userErrors { code } } }"""
        self = gql.as_(bearer(settings, "worker", worker_id=worker["id"]))
        await self.ok(consent, {"input": {"purpose": purpose, "version": "v1"}})
        consented = await update(partner, worker, phone="13800000000")
        assert consented["userErrors"] == [] and consented["worker"]["version"] == 3
        moved = await update(partner, consented["worker"], currentRegionCode="510104")
        assert codes(moved) == [(("input", "currentRegionCode"), "NOT_ALLOWED")]
    assert (await read(gql, worker))["version"] == 3


async def test_a_stale_version_changes_nothing_and_racing_changes_change_once(
    gql: GraphQLClient,
) -> None:
    worker = await registered(gql)
    for version in (0, 2, 99):
        stale = await update(gql, {**worker, "version": version}, educationLevel="BACHELOR")
        assert codes(stale) == [(("input", "version"), "STALE_VERSION")], version
    assert await read(gql, worker) == worker
    results = await asyncio.gather(
        *(update(gql, worker, phone=f"1390000000{n}") for n in range(6))
    )
    done = [r for r in results if r["worker"] is not None]
    assert len(done) == 1 and done[0]["worker"]["version"] == 2
    assert {code for r in results if r["worker"] is None for _, code in codes(r)} == {
        "STALE_VERSION"
    }
    assert await read(gql, worker) == done[0]["worker"]


async def test_malformed_changes_are_named(gql: GraphQLClient) -> None:
    worker = await registered(gql)
    cases: list[tuple[dict[str, Any], tuple[str, ...], str]] = [
        ({"workerId": "Sm9iOjE="}, ("workerId",), "INVALID"),  # a Job's ID
        ({"workerId": base64.b64encode(b"Worker:01").decode()}, ("workerId",), "INVALID"),
        (
            {"workerId": base64.b64encode(b"Worker:999999999").decode(), "phone": None},
            ("workerId",), "NOT_FOUND",
        ),
        ({"phone": "1380013800"}, ("phone",), "INVALID"),
        ({"currentRegionCode": "4403"}, ("currentRegionCode",), "INVALID"),
        ({"hukouRegionCode": "999999"}, ("hukouRegionCode",), "NOT_FOUND"),
        ({"skills": ["welding", "nope"]}, ("skills", "1"), "NOT_FOUND"),
        ({"name": ""}, ("name",), "INVALID"),
    ]
    for changes, field, code in cases:
        result = await update(gql, worker, **changes)
        assert result["worker"] is None and (("input", *field), code) in codes(result), changes
    assert await read(gql, worker) == worker


async def test_a_change_is_audited_with_the_fields_given(gql: GraphQLClient) -> None:
    worker = await registered(gql)
    assert (await update(gql, worker, phone=None, educationLevel="PRIMARY"))["userErrors"] == []
    audit = await gql.ok(AUDIT, {"id": worker["id"], "operation": "updateWorker"})
    [event] = audit["auditEvents"]["nodes"]
    assert event["actor"] == "admin:test-admin"
    assert sorted(event["sensitiveFields"]) == ["Worker.educationLevel", "Worker.phone"]


async def test_an_id_number_may_carry_a_county_code_no_longer_in_use(gql: GraphQLClient) -> None:
    """DOMAIN.md's valid vectors carry county codes the region table does not have (340524,
    360426): an ID number keeps the code of where it was issued, so only its province (the
    first two digits) must exist."""
    for id_number in ("34052419800101001X", "360426199101010071"):
        result = await register(gql, idNumber=id_number)
        assert result["userErrors"] == [], result
        assert result["worker"]["maskedIdNumber"] == id_number[:6] + "********" + id_number[-4:]
