"""Every declared write refuses the roles it does not list, before it looks at the input: a
caller of another role gets the domain's NOT_ALLOWED and nothing else, even for input that is
junk in every field (so a refused caller learns nothing of what the write checks)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
    get_named_type,
)

import schema
from resolvers.access import Role
from resolvers.global_ids import encode_global_id
from resolvers.writes import WRITES
from server.settings import Settings
from tests.conftest import GraphQLClient, bearer

GRAPHQL = schema.schema._schema
JUNK = {
    "String": "?", "ID": "not-an-id", "Int": -1, "Float": -1.0, "Boolean": False,
    "Decimal": "-1", "Date": "1900-01-01", "DateTime": "1900-01-01T00:00:00Z",
}
TOKEN_ROLES = [Role.ANONYMOUS, Role.WORKER, Role.EMPLOYER, Role.STAFF, Role.ADMIN]
CLAIMS: dict[Role, dict[str, Any]] = {  # each role's own record, as its tokens carry
    Role.WORKER: {"worker_id": encode_global_id("Worker", 1)},
    Role.EMPLOYER: {"employer_id": encode_global_id("Employer", 1)},
    Role.STAFF: {"region": "440000"},
}
REFUSED = [
    (name, role) for name, write in sorted(WRITES.items()) if write.roles is not None
    for role in TOKEN_ROLES if role not in write.roles
]


def junk_input(input_type: GraphQLInputObjectType) -> dict[str, Any]:
    """A value of every required field, each wrong for the write (but of the right type)."""
    given: dict[str, Any] = {}
    for name, field in input_type.fields.items():
        if not isinstance(field.type, GraphQLNonNull) or field.default_value is not Undefined:
            continue
        if isinstance(field.type.of_type, GraphQLList):
            given[name] = []
            continue
        named = get_named_type(field.type)
        if isinstance(named, GraphQLEnumType):
            given[name] = next(iter(named.values))
        else:
            assert isinstance(named, GraphQLScalarType), (name, named)
            given[name] = JUNK[named.name]
    return given


def test_the_refused_cases_cover_every_write_with_roles() -> None:
    assert {name for name, _ in REFUSED} == {
        name for name, write in WRITES.items() if write.roles is not None
    }
    assert len(REFUSED) >= 20


@pytest.mark.parametrize(("name", "role"), REFUSED)
async def test_a_role_a_write_does_not_list_gets_not_allowed_whatever_the_input(
    anonymous: GraphQLClient, settings: Settings, name: str, role: Role
) -> None:
    title = name[0].upper() + name[1:]
    input_type = GRAPHQL.get_type(f"{title}Input")
    assert isinstance(input_type, GraphQLInputObjectType)
    client = anonymous
    if role is not Role.ANONYMOUS:
        client = anonymous.as_(bearer(settings, role.value, **CLAIMS.get(role, {})))
    result = await client.ok(
        f"mutation ($input: {title}Input!) {{ {name}(input: $input) {{ "
        "userErrors { field code message } } }",
        {"input": junk_input(input_type)},
    )
    [error] = result[name]["userErrors"]
    assert error["code"] == "NOT_ALLOWED" and error["message"] == WRITES[name].refusal
