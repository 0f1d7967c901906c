"""Persisted queries: Apollo APQ over POST and GET, and the trusted-documents mode."""

from __future__ import annotations

import contextlib
import io
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request

from db.models.access import PersistedDocument
from db.session import create_engine
from server.auth import mint_token
from server.cli import main as laborhub
from server.persisted import SqlDocumentStore, sha256_of
from server.settings import Settings
from tests.conftest import answer, serving

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
    async with serving(replace(settings, rate_limit_per_minute=0), database_url) as client:
        yield client


GUANGDONG = {"data": {"region": {"name": "广东省"}}}


# --- APQ -----------------------------------------------------------------------------------------


async def test_apq_over_post(apq: httpx.AsyncClient) -> None:
    query = fresh_query()
    sha = sha256_of(query)

    missing = await post(apq, {"extensions": persisted(sha)})
    assert missing.status_code == 200  # what Apollo clients expect, to send the query next
    assert answer(missing) == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }
    registered = await post(apq, {"query": query, "extensions": persisted(sha)})
    assert answer(registered) == GUANGDONG

    by_hash = await post(apq, {"extensions": persisted(sha)})
    assert answer(by_hash) == GUANGDONG
    by_get = await get(apq, extensions=persisted(sha))
    assert by_get.status_code == 200
    assert answer(by_get) == GUANGDONG


async def test_apq_over_get(apq: httpx.AsyncClient) -> None:
    query = fresh_query()
    sha = sha256_of(query)
    assert (await get(apq, extensions=persisted(sha))).json()["errors"][0]["extensions"] == {
        "code": "PERSISTED_QUERY_NOT_FOUND"
    }
    assert answer(await get(apq, query=query, extensions=persisted(sha))) == GUANGDONG
    assert answer(await get(apq, extensions=persisted(sha.upper()))) == GUANGDONG


async def test_apq_survives_a_restart(
    apq: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    query = fresh_query()
    sha = sha256_of(query)
    await post(apq, {"query": query, "extensions": persisted(sha)})
    async with serving(replace(settings, rate_limit_per_minute=0), database_url) as other_process:
        assert answer(await post(other_process, {"extensions": persisted(sha)})) == GUANGDONG


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


async def test_apq_stores_only_documents_that_pass_every_check(apq: httpx.AsyncClient) -> None:
    """The alias limit (like every limit) applies before the document is stored."""
    tag = uuid.uuid4().hex
    query = f"query Q{tag} {{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
    sha = sha256_of(query)
    refused = await post(apq, {"query": query, "extensions": persisted(sha)})
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["message"] == "31 aliases found. Allowed: 30"
    missing = await post(apq, {"extensions": persisted(sha)})
    assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def stored_by(database_url: str, sha: str) -> str | None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            found = await connection.execute(
                select(PersistedDocument.stored_by).where(PersistedDocument.sha256 == sha)
            )
            return found.scalar_one_or_none()
    finally:
        await engine.dispose()


def worker(settings: Settings, subject: str | None = None) -> dict[str, str]:
    """A worker (by default one no other test stores documents as)."""
    subject = subject or f"apq-{uuid.uuid4().hex}"
    token = mint_token(settings, role="worker", subject=subject, worker_id="1")
    return {"authorization": f"Bearer {token}"}


async def post_as(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    return await client.post("/graphql", json=body, headers={"accept": GRJ, **headers})


async def test_apq_records_who_stored_it(
    apq: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    anonymous, by_worker = fresh_query(), fresh_query()
    await post(apq, {"query": anonymous, "extensions": persisted(sha256_of(anonymous))})
    subject = f"apq-{uuid.uuid4().hex}"
    body = {"query": by_worker, "extensions": persisted(sha256_of(by_worker))}
    assert answer(await post_as(apq, worker(settings, subject), body)) == GUANGDONG
    assert await stored_by(database_url, sha256_of(anonymous)) == "anonymous:127.0.0.1"
    assert await stored_by(database_url, sha256_of(by_worker)) == f"worker:{subject}"


def not_stored(response: httpx.Response) -> str:
    """The code of the response's "not stored" notice; the query itself ran."""
    body = response.json()
    assert body["data"] == GUANGDONG["data"], body
    notice = body["extensions"]["persistedQuery"]
    assert notice["stored"] is False
    assert notice["message"].startswith("Not stored: ")
    assert "It ran; send it in full next time" in notice["message"]
    return str(notice["code"])


async def test_apq_storage_has_a_quota_per_principal(
    settings: Settings, database_url: str
) -> None:
    async with serving(
        replace(settings, rate_limit_per_minute=0, apq_quota_documents=2), database_url
    ) as client:
        headers = worker(settings)
        queries = [fresh_query() for _ in range(3)]
        for query in queries[:2]:
            body = {"query": query, "extensions": persisted(sha256_of(query))}
            response = await post_as(client, headers, body)
            assert answer(response) == GUANGDONG
        over = {"query": queries[2], "extensions": persisted(sha256_of(queries[2]))}
        assert not_stored(await post_as(client, headers, over)) == "PERSISTED_QUERY_QUOTA_EXCEEDED"
        missing = await post_as(client, headers, {"extensions": persisted(sha256_of(queries[2]))})
        assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"
        # storing a document already stored costs nothing; another principal has its own quota
        again = {"query": queries[0], "extensions": persisted(sha256_of(queries[0]))}
        assert answer(await post_as(client, headers, again)) == GUANGDONG
        assert answer(await post_as(client, worker(settings), over)) == GUANGDONG

    async with serving(
        replace(settings, rate_limit_per_minute=0, apq_quota_bytes=100), database_url
    ) as client:
        query = fresh_query()  # some 70 bytes: one fits, two do not
        body = {"query": query, "extensions": persisted(sha256_of(query))}
        headers = worker(settings)
        assert answer(await post_as(client, headers, body)) == GUANGDONG
        second = fresh_query()
        body = {"query": second, "extensions": persisted(sha256_of(second))}
        assert not_stored(await post_as(client, headers, body)) == "PERSISTED_QUERY_QUOTA_EXCEEDED"


async def test_apq_documents_over_the_size_limit_run_unstored(
    settings: Settings, database_url: str
) -> None:
    async with serving(
        replace(settings, rate_limit_per_minute=0, apq_max_document_bytes=100), database_url
    ) as client:
        query = fresh_query() + " " * 100
        sha = sha256_of(query)
        assert not_stored(
            await post(client, {"query": query, "extensions": persisted(sha)})
        ) == "PERSISTED_QUERY_TOO_LARGE"
        missing = await post(client, {"extensions": persisted(sha)})
        assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_anonymous_callers_store_nothing_in_production(
    settings: Settings, database_url: str
) -> None:
    async with serving(
        replace(settings, env="production", rate_limit_per_minute=0), database_url
    ) as client:
        query = fresh_query()
        sha = sha256_of(query)
        response = await post(client, {"query": query, "extensions": persisted(sha)})
        assert not_stored(response) == "PERSISTED_QUERY_NOT_STORED"
        assert "anonymous callers can't store persisted queries here" in (
            response.json()["extensions"]["persistedQuery"]["message"]
        )
        missing = await post(client, {"extensions": persisted(sha)})
        assert missing.json()["errors"][0]["message"] == "PersistedQueryNotFound"


async def test_the_document_cache_is_bounded_in_bytes(
    settings: Settings, database_url: str
) -> None:
    engine = create_engine(database_url)
    try:
        store = SqlDocumentStore(engine, replace(settings, persisted_cache_bytes=20_000))
        request = Request({"type": "http"})
        tag = uuid.uuid4().hex
        for i in range(40):
            document = f"query Big{tag}x{i} {{ __typename }}" + " " * 1_000
            sha = sha256_of(document)
            await store.add(request, sha, document, owner=f"cache-{tag}", anonymous=False)
        assert store.cache.weight <= 20_000
        assert 15 <= len(store.cache) <= 20
    finally:
        await engine.dispose()


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


def test_documents_add_holds_a_document_to_the_limits_the_endpoint_applies(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A trusted document that the endpoint would refuse must not be registered."""
    path = tmp_path / "aliases.graphql"
    path.write_text(
        "{ " + " ".join(f"a{i}: skills {{ code }}" for i in range(40)) + " }", encoding="utf-8"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", database_url)
        assert laborhub(["documents", "add", str(path)]) == 1
    assert "aliases.graphql:" in capsys.readouterr().err


@pytest.fixture(scope="module")
async def trusted_only(
    settings: Settings, database_url: str, registered: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(
        replace(settings, trusted_documents_only=True, rate_limit_per_minute=0), database_url
    ) as client:
        yield client


async def test_trusted_mode_runs_registered_documents(
    trusted_only: httpx.AsyncClient, registered: str
) -> None:
    assert answer(await post(trusted_only, {"extensions": persisted(registered)})) == GUANGDONG
    assert answer(await get(trusted_only, extensions=persisted(registered))) == GUANGDONG
    assert answer(await post(trusted_only, {"query": TRUSTED})) == GUANGDONG


async def test_trusted_mode_refuses_everything_else(
    trusted_only: httpx.AsyncClient, apq: httpx.AsyncClient
) -> None:
    query = fresh_query()
    sha = sha256_of(query)
    # stored by APQ in the open mode: stored, but not trusted
    assert answer(await post(apq, {"query": query, "extensions": persisted(sha)})) == GUANGDONG
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
