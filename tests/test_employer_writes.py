"""registerEmployer, updateEmployer, verifyEmployer: who may, the credit code (GB 32100) and
the other fields named when wrong, DUPLICATE codes (raced too), retries, versions."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import httpx
import pytest

from db.codes import generate_credit_code
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer
from tests.partners import consented_partner_key
from tests.postings import Employer, codes, seeded_employers

EMPLOYER = "id name creditCode size isPlatform verifiedAt version region { code } industry { code }"
REGISTER = f"""mutation ($input: RegisterEmployerInput!) {{ registerEmployer(input: $input) {{
  employer {{ {EMPLOYER} }} userErrors {{ field code message }} }} }}"""
UPDATE = f"""mutation ($input: UpdateEmployerInput!) {{ updateEmployer(input: $input) {{
  employer {{ {EMPLOYER} }} userErrors {{ field code message }} }} }}"""
VERIFY = f"""mutation ($input: VerifyEmployerInput!) {{ verifyEmployer(input: $input) {{
  employer {{ {EMPLOYER} }} userErrors {{ field code message }} }} }}"""
READ = f"query ($id: ID!) {{ node(id: $id) {{ ... on Employer {{ {EMPLOYER} }} }} }}"


@pytest.fixture(scope="module")
async def employers(gql: GraphQLClient) -> list[Employer]:
    return await seeded_employers(gql)


def new_code(region: str) -> str:
    return generate_credit_code(region[:2] + "0000", random.randrange(31**9))


def values(employer: Employer, **changes: Any) -> dict[str, Any]:
    given = {
        "name": f"深圳市测试科技有限公司{uuid.uuid4().hex[:6]}",
        "creditCode": new_code(employer.region),
        "industryCode": "C", "regionCode": employer.region, "size": "SMALL",
    }
    return {**given, **changes}


async def run(client: GraphQLClient, mutation: str, **given: Any) -> Any:
    data = await client.ok(mutation, {"input": given})
    return next(iter(data.values()))


async def register(client: GraphQLClient, employer: Employer, **changes: Any) -> Any:
    made = await run(client, REGISTER, **values(employer, **changes))
    assert made["userErrors"] == [], made
    return made["employer"]


async def test_staff_register_an_employer_of_their_division(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    staff = gql.as_(bearer(settings, "staff", region=employers[0].province))
    given = values(employers[0], isPlatform=True, name="  美团配送站  ")
    given["creditCode"] = given["creditCode"].lower()  # normalised
    made = await run(staff, REGISTER, **given)
    assert made["userErrors"] == []
    employer = made["employer"]
    assert employer["name"] == "美团配送站"
    assert employer["creditCode"] == given["creditCode"].upper()
    assert (employer["isPlatform"], employer["verifiedAt"], employer["version"]) == (True, None, 1)
    assert (await gql.ok(READ, {"id": employer["id"]}))["node"] == employer


async def test_each_invalid_field_is_named(gql: GraphQLClient, employers: list[Employer]) -> None:
    valid = "91110000600037341L"
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"name": "  "}, "name", "INVALID"),
        ({"name": "厂" * 129}, "name", "INVALID"),
        ({"creditCode": "91110000600037341M"}, "creditCode", "INVALID"),  # check character
        ({"creditCode": valid[:17]}, "creditCode", "INVALID"),
        ({"creditCode": "9111000060003734IL"}, "creditCode", "INVALID"),  # I is no code char
        ({"creditCode": "91AB00006000373410"[:17] + "0"}, "creditCode", "INVALID"),
        ({"industryCode": "Z9"}, "industryCode", "INVALID"),
        ({"industryCode": "T9999"}, "industryCode", "NOT_FOUND"),
        ({"regionCode": "44030"}, "regionCode", "INVALID"),
        ({"regionCode": "999999"}, "regionCode", "NOT_FOUND"),
        ({"idempotencyKey": ""}, "idempotencyKey", "INVALID"),
    ]
    for changes, field, code in cases:
        refused = await run(gql, REGISTER, **values(employers[0], **changes))
        assert refused["employer"] is None, changes
        assert (("input", field), code) in codes(refused), (changes, refused["userErrors"])


async def test_a_credit_code_is_registered_once_even_when_raced(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    first = await register(gql, employers[0])
    again = await run(gql, REGISTER, **values(employers[0], creditCode=first["creditCode"]))
    assert again["employer"] is None and codes(again) == [(("input", "creditCode"), "DUPLICATE")]
    code = new_code(employers[0].region)
    raced = await asyncio.gather(*(
        run(gql, REGISTER, **values(employers[0], creditCode=code)) for _ in range(4)
    ))
    assert sum(r["employer"] is not None for r in raced) == 1
    assert [codes(r) for r in raced if r["employer"] is None] == [
        [(("input", "creditCode"), "DUPLICATE")]
    ] * 3


async def test_a_retry_returns_the_same_employer(
    gql: GraphQLClient, employers: list[Employer]
) -> None:
    given = values(employers[0], idempotencyKey=uuid.uuid4().hex)
    first, second = [await run(gql, REGISTER, **given) for _ in range(2)]
    assert first == second and first["userErrors"] == []
    reused = await run(gql, REGISTER, **{**given, "size": "LARGE"})
    assert codes(reused) == [(("input", "idempotencyKey"), "IDEMPOTENCY_KEY_REUSED")]


async def test_who_may_register(
    gql: GraphQLClient, anonymous: GraphQLClient, http: httpx.AsyncClient, settings: Settings,
    database_url: str, employers: list[Employer],
) -> None:
    home, away = employers
    refusals = {
        "anonymous": (anonymous, ((), "NOT_ALLOWED")),
        "a worker": (gql.as_(bearer(settings, "worker", worker_id="1")), ((), "NOT_ALLOWED")),
        "an employer": (
            gql.as_(bearer(settings, "employer", employer_id=home.id)), ((), "NOT_ALLOWED")
        ),
        "staff elsewhere": (
            gql.as_(bearer(settings, "staff", region=away.province)),
            (("input", "regionCode"), "NOT_ALLOWED"),
        ),
    }
    for who, (client, refusal) in refusals.items():
        assert codes(await run(client, REGISTER, **values(home))) == [refusal], who
    async with consented_partner_key(
        settings, database_url, partner="employer-registrar", scopes=["registerEmployer"],
        regions=[home.province],
    ) as key:
        partner = GraphQLClient(http, {"x-api-key": key})
        assert (await run(partner, REGISTER, **values(home)))["userErrors"] == []
        outside = await run(partner, REGISTER, **values(away))
        assert codes(outside) == [(("input", "regionCode"), "NOT_ALLOWED")]


async def test_an_employer_changes_itself_and_a_new_name_unsets_verification(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    made = await register(gql, employers[0])
    staff = gql.as_(bearer(settings, "staff", region=employers[0].province))
    verified = await run(staff, VERIFY, employerId=made["id"], version=1)
    assert verified["userErrors"] == [] and verified["employer"]["verifiedAt"] is not None
    itself = gql.as_(bearer(settings, "employer", employer_id=made["id"]))
    sized = await run(itself, UPDATE, employerId=made["id"], version=2, size="MEDIUM")
    assert sized["employer"]["size"] == "MEDIUM" and sized["employer"]["verifiedAt"] is not None
    renamed = await run(itself, UPDATE, employerId=made["id"], version=3, name="新名字有限公司")
    assert renamed["employer"]["verifiedAt"] is None and renamed["employer"]["version"] == 4
    stale = await run(itself, UPDATE, employerId=made["id"], version=3, size="LARGE")
    assert codes(stale) == [(("input", "version"), "STALE_VERSION")]
    for changes, field in (({}, None), ({"industryCode": "1"}, "industryCode")):
        refused = await run(itself, UPDATE, employerId=made["id"], version=4, **changes)
        assert codes(refused) == [((("input", field) if field else ()), "INVALID")]
    assert (await gql.ok(READ, {"id": made["id"]}))["node"] == renamed["employer"]


async def test_who_may_change_or_verify_an_employer(
    gql: GraphQLClient, settings: Settings, employers: list[Employer]
) -> None:
    home, away = employers
    made = await register(gql, home)
    another = gql.as_(bearer(settings, "employer", employer_id=away.id))
    refused = await run(another, UPDATE, employerId=made["id"], version=1, size="LARGE")
    assert codes(refused) == [(("input", "employerId"), "NOT_ALLOWED")]
    elsewhere = gql.as_(bearer(settings, "staff", region=away.province))
    for mutation, extra in ((UPDATE, {"size": "LARGE"}), (VERIFY, {})):
        refused = await run(elsewhere, mutation, employerId=made["id"], version=1, **extra)
        assert codes(refused) == [(("input", "employerId"), "NOT_ALLOWED")]
    itself = gql.as_(bearer(settings, "employer", employer_id=made["id"]))
    assert codes(await run(itself, VERIFY, employerId=made["id"], version=1)) == [
        ((), "NOT_ALLOWED")
    ]
    moved = await run(
        gql.as_(bearer(settings, "staff", region=home.province)), UPDATE,
        employerId=made["id"], version=1, regionCode=away.region,
    )
    assert codes(moved) == [(("input", "regionCode"), "NOT_ALLOWED")]
    bad = await run(gql, VERIFY, employerId="Sm9iOjE=", version=1)
    assert codes(bad) == [(("input", "employerId"), "INVALID")]
    missing = await run(gql, VERIFY, employerId="RW1wbG95ZXI6OTk5OTk5OQ==", version=1)
    assert codes(missing) == [(("input", "employerId"), "NOT_FOUND")]
    assert (await gql.ok(READ, {"id": made["id"]}))["node"] == made
