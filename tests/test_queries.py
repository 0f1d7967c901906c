"""Reads of the core contract: filters, relations both ways, node/nodes, reference data."""

from __future__ import annotations

import base64
from decimal import Decimal

from tests.conftest import GraphQLClient
from tests.raw_json import post, refused


async def test_region_filter_matches_everything_under_a_province(gql: GraphQLClient) -> None:
    query = """query ($code: String!) {
      jobs(first: 100, filter: {regionCode: $code}) { totalCount nodes { region { code } } }
    }"""
    everything = (await gql.ok("{ jobs { totalCount } }"))["jobs"]["totalCount"]
    provinces = await gql.ok("{ regions { code } }")
    counted = 0
    for province in provinces["regions"]:
        jobs = (await gql.ok(query, {"code": province["code"]}))["jobs"]
        assert all(n["region"]["code"][:2] == province["code"][:2] for n in jobs["nodes"])
        counted += jobs["totalCount"]
    assert counted == everything > 0


async def test_region_filter_on_a_prefecture(gql: GraphQLClient) -> None:
    data = await gql.ok("{ jobs(first: 100) { nodes { region { code level parent { code } } } } }")
    prefecture = next(
        n["region"]["parent"]["code"] for n in data["jobs"]["nodes"]
        if n["region"]["level"] == "COUNTY"
    )
    filtered = await gql.ok(
        "query ($c: String!) { jobs(first: 100, filter: {regionCode: $c}) "
        "{ totalCount nodes { region { code } } } }",
        {"c": prefecture},
    )
    codes = [n["region"]["code"] for n in filtered["jobs"]["nodes"]]
    assert codes and all(code.startswith(prefecture[:4]) for code in codes)


async def test_unknown_region_code_is_an_error_naming_the_field(gql: GraphQLClient) -> None:
    for code, problem in (("999999", "unknown region code"), ("44", "6-digit")):
        result = await gql(
            "query ($c: String!) { jobs(filter: {regionCode: $c}) { totalCount } }", {"c": code}
        )
        message = result.errors[0]["message"]
        assert "filter.regionCode" in message and problem in message


async def test_job_filters_combine(gql: GraphQLClient) -> None:
    data = await gql.ok(
        """{ jobs(first: 100, filter: {status: PUBLISHED, salaryMin: "6000",
             salaryUnit: MONTH, keyword: "工"}) {
               totalCount nodes { status salaryMin salaryMax salaryUnit title description
                                  employer { name } occupation { name } } } }"""
    )
    assert data["jobs"]["nodes"], "the filters match some jobs"
    for job in data["jobs"]["nodes"]:
        assert job["status"] == "PUBLISHED" and job["salaryUnit"] == "MONTH"
        texts = (job["title"], job["description"], job["employer"]["name"],
                 (job["occupation"] or {}).get("name", ""))
        assert Decimal(job["salaryMax"]) >= 6000 and any("工" in text for text in texts)
    unfiltered = await gql.ok("{ jobs { totalCount } }")
    assert data["jobs"]["totalCount"] < unfiltered["jobs"]["totalCount"]


async def test_posted_after_filter(gql: GraphQLClient) -> None:
    jobs = (await gql.ok("{ jobs(first: 100) { nodes { postedAt } } }"))["jobs"]["nodes"]
    middle = sorted(j["postedAt"] for j in jobs)[len(jobs) // 2]
    later = await gql.ok(
        "query ($t: DateTime!) { jobs(first: 100, filter: {postedAfter: $t}) "
        "{ nodes { postedAt } } }",
        {"t": middle},
    )
    posted = [j["postedAt"] for j in later["jobs"]["nodes"]]
    assert posted and all(p >= middle for p in posted)
    assert len(posted) < len(jobs)


async def test_industry_section_matches_its_divisions(gql: GraphQLClient) -> None:
    data = await gql.ok(
        '{ employers(first: 100, filter: {industryCode: "C"}) { nodes { industry { code } } } }'
    )
    codes = [n["industry"]["code"] for n in data["employers"]["nodes"]]
    assert codes and all(code.startswith("C") for code in codes)


async def test_relations_both_ways(gql: GraphQLClient) -> None:
    data = await gql.ok(
        """{ employers(first: 10) { nodes { id jobs(first: 10) { totalCount nodes {
             id employer { id } applications(first: 10) { nodes { id job { id }
             worker { id applications(first: 10) { nodes { id } } } } } } } } } }"""
    )
    saw_application = False
    for employer in data["employers"]["nodes"]:
        assert min(employer["jobs"]["totalCount"], 10) == len(employer["jobs"]["nodes"])
        for job in employer["jobs"]["nodes"]:
            assert job["employer"]["id"] == employer["id"]
            for application in job["applications"]["nodes"]:
                saw_application = True
                assert application["job"]["id"] == job["id"]
                mine = [a["id"] for a in application["worker"]["applications"]["nodes"]]
                assert application["id"] in mine
    assert saw_application


async def test_training_enrollments_both_ways(gql: GraphQLClient) -> None:
    data = await gql.ok(
        """{ trainings(first: 10) { nodes { id capacity enrolledCount
             enrollments(first: 40) { totalCount nodes { status training { id }
             worker { enrollments(first: 10) { nodes { training { id } } } } } } } } }"""
    )
    trainings = data["trainings"]["nodes"]
    assert any(t["enrollments"]["totalCount"] for t in trainings)
    for training in trainings:
        enrollments = training["enrollments"]
        assert enrollments["totalCount"] == len(enrollments["nodes"]), "page holds them all"
        active = [e for e in enrollments["nodes"] if e["status"] != "DROPPED"]
        assert training["enrolledCount"] == len(active)
        for enrollment in enrollments["nodes"]:
            assert enrollment["training"]["id"] == training["id"]
            theirs = [e["training"]["id"] for e in enrollment["worker"]["enrollments"]["nodes"]]
            assert training["id"] in theirs


async def test_worker_fields_are_masked(gql: GraphQLClient) -> None:
    data = await gql.ok(
        """{ workers(first: 20) { nodes { name gender birthDate birthYear age
             maskedIdNumber maskedPhone
             hukouRegion { code } currentRegion { code } educationLevel
             skills { level skill { code name } } jobIntentions { occupation { code } }
             insuranceRecords(first: 3) { totalCount nodes { period insuranceType
               contributionBase employerAmount personalAmount status region { code } } } } } }"""
    )
    workers = data["workers"]["nodes"]
    assert workers
    for worker in workers:
        masked = worker["maskedIdNumber"]
        assert len(masked) == 18 and masked[6:14] == "*" * 8
        assert masked[:6].isdigit()
        assert worker["birthDate"] is None  # the date is part of the ID number
        assert 1900 < worker["birthYear"] < 2010
        if worker["maskedPhone"]:
            assert "****" in worker["maskedPhone"]
    assert any(w["insuranceRecords"]["totalCount"] for w in workers)
    periods = [r["period"] for w in workers for r in w["insuranceRecords"]["nodes"]]
    assert periods and all(len(p) == 7 and p[4] == "-" for p in periods)


async def test_insurance_record_filters(gql: GraphQLClient) -> None:
    pension = await gql.ok(
        "{ insuranceRecords(first: 1, filter: {insuranceType: PENSION}) "
        "{ nodes { worker { id } } } }"
    )
    worker_id = pension["insuranceRecords"]["nodes"][0]["worker"]["id"]  # a worker who has one
    query = """query ($w: ID!, $type: InsuranceType) { insuranceRecords(first: 100,
             filter: {workerId: $w, insuranceType: $type, from: "2000-01", to: "2100-12"}) {
             totalCount nodes { insuranceType worker { id } } } }"""
    data = await gql.ok(query, {"w": worker_id, "type": "PENSION"})
    records = data["insuranceRecords"]["nodes"]
    assert records, "the worker's pension records"
    for record in records:
        assert record["insuranceType"] == "PENSION" and record["worker"]["id"] == worker_id
    every_type = await gql.ok(query, {"w": worker_id})
    assert data["insuranceRecords"]["totalCount"] < every_type["insuranceRecords"]["totalCount"]
    bad = await gql('{ insuranceRecords(filter: {from: "2024-13"}) { totalCount } }')
    assert "filter.from" in bad.errors[0]["message"]


async def test_node_round_trip_for_every_type(gql: GraphQLClient) -> None:
    data = await gql.ok(
        """{ jobs(first: 1) { nodes { id employer { id } region { id }
             applications(first: 1) { nodes { id worker { id } } } } }
             trainings(first: 1) { nodes { id } } insuranceRecords(first: 1) { nodes { id } } }"""
    )
    job = data["jobs"]["nodes"][0]
    ids = [job["id"], job["employer"]["id"], job["region"]["id"],
           data["trainings"]["nodes"][0]["id"], data["insuranceRecords"]["nodes"][0]["id"]]
    missing = base64.b64encode(b"Job:999999999").decode()
    unknown_type = base64.b64encode(b"Spaceship:1").decode()
    result = await gql.ok(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id __typename } }",
        {"ids": [*ids, missing, unknown_type]},
    )
    found = result["nodes"]
    assert [n["id"] for n in found[: len(ids)]] == ids
    assert found[len(ids):] == [None, None]
    single = await gql.ok("query ($id: ID!) { node(id: $id) { ... on Job { title } } }",
                          {"id": job["id"]})
    assert single["node"]["title"]


async def test_malformed_global_id_is_an_error_naming_the_argument(gql: GraphQLClient) -> None:
    for value in ("", "%%%", base64.b64encode(b"no-colon").decode()):
        result = await gql("query ($id: ID!) { node(id: $id) { id } }", {"id": value})
        assert result.status == 200
        assert "'id'" in result.errors[0]["message"], value
    listed = await gql('{ nodes(ids: ["Sm9iOjE=", "???"]) { id } }')
    assert "'ids[1]'" in listed.errors[0]["message"]


async def test_request_errors_are_400_without_data(gql: GraphQLClient) -> None:
    unknown_enum = await gql("{ jobs(filter: {status: SLEEPING}) { totalCount } }")
    assert unknown_enum.status == 400 and "data" not in unknown_enum.body
    assert "SLEEPING" in unknown_enum.errors[0]["message"]
    wrong_type = await gql("query ($n: Int) { jobs(first: $n) { totalCount } }", {"n": "ten"})
    assert wrong_type.status == 400 and "data" not in wrong_type.body
    assert "$n" in wrong_type.errors[0]["message"]
    unknown_field = await gql("{ jobs { nope } }")
    assert unknown_field.status == 400 and "nope" in unknown_field.errors[0]["message"]


async def test_region_tree(gql: GraphQLClient) -> None:
    provinces = (await gql.ok("{ regions { code level } }"))["regions"]
    assert len(provinces) == 31 and all(p["level"] == "PROVINCE" for p in provinces)
    guangdong = await gql.ok(
        '{ region(code: "440000") { name children { code parent { code } } } }'
    )
    children = guangdong["region"]["children"]
    assert guangdong["region"]["name"] == "广东省" and len(children) == 21
    assert all(child["parent"]["code"] == "440000" for child in children)
    assert (await gql.ok('{ region(code: "000000") { code } }'))["region"] is None
    under = await gql.ok('{ regions(parentCode: "440300") { code } }')
    assert under["regions"] and all(r["code"].startswith("4403") for r in under["regions"])


async def test_reference_lists(gql: GraphQLClient) -> None:
    data = await gql.ok(
        "{ industries { code } occupations { code majorGroup } skills { code } "
        'manufacturing: industries(section: "C") { code } }'
    )
    assert len(data["industries"]) == 20
    assert {o["majorGroup"] for o in data["occupations"]} == set(range(1, 9))
    assert all(i["code"].startswith("C") for i in data["manufacturing"])
    assert len(data["manufacturing"]) >= 31


async def test_reference_arguments_are_checked(gql: GraphQLClient) -> None:
    cases = [
        ('{ region(code: "abc") { code } }', "'code'"),
        ('{ regions(parentCode: "4") { code } }', "'parentCode'"),
        ('{ industries(section: "Z9") { code } }', "'section'"),
        ("{ occupations(majorGroup: 40000) { code } }", "'majorGroup'"),
        ("{ occupations(majorGroup: -2147483648) { code } }", "'majorGroup'"),
    ]
    for query, argument in cases:
        error = (await gql(query)).errors[0]
        assert argument in error["message"], (query, error)
        assert error["extensions"]["code"] == "BAD_USER_INPUT"


async def test_nul_characters_are_refused_before_anything_runs(gql: GraphQLClient) -> None:
    inline = await gql('{ region(code: "11\\u00000000") { code } }')
    assert inline.status == 400 and "data" not in inline.body
    assert "argument 'code'" in inline.errors[0]["message"]
    assert "NUL" in inline.errors[0]["message"]
    nested = await gql(
        "query ($f: JobFilter) { jobs(filter: $f) { totalCount } }",
        {"f": {"keyword": "焊\u0000工"}},
    )
    assert nested.status == 400 and "variable '$f.keyword'" in nested.errors[0]["message"]
    assert nested.statements == 0


async def test_salary_filter_amounts_are_checked(gql: GraphQLClient) -> None:
    query = "query ($v: Decimal) { jobs(filter: {salaryMin: $v}) { totalCount } }"
    for value in ("1e400", "-5", "10000000000", 5e20):
        refused(await gql(query, {"v": value}), "filter.salaryMin")
    some = (await gql.ok(query, {"v": 5000}))["jobs"]["totalCount"]
    every = (await gql.ok("{ jobs { totalCount } }"))["jobs"]["totalCount"]
    assert 0 < some < every, "jobs that can pay 5000, not all of them"


async def test_what_is_not_a_decimal_number_is_refused_naming_where(gql: GraphQLClient) -> None:
    """`Value cannot represent a Decimal` said neither where nor why."""
    query = "query ($v: Decimal) { jobs(filter: {salaryMin: $v}) { totalCount } }"
    for value in ("abc", "NaN", "Infinity", "-inf", "1e999999", "5_000", " 5000", "٥٠٠٠", True):
        result = await gql(query, {"v": value})
        assert result.status == 400 and "data" not in result.body
        refused(result, "Variable '$v'", "not a decimal number" if value is not True else "")
    for literal in ('"abc"', '"NaN"', '"1e999999"', "true"):
        result = await gql(f"{{ jobs(filter: {{salaryMin: {literal}}}) {{ totalCount }} }}")
        assert result.status == 400 and "data" not in result.body
        refused(result, "argument 'salaryMin'", "Decimal")
    spaced = await gql('{ jobs(filter: {salaryMax ,: , "x"}) { totalCount } }')
    refused(spaced, "argument 'salaryMax'")


DATES = """query ($after: DateTime, $before: DateTime) {
  jobs(filter: {postedAfter: $after, postedBefore: $before}) { totalCount } }"""


async def test_date_times_need_a_utc_offset(gql: GraphQLClient) -> None:
    """A naive postedAfter next to an aware postedBefore could not even be compared."""
    naive, aware = "2020-01-01T00:00:00", "2030-01-01T00:00:00+00:00"
    for variables, name in (
        ({"after": naive, "before": aware}, "$after"),
        ({"after": aware, "before": naive}, "$before"),
        ({"after": "2026-01-01", "before": aware}, "$after"),
    ):
        result = await gql(DATES, variables)
        assert result.status == 400 and "data" not in result.body
        refused(result, f"Variable '{name}'", "give a UTC offset, e.g. 2026-01-01T00:00:00+08:00")
    literal = await gql(
        f'{{ jobs(filter: {{postedAfter: "{naive}", postedBefore: "{aware}"}}) {{ totalCount }} }}'
    )
    refused(literal, "argument 'postedAfter'", "give a UTC offset")
    both = await gql.ok(DATES, {"after": "2020-01-01T08:00:00+08:00", "before": aware})
    assert both["jobs"]["totalCount"] > 0


async def test_date_times_outside_the_calendar_in_utc_are_refused(gql: GraphQLClient) -> None:
    for value in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:00:00-14:00"):
        result = await gql(DATES, {"after": value})
        refused(result, "Variable '$after'", "out of range")
    every = (await gql.ok("{ jobs { totalCount } }"))["jobs"]["totalCount"]
    assert every > 0
    for value, found in (
        ("0001-01-01T00:00:00+00:00", every), ("9999-12-31T23:59:59.999999+00:00", 0)
    ):
        assert (await gql.ok(DATES, {"after": value}))["jobs"]["totalCount"] == found
    for invalid in ("2026-13-01T00:00:00+08:00", "٢٠٢٦-01-01T00:00:00+08:00", "yesterday", 5):
        refused(await gql(DATES, {"after": invalid}), "Variable '$after'", "DateTime")


async def test_lone_surrogates_are_refused_before_anything_runs(gql: GraphQLClient) -> None:
    """JSON may write `"\\ud800"`, which is no Unicode text: it reached SQL, or the response
    (a 500) when an error message quoted it."""
    for field in ("keyword", "regionCode"):
        query = f"query ($v: String) {{ jobs(filter: {{{field}: $v}}) {{ totalCount }} }}"
        for value in ("\ud800", "焊\udfff工", "\udc00\ud800"):
            result = await post(gql, query, {"v": value})
            assert result.status == 400 and "data" not in result.body
            refused(result, "variable '$v'", "lone surrogate")
            assert result.statements == 0
    nested = await post(gql, "query ($f: JobFilter) { jobs(filter: $f) { totalCount } }",
                        {"f": {"keyword": "\ud800"}})
    refused(nested, "variable '$f.keyword'")
    region = await post(gql, "query ($c: String!) { region(code: $c) { code } }", {"c": "\ud800"})
    refused(region, "variable '$c'")
