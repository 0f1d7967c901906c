"""Request bodies no well-behaved client sends: lone surrogates where the document and the
operation name go, escaped as JSON allows (`\\ud800`). They are refused, never a 500."""

from __future__ import annotations

import json

import pytest

from tests.conftest import GraphQLClient

SURROGATE = "\ud800"

BODIES = {
    "query": {"query": f'{{ region(code: "{SURROGATE}") {{ name }} }}'},
    "comment": {"query": f"# {SURROGATE}\n{{ skills {{ code }} }}"},
    "operationName": {"query": "query A { skills { code } }", "operationName": SURROGATE},
    "enum": {"query": f"{{ jobs(filter: {{status: X{SURROGATE}}}) {{ totalCount }} }}"},
    "input key": {"query": f"{{ jobs(filter: {{x{SURROGATE}: 1}}) {{ totalCount }} }}"},
    "enum variable": {
        "query": "query ($s: JobStatus) { jobs(filter: {status: $s}) { totalCount } }",
        "variables": {"s": f"X{SURROGATE}"},
    },
    "input variable key": {
        "query": "query ($f: JobFilter) { jobs(filter: $f) { totalCount } }",
        "variables": {"f": {f"x{SURROGATE}": 1}},
    },
    "variable name": {"query": "query ($v: String) { region(code: $v) { name } }",
                      "variables": {f"v{SURROGATE}": "1"}},
}


@pytest.mark.parametrize("where", BODIES)
async def test_lone_surrogates_anywhere_in_the_body_are_refused(
    anonymous: GraphQLClient, where: str
) -> None:
    response = await anonymous.http.post(
        "/graphql",
        content=json.dumps(BODIES[where]).encode("ascii"),
        headers={"content-type": "application/json",
                 "accept": "application/graphql-response+json"},
    )
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert body.get("errors"), body
    assert "Internal server error" not in response.text
