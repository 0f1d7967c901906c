"""schema/schema.graphql is the contract clients read: it must match the code."""

from __future__ import annotations

from pathlib import Path

import schema

SNAPSHOT = Path(schema.__file__).parent / "schema.graphql"


def test_snapshot_matches_the_code() -> None:
    exported = schema.schema.as_str().rstrip("\n") + "\n"
    assert SNAPSHOT.read_text(encoding="utf-8") == exported, (
        "schema/schema.graphql is stale: run `laborhub export-schema` and review the diff"
    )


def test_contract_names_from_api_md() -> None:
    sdl = SNAPSHOT.read_text(encoding="utf-8")
    for line in (
        "node(id: ID!): Node",
        "nodes(ids: [ID!]!): [Node]!",
        "regions(parentCode: String = null): [Region!]!",
        "region(code: String!): Region",
        "totalCount: Int!",
        "hasPreviousPage: Boolean!",
    ):
        assert line in sdl, line
    for connection in ("Worker", "Employer", "Job", "Training", "InsuranceRecord"):
        assert f"type {connection}Connection" in sdl
        assert f"input {connection}Filter" in sdl
