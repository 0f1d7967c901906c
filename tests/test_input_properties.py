"""Properties of malformed input, through the HTTP app: refused as BAD_USER_INPUT, never more.

For arbitrary mutations of valid global IDs and cursors (base64 flipped, padded, unpadded,
keys with leading zeros, other scripts' digits, huge numbers, JSON junk inside a cursor) and
arbitrary text (lone surrogates written as JSON escapes, control characters, NUL), date-times
and decimals, in every argument that takes them, the answer is data, or errors whose every
entry has `extensions.code == "BAD_USER_INPUT"`: never an internal error, never a 500.

Values go in variables, written as JSON text by `tests.raw_json.post` (so lone surrogates can
be sent), and some as literals in the document. Hypothesis runs derandomized with a bounded
number of examples; pytest-asyncio runs each example of an async `@given` test on the
session's event loop, where the app and its database pool live. Nothing here writes: the
mutations run as principals who may not write (a worker can't post a job, an employer can't
reveal an ID number or record a consent), which the API checks after it has read the input.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.settings import Settings
from tests.conftest import GraphQLClient, GraphQLResponse, bearer
from tests.hypothesis_support import hypothesis_storage  # noqa: F401 (a fixture)
from tests.raw_json import post

pytestmark = pytest.mark.usefixtures("hypothesis_storage")

EXAMPLES = 120
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=False,
)
# BAD_USER_INPUT: the input is refused; QUERY_TOO_COMPLEX: the cost limit, which prices a
# page size like `first: 20000` before the resolver could refuse it.
ANSWERABLE_CODES = {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX"}


def assert_answered(result: GraphQLResponse, sent: object) -> None:
    """Data, or only BAD_USER_INPUT errors (a 400 carries no data); never a server error."""
    assert result.status < 500, (sent, result.status, result.body)
    for error in result.errors:
        code = (error.get("extensions") or {}).get("code")
        assert code in ANSWERABLE_CODES, (sent, result.status, result.body)
    if result.status == 400:
        assert "data" not in result.body and result.errors, (sent, result.body)
    else:
        assert result.status == 200 and "data" in result.body, (sent, result.body)


def writable(value: object) -> bool:
    """Whether `value` can go into the document as a string literal here (see the notes)."""
    return isinstance(value, str) and not any("\ud800" <= char <= "\udfff" for char in value)


def storable(text: str) -> bool:
    """Whether PostgreSQL can store `text`: no NUL, and valid UTF-8 (no lone surrogates)."""
    return "\x00" not in text and writable(text)


# --- strategies -------------------------------------------------------------------------------

# Every category but surrogates, with control characters (NUL among them) drawn often.
PLAIN_TEXT = st.text(st.one_of(st.characters(), st.characters(max_codepoint=0x1F)), max_size=40)
WITH_SURROGATES = st.lists(  # (st.text drops surrogates from any alphabet, hence the join)
    st.one_of(st.characters(), st.characters(categories=["Cs"])), min_size=1, max_size=40
).map("".join)  # lone surrogates, sent as JSON `\ud800` escapes
TEXT = st.one_of(PLAIN_TEXT, WITH_SURROGATES)
ANY_DIGITS = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=24)
# Digits to str.isdigit() that int() refuses (superscripts), or reads (other scripts' digits).
TRICKY_DIGITS = st.text(st.sampled_from("0123²³¹⁰⁴₉①٥०۵१５"), min_size=1, max_size=6)
JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False), TEXT,
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_="


def b64(text: str) -> str:
    """Standard base64 of `text` (lone surrogates become the bytes UTF-8 would give them)."""
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()


@st.composite
def respelled(draw: st.DrawFn, encoded: str) -> str:
    """`encoded` with its base64 text changed: a character replaced, padding or white space."""
    how = draw(st.sampled_from(["replace", "strip", "pad", "space", "case", "cut"]))
    if how == "replace":
        index = draw(st.integers(0, len(encoded) - 1))
        char = draw(st.sampled_from(B64_ALPHABET))
        return encoded[:index] + char + encoded[index + 1 :]
    if how == "strip":
        return encoded.rstrip("=")
    if how == "pad":
        return encoded + "=" * draw(st.integers(1, 3))
    if how == "space":
        index = draw(st.integers(0, len(encoded)))
        space = draw(st.sampled_from([" ", "\n", "\t", "\u3000"]))
        return encoded[:index] + space + encoded[index:]
    if how == "case":
        return encoded.swapcase()
    return encoded[: draw(st.integers(0, len(encoded)))]


TYPE_NAMES = st.sampled_from([
    "Worker", "Employer", "Job", "Training", "InsuranceRecord", "Application", "Enrollment",
    "Region", "Industry", "Occupation", "Skill", "AuditEvent", "Consent", "JobIntention",
    "Spaceship", "", "worker",
])


def key_texts(key: int) -> st.SearchStrategy[str]:
    digits = str(key)
    return st.one_of(
        st.just(digits),
        st.integers(1, 3).map(lambda zeros: "0" * zeros + digits),
        st.sampled_from(["+", "-", " ", "\n"]).map(lambda sign: sign + digits),
        st.integers(min_value=2**63 - 2, max_value=10**40).map(str),
        st.integers(min_value=-(10**20), max_value=0).map(str),
        ANY_DIGITS,
        TRICKY_DIGITS,
        st.sampled_from(["1_0", "1e3", "0x1F", "9" * 5000]),
        TEXT,
    )


def global_ids(type_name: str, key: int) -> st.SearchStrategy[str]:
    """The canonical ID of `type_name:key`, and everything around it."""
    canonical = b64(f"{type_name}:{key}")
    same_type = key_texts(key).map(lambda k: b64(f"{type_name}:{k}"))
    any_type = st.builds(lambda t, k: b64(f"{t}:{k}"), TYPE_NAMES | TEXT, key_texts(key))
    tricky = TRICKY_DIGITS.map(lambda k: b64(f"{type_name}:{k}"))
    return st.one_of(
        st.just(canonical),
        same_type,
        tricky,
        any_type,
        respelled(canonical),
        same_type.flatmap(respelled),
        TEXT,
        TEXT.map(b64),
    )


def draw_id(data: st.DataObject, keys: dict[str, int], type_name: str) -> str:
    """One of `global_ids` around the seeded `type_name` whose key `keys` holds."""
    return data.draw(global_ids(type_name, keys[type_name]))


def offset(seconds: int) -> timezone:
    return timezone(timedelta(seconds=seconds))


CALENDAR = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59))
DATE_TIMES = st.one_of(
    st.builds(
        lambda moment, seconds: moment.replace(tzinfo=offset(seconds)).isoformat(),
        CALENDAR, st.integers(-86_399, 86_399),
    ),
    st.builds(lambda moment: moment.replace(tzinfo=UTC).isoformat(), CALENDAR),
    CALENDAR.map(datetime.isoformat),  # naive
    st.dates().map(lambda day: day.isoformat()),
    st.sampled_from([
        "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T24:00:00+00:00",
        "2026-01-01T00:00:00", "2026-02-30T00:00:00+08:00", "2026-01-01T00:00:00+24:00",
        "2026-01-01T00:00:00.1234567+08:00", "２０２６-01-01T00:00:00+08:00", "now",
    ]),
    TEXT,
    JSON_SCALARS,
)
DECIMALS = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.decimals(min_value=-(10**12), max_value=10**12, places=3).map(str),
    st.builds(lambda m, e: f"{m}e{e}", st.integers(-(10**6), 10**6), st.integers(-(10**7), 10**7)),
    st.floats(), st.integers(min_value=-(10**60), max_value=10**60),
    st.sampled_from(["1e999999", "NaN", "-Infinity", "sNaN", "5_000", " 5000", "٥٠٠٠", "0x10"]),
    TEXT,
    st.booleans(),
)
PAGE_SIZES = st.one_of(st.none(), st.integers(min_value=-(2**31), max_value=2**31 - 1))


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def keys(gql: GraphQLClient) -> dict[str, int]:
    data = await gql.ok(
        "{ workers(first: 1) { nodes { id } } employers(first: 1) { nodes { id } } "
        "jobs(first: 1) { nodes { id } } }"
    )
    found = {}
    for field in ("workers", "employers", "jobs"):
        type_name, key = base64.b64decode(data[field]["nodes"][0]["id"]).decode().split(":")
        found[type_name] = int(key)
    return found


@pytest.fixture(scope="module")
async def employer(gql: GraphQLClient) -> dict[str, str]:
    data = await gql.ok("{ employers(first: 1) { nodes { id region { code } } } }")
    node = data["employers"]["nodes"][0]
    return {"id": node["id"], "region": node["region"]["code"]}


@pytest.fixture(scope="module")
def idempotency_key() -> str:
    return f"input-properties-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def as_worker(gql: GraphQLClient, settings: Settings) -> GraphQLClient:
    return gql.as_(bearer(settings, "worker", worker_id="1"))


@pytest.fixture(scope="module")
def as_employer(gql: GraphQLClient, settings: Settings, keys: dict[str, int]) -> GraphQLClient:
    return gql.as_(bearer(settings, "employer", employer_id=str(keys["Employer"])))


LISTS = {
    "posted_at:desc": ("jobs", "JobOrder", {"field": "POSTED_AT", "direction": "DESC"}),
    "salary_max:asc": ("jobs", "JobOrder", {"field": "SALARY_MAX", "direction": "ASC"}),
    "name:asc": ("workers", "WorkerOrder", {"field": "NAME", "direction": "ASC"}),
    "starts_on:desc": ("trainings", "TrainingOrder", {"field": "STARTS_ON", "direction": "DESC"}),
    "period:desc": ("insuranceRecords", "InsuranceRecordOrder", {"field": "PERIOD"}),
}


def page_query(field: str, order_type: str) -> str:
    return f"""query ($first: Int, $after: String, $last: Int, $before: String, $o: {order_type}) {{
      {field}(first: $first, after: $after, last: $last, before: $before, orderBy: $o) {{
        pageInfo {{ endCursor }} nodes {{ id }} }} }}"""


@pytest.fixture(scope="module")
async def cursors(gql: GraphQLClient) -> dict[str, str]:
    found = {}
    for name, (field, order_type, order) in LISTS.items():
        data = await gql.ok(page_query(field, order_type), {"first": 2, "o": order})
        found[name] = data[field]["pageInfo"]["endCursor"]
        assert json.loads(base64.urlsafe_b64decode(found[name]))[0] == name
    return found


# --- global IDs -------------------------------------------------------------------------------


@PROPERTY
@given(data=st.data())
async def test_node_answers_any_id_and_only_its_own_id_finds_an_object(
    gql: GraphQLClient, keys: dict[str, int], data: st.DataObject
) -> None:
    type_name = data.draw(st.sampled_from(sorted(keys)))
    sent = draw_id(data, keys, type_name)
    result = await post(gql, "query ($id: ID!) { node(id: $id) { id } }", {"id": sent})
    assert_answered(result, sent)
    found = (result.data or {}).get("node")
    assert found is None or found["id"] == sent, (sent, found)  # one spelling per object
    listed = await post(gql, "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }",
                        {"ids": [b64(f"{type_name}:{keys[type_name]}"), sent]})
    assert_answered(listed, sent)


@PROPERTY
@given(data=st.data())
async def test_id_filters_answer_any_id(
    gql: GraphQLClient, keys: dict[str, int], data: st.DataObject
) -> None:
    worker, employer = draw_id(data, keys, "Worker"), draw_id(data, keys, "Employer")
    result = await post(
        gql,
        """query ($w: ID, $e: ID) {
          insuranceRecords(filter: {workerId: $w, employerId: $e}) { totalCount }
          jobs(filter: {employerId: $e}) { totalCount }
          auditEvents(filter: {recordId: $w}) { totalCount } }""",
        {"w": worker, "e": employer},
    )
    assert_answered(result, (worker, employer))


@PROPERTY
@given(data=st.data())
async def test_mutations_answer_any_id(
    as_worker: GraphQLClient, as_employer: GraphQLClient, keys: dict[str, int],
    employer: dict[str, str], data: st.DataObject,
) -> None:
    worker, employer_id = draw_id(data, keys, "Worker"), draw_id(data, keys, "Employer")
    reveal = await post(
        as_employer,
        """mutation ($id: ID!) { revealIdNumber(input: {workerId: $id, purpose: "checks"}) {
          idNumber userErrors { field code } } }""",
        {"id": worker},
    )
    assert_answered(reveal, worker)
    assert reveal.status == 400 or reveal.data["revealIdNumber"]["idNumber"] is None
    consent = await post(
        as_employer,
        """mutation ($id: ID) { recordConsent(input: {workerId: $id, purpose: "job-matching",
          version: "1"}) { consent { id } userErrors { field code } } }""",
        {"id": worker},
    )
    assert_answered(consent, worker)
    created = await post(as_worker, CREATE_JOB,
                         {"input": job_input(employer, employerId=employer_id)})
    assert_answered(created, employer_id)
    assert created.status == 400 or created.data["createJob"]["job"] is None


# --- cursors ----------------------------------------------------------------------------------


@st.composite
def mutated_cursors(draw: st.DrawFn, cursor: str) -> str:
    parts = json.loads(base64.urlsafe_b64decode(cursor))
    how = draw(st.sampled_from(["part", "parts", "text", "respelled", "junk"]))
    if how == "part":
        index = draw(st.integers(0, len(parts) - 1))
        parts[index] = draw(st.one_of(JSON_VALUES, DATE_TIMES, DECIMALS, key_texts(parts[2])))
    elif how == "parts":
        parts = draw(st.one_of(st.lists(JSON_VALUES, max_size=5), JSON_VALUES))
    elif how == "text":
        return draw(TEXT)
    elif how == "respelled":
        return draw(respelled(cursor))
    else:
        raw = draw(st.one_of(st.binary(max_size=60), TEXT.map(lambda t: b64(t).encode())))
        return base64.urlsafe_b64encode(raw).decode()
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


@PROPERTY
@given(data=st.data())
async def test_lists_answer_any_cursor_and_page_size(
    gql: GraphQLClient, cursors: dict[str, str], data: st.DataObject
) -> None:
    name = data.draw(st.sampled_from(sorted(LISTS)))
    field, order_type, order = LISTS[name]
    other_name = data.draw(st.sampled_from(sorted(LISTS)))
    cursor = data.draw(st.one_of(
        mutated_cursors(cursors[name]), st.just(cursors[other_name]), st.just(cursors[name])
    ))
    backward = data.draw(st.booleans())
    size = data.draw(PAGE_SIZES)
    variables: dict[str, Any] = {"o": order}
    variables.update({"last": size, "before": cursor} if backward else {"first": size,
                                                                        "after": cursor})
    if data.draw(st.booleans()):  # both directions at once, or a size without a direction
        variables[data.draw(st.sampled_from(["first", "last"]))] = data.draw(PAGE_SIZES)
    if data.draw(st.booleans()):
        variables[data.draw(st.sampled_from(["after", "before"]))] = cursor
    result = await post(gql, page_query(field, order_type), variables)
    assert_answered(result, variables)


# --- text -------------------------------------------------------------------------------------

JOB_TEXT_FILTER = """query ($k: String, $r: String, $o: String, $i: String) {
  jobs(filter: {keyword: $k, regionCode: $r, occupationCode: $o, industryCode: $i}) {
    totalCount } }"""


@PROPERTY
@given(text=TEXT, field=st.sampled_from(["k", "r", "o", "i"]))
async def test_text_arguments_answer_any_text(gql: GraphQLClient, text: str, field: str) -> None:
    result = await post(gql, JOB_TEXT_FILTER, {field: text})
    assert_answered(result, text)
    reference = await post(
        gql,
        """query ($t: String!) { region(code: $t) { code } regions(parentCode: $t) { code }
          industries(section: $t) { code } workers(filter: {keyword: $t}) { totalCount }
          trainings(filter: {keyword: $t, regionCode: $t}) { totalCount } }""",
        {"t": text},
    )
    assert_answered(reference, text)
    if writable(text):  # the same text written into the document
        literal = json.dumps(text, ensure_ascii=False)
        inline = await post(
            gql,
            f"{{ jobs(filter: {{keyword: {literal}, regionCode: {literal}}}) {{ totalCount }} "
            f"region(code: {literal}) {{ code }} }}",
        )
        assert_answered(inline, text)


CREATE_JOB = """mutation ($input: CreateJobInput!) { createJob(input: $input) {
  job { id } userErrors { field code } } }"""


def job_input(employer: dict[str, str], **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "employerId": employer["id"], "title": f"普工 {uuid.uuid4().hex[:8]}",
        "regionCode": employer["region"],
        "salaryMin": "5000", "salaryMax": "7000", "salaryUnit": "MONTH", "headcount": 1,
        "employmentType": "FULL_TIME",
    }
    return {**values, **changes}


@PROPERTY
@given(
    text=TEXT,
    field=st.sampled_from(["title", "description", "regionCode", "occupationCode",
                           "industryCode", "idempotencyKey"]),
)
async def test_create_job_answers_any_text(
    gql: GraphQLClient, as_worker: GraphQLClient, employer: dict[str, str],
    idempotency_key: str, text: str, field: str,
) -> None:
    """An admin may post: requests carry one idempotency key, so at most one job is ever
    created (later valid inputs differ and are refused as a reused key). The key itself is
    varied by a worker, who may not post."""
    if field == "idempotencyKey":
        client, values = as_worker, job_input(employer, idempotencyKey=text)
    else:
        # Text PostgreSQL can't store gets a key of its own: nothing else may stop it short.
        key = idempotency_key if storable(text) else uuid.uuid4().hex
        client, values = gql, job_input(employer, idempotencyKey=key, **{field: text})
    result = await post(client, CREATE_JOB, {"input": values})
    assert_answered(result, text)


# --- date-times and decimals ------------------------------------------------------------------


@PROPERTY
@given(low=DATE_TIMES, high=DATE_TIMES, as_literal=st.booleans())
async def test_date_time_arguments_answer_any_value(
    gql: GraphQLClient, as_worker: GraphQLClient, employer: dict[str, str], low: Any, high: Any,
    as_literal: bool,
) -> None:
    if as_literal and writable(low) and writable(high):
        a, b = json.dumps(low, ensure_ascii=False), json.dumps(high, ensure_ascii=False)
        result = await post(
            gql, f"{{ jobs(filter: {{postedAfter: {a}, postedBefore: {b}}}) {{ totalCount }} }}"
        )
    else:
        result = await post(
            gql,
            """query ($a: DateTime, $b: DateTime) {
              jobs(filter: {postedAfter: $a, postedBefore: $b}) { totalCount }
              auditEvents(filter: {from: $a, to: $b}) { totalCount } }""",
            {"a": low, "b": high},
        )
    assert_answered(result, (low, high))
    created = await post(as_worker, CREATE_JOB,
                         {"input": job_input(employer, postedAt=low, validThrough=high)})
    assert_answered(created, (low, high))
    days = await post(
        gql, "query ($a: Date, $b: Date) { trainings(filter: {from: $a, to: $b}) { totalCount } }",
        {"a": low, "b": high[:10] if isinstance(high, str) else high},
    )
    assert_answered(days, (low, high))


@PROPERTY
@given(low=DECIMALS, high=DECIMALS, as_literal=st.booleans())
async def test_decimal_arguments_answer_any_value(
    gql: GraphQLClient, as_worker: GraphQLClient, employer: dict[str, str], low: Any, high: Any,
    as_literal: bool,
) -> None:
    if as_literal and writable(low):
        result = await post(
            gql, f"{{ jobs(filter: {{salaryMin: {json.dumps(low, ensure_ascii=False)}}}) "
                 "{ totalCount } }",
        )
    else:
        result = await post(
            gql, "query ($a: Decimal, $b: Decimal) { jobs(filter: {salaryMin: $a, salaryMax: $b}) "
                 "{ totalCount } }",
            {"a": low, "b": high},
        )
    assert_answered(result, (low, high))
    created = await post(as_worker, CREATE_JOB,
                         {"input": job_input(employer, salaryMin=low, salaryMax=high)})
    assert_answered(created, (low, high))
