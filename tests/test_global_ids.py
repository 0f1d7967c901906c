"""Global IDs are accepted only as the one spelling the API gives out, wherever they go."""

from __future__ import annotations

import base64
import uuid

import pytest

from resolvers.global_ids import decode_int_id
from tests.conftest import GraphQLClient
from tests.raw_json import refused

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def respellings(type_name: str, key: int) -> list[str]:
    """Other ways to write `type_name:key` that some decoder might take for the same record."""
    digits = str(key)
    canonical = b64(f"{type_name}:{digits}")
    keys = [
        f"0{digits}", f"00{digits}", f"+{digits}", f" {digits}", f"{digits} ", f"{digits}\n",
        digits.translate(ARABIC_INDIC), digits.translate(FULLWIDTH),
        f"{digits[0]}_{digits[1:]}" if len(digits) > 1 else f"{digits}_0",
    ]
    spellings = [b64(f"{type_name}:{k}") for k in keys]
    spellings += [canonical.rstrip("="), f" {canonical}", f"{canonical}\n", canonical + "=="]
    spellings += _unused_bit_variants(canonical)
    return [s for s in spellings if s != canonical]


def _unused_bit_variants(encoded: str) -> list[str]:
    """The same bytes with other values in the padding bits of the last base64 character."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    data = encoded.rstrip("=")
    padding = encoded[len(data):]
    raw = base64.b64decode(encoded)
    found = []
    for char in alphabet:
        candidate = data[:-1] + char + padding
        if base64.b64decode(candidate) == raw:
            found.append(candidate)
    return found


@pytest.fixture(scope="module")
async def worker_key(gql: GraphQLClient) -> int:
    """A worker without applications: other tests count the audit events of those who have."""
    workers = await gql.ok(
        "{ workers(first: 100) { nodes { id applications(first: 0) { totalCount } } } }"
    )
    worker = next(
        w for w in workers["workers"]["nodes"] if w["applications"]["totalCount"] == 0
    )
    type_name, key = base64.b64decode(worker["id"]).decode().split(":")
    assert type_name == "Worker"
    return int(key)


NODE = "query ($id: ID!) { node(id: $id) { id } }"


async def test_node_refuses_every_other_spelling_of_an_id(
    gql: GraphQLClient, worker_key: int
) -> None:
    canonical = b64(f"Worker:{worker_key}")
    assert (await gql.ok(NODE, {"id": canonical}))["node"] == {"id": canonical}
    # `Worker:1` is 8 bytes: its last base64 character carries 2 unused bits, 3 other values.
    stray_bits = [s for s in _unused_bit_variants(b64("Worker:1")) if s != b64("Worker:1")]
    assert len(stray_bits) == 3
    for spelling in [*respellings("Worker", worker_key), *stray_bits]:
        refused(await gql(NODE, {"id": spelling}), "'id'")


async def test_digits_python_takes_for_digits_but_int_does_not(gql: GraphQLClient) -> None:
    """`'²'.isdigit()` is true and `int('²')` raises: these were internal errors."""
    for key in ("²", "¹", "1²", "٥٧٧", "１"):
        refused(await gql(NODE, {"id": b64(f"Worker:{key}")}), "'id'")
        listed = await gql("query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                           {"ids": [b64("Worker:1"), b64(f"Job:{key}")]})
        refused(listed, "'ids[1]'")
        jobs = await gql("query ($id: ID) { jobs(filter: {employerId: $id}) { totalCount } }",
                         {"id": b64(f"Employer:{key}")})
        refused(jobs, "'filter.employerId'")


async def test_huge_and_out_of_range_keys_are_refused(gql: GraphQLClient) -> None:
    for key in (str(2**63), "9" * 19, "9" * 5000):
        refused(await gql(NODE, {"id": b64(f"Job:{key}")}), "'id'")
    assert (await gql.ok(NODE, {"id": b64(f"Job:{2**63 - 1}")}))["node"] is None


async def test_code_keys_must_be_codes_the_type_can_have(gql: GraphQLClient) -> None:
    region = b64("Region:440000")
    assert (await gql.ok(NODE, {"id": region}))["node"] == {"id": region}
    for key in ("44000", "4400000", "abc", "44000０", " 440000", "440000\n"):
        refused(await gql(NODE, {"id": b64(f"Region:{key}")}), "'id'")
    for type_name, key in (("Industry", "c"), ("Occupation", "4-02-07"), ("Skill", "焊接")):
        refused(await gql(NODE, {"id": b64(f"{type_name}:{key}")}), "'id'")
    # A well-formed key that names nothing is not an error, only absent; so is an unknown type.
    for absent in ("Region:999999", "Industry:T99", "Spaceship:1"):
        assert (await gql.ok(NODE, {"id": b64(absent)}))["node"] is None


async def test_filters_refuse_other_spellings(gql: GraphQLClient) -> None:
    query = """query ($id: ID) { insuranceRecords(filter: {workerId: $id}) { totalCount } }"""
    some = await gql.ok("{ insuranceRecords(first: 1) { nodes { worker { id } } } }")
    insured = some["insuranceRecords"]["nodes"][0]["worker"]["id"]  # a worker with records
    canonical = await gql.ok(query, {"id": insured})
    every = await gql.ok("{ insuranceRecords { totalCount } }")
    assert 0 < canonical["insuranceRecords"]["totalCount"] < every["insuranceRecords"]["totalCount"]
    for spelling in respellings("Worker", decode_int_id(insured, "Worker", "id")):
        refused(await gql(query, {"id": spelling}), "'filter.workerId'")


REVEAL = """mutation ($id: ID!, $purpose: String!) {
  revealIdNumber(input: {workerId: $id, purpose: $purpose}) {
    idNumber userErrors { field code } } }"""
AUDITED = """query ($id: ID!) { auditEvents(first: 100, filter: {recordId: $id}) {
  nodes { recordIds purpose } } }"""


async def test_reveals_happen_and_are_audited_only_under_the_canonical_id(
    gql: GraphQLClient, worker_key: int
) -> None:
    purpose = f"respelled-{uuid.uuid4().hex[:8]}"
    for spelling in [*respellings("Worker", worker_key), b64("Worker:²"), b64("Worker:¹")]:
        result = await gql.ok(REVEAL, {"id": spelling, "purpose": purpose})
        assert result["revealIdNumber"] == {
            "idNumber": None, "userErrors": [{"field": ["input", "workerId"], "code": "INVALID"}]
        }, spelling
        refused(await gql(AUDITED, {"id": spelling}), "'filter.recordId'")
    canonical = b64(f"Worker:{worker_key}")
    events = (await gql.ok(AUDITED, {"id": canonical}))["auditEvents"]["nodes"]
    assert all(event["purpose"] != purpose for event in events)

    revealed = (await gql.ok(REVEAL, {"id": canonical, "purpose": purpose}))["revealIdNumber"]
    assert revealed["userErrors"] == [] and revealed["idNumber"]
    events = (await gql.ok(AUDITED, {"id": canonical}))["auditEvents"]["nodes"]
    assert {"recordIds": [canonical], "purpose": purpose} in events
