"""Persisted queries: Apollo APQ over POST and GET, and the trusted-documents mode."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.cli import main as laborhub
from server.persisted import sha256_of
from server.settings import Settings
from tests.conftest import serving

GRJ = "application/graphql-response+json"


def fresh_query() -> str:
    """A document no earlier test (or run against the same database) stored."""
    return f'query Q{uuid.uuid4().hex} {{ region(code: "440000") {{ name }} }}'


def persisted(sha: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


async def post(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"accept": GRJ})


async def get(client: httpx.AsyncClient, **params: Any) -> httpx.Response:
    encoded = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
    return await client.get("/graphql", params=encoded, headers={"accept": GRJ})


@pytest.fixture(scope="module")
async def apq(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(settings, database_url, rate_limit_per_minute=0) as client:
        yield client


GUANGDONG = {"data": {"region": {"name": "广东省"}}}


# --- APQ -----------------------------------------------------------------------------------------


async def test_apq_over_post(apq: httpx.AsyncClient) -> None:
    query = fresh_query()
    sha = sha256_of(query)

    missing = await post(apq, {"extensions": persisted(sha)})
    assert missing.status_code == 200  # what Apollo clients expect, to send the query next
    assert missing.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    registered = await post(apq, {"query": query, "extensions": persisted(sha)})
    assert registered.json() == GUANGDONG

    by_hash = await post(apq, {"extensions": persisted(sha)})
    assert by_hash.json() == GUANGDONG
    by_get = await get(apq, extensions=persisted(sha))
    assert by_get.status_code == 200
    assert by_get.json() == GUANGDONG


async def test_apq_over_get(apq: httpx.AsyncClient) -> None:
    query = fresh_query()
    sha = sha256_of(query)
    assert (await get(apq, extensions=persisted(sha))).json()["errors"][0]["extensions"] == {
        "code": "PERSISTED_QUERY_NOT_FOUND"
    }
    assert (await get(apq, query=query, extensions=persisted(sha))).json() == GUANGDONG
    assert (await get(apq, extensions=persisted(sha.upper()))).json() == GUANGDONG


async def test_apq_survives_a_restart(
    apq: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    query = fresh_query()
    sha = sha256_of(query)
    await post(apq, {"query": query, "extensions": persisted(sha)})
    async with serving(settings, database_url, rate_limit_per_minute=0) as other_process:
        assert (await post(other_process, {"extensions": persisted(sha)})).json() == GUANGDONG


async def test_apq_hash_mismatch(apq: httpx.AsyncClient) -> None:
    query = fresh_query()
    response = await post(apq, {"query": query, "extensions": persisted("0" * 64)})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"] == "provided sha does not match query"
    assert error["extensions"]["code"] == "PERSISTED_QUERY_HASH_MISMATCH"
    # nothing was stored under either hash
    for sha in ("0" * 64, sha256_of(query)):
        missing = await post(apq, {"extensions": persisted(sha)})
        assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_apq_stores_only_documents_that_pass(apq: httpx.AsyncClient) -> None:
    query = "{ nope " + uuid.uuid4().hex + " }"
    sha = sha256_of(query)
    assert (await post(apq, {"query": query, "extensions": persisted(sha)})).status_code == 400
    missing = await post(apq, {"extensions": persisted(sha)})
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        (persisted("0" * 64, version=2), "Unsupported persisted query version"),
        (persisted("xyz"), "sha256Hash must be 64 hexadecimal characters"),
        ({"persistedQuery": "abc"}, "must be an object"),
    ],
)
async def test_malformed_persisted_query(
    apq: httpx.AsyncClient, extensions: dict[str, Any], message: str
) -> None:
    response = await post(apq, {"extensions": extensions})
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert message in error["message"]
    assert error["extensions"]["code"] == "PERSISTED_QUERY_INVALID"


async def test_missing_query_without_a_hash(apq: httpx.AsyncClient) -> None:
    response = await post(apq, {"variables": {}})
    assert response.status_code == 400
    assert "Missing parameter 'query'" in response.json()["errors"][0]["message"]


# --- trusted documents ---------------------------------------------------------------------------


TRUSTED_NAME = f"TrustedRegion{uuid.uuid4().hex[:8]}"
TRUSTED = f'query {TRUSTED_NAME} {{ region(code: "440000") {{ name }} }}\n'


@pytest.fixture(scope="module")
def registered(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`laborhub documents add` of one file; the hash it printed."""
    path: Path = tmp_path_factory.mktemp("documents") / "region.graphql"
    path.write_text(TRUSTED, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        with contextlib.redirect_stdout(io.StringIO()) as output:
            assert laborhub(["documents", "add", str(path)]) == 0
        with contextlib.redirect_stdout(io.StringIO()) as listing:
            assert laborhub(["documents", "list"]) == 0
    sha = sha256_of(TRUSTED)
    assert output.getvalue() == f"{sha}  {TRUSTED_NAME}\n"
    assert f"{sha}  trusted  {TRUSTED_NAME}\n" in listing.getvalue()
    yield sha


def test_documents_add_refuses_invalid_files(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.graphql"
    path.write_text("{ nope }", encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        assert laborhub(["documents", "add", str(path)]) == 1
    assert "bad.graphql: Cannot query field 'nope'" in capsys.readouterr().err


@pytest.fixture(scope="module")
async def trusted_only(
    settings: Settings, database_url: str, registered: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(
        settings, database_url, trusted_documents_only=True, rate_limit_per_minute=0
    ) as client:
        yield client


async def test_trusted_mode_runs_registered_documents(
    trusted_only: httpx.AsyncClient, registered: str
) -> None:
    assert (await post(trusted_only, {"extensions": persisted(registered)})).json() == GUANGDONG
    assert (await get(trusted_only, extensions=persisted(registered))).json() == GUANGDONG
    assert (await post(trusted_only, {"query": TRUSTED})).json() == GUANGDONG


async def test_trusted_mode_refuses_everything_else(
    trusted_only: httpx.AsyncClient, apq: httpx.AsyncClient
) -> None:
    query = fresh_query()
    sha = sha256_of(query)
    # stored by APQ in the open mode: stored, but not trusted
    assert (await post(apq, {"query": query, "extensions": persisted(sha)})).json() == GUANGDONG
    attempts: list[dict[str, Any]] = [
        {"query": query},
        {"query": query, "extensions": persisted(sha)},
        {"extensions": persisted(sha)},
        {"extensions": persisted("a" * 64)},
        {"query": "{ __typename }"},
    ]
    for body in attempts:
        response = await post(trusted_only, body)
        assert response.status_code == 400, body
        [error] = response.json()["errors"]
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
        assert error["message"].startswith("Only registered documents run here")
