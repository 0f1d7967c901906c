"""Who is asking: Bearer JWTs, partner API keys, and the refusals (401 with a clear message)."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from db.models.access import ApiKey
from db.pii import PersonalDataVault
from db.session import create_engine, start_counting
from resolvers.access import PartnerGrant, Role, Viewer
from resolvers.global_ids import encode_global_id
from server.auth import (
    ApiKeyInfo,
    AuthenticationError,
    Authenticator,
    create_api_key,
    development_jwt_secret,
    list_api_keys,
    mint_token,
    revoke_api_key,
)
from server.cli import main
from server.settings import Settings, SettingsError
from tests.conftest import Claims, GraphQLClient
from tests.fake_requests import Clock, request

TYPENAME = "{ __typename }"
OFFLINE_DB = "postgresql://nobody@127.0.0.1:1/nothing"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"sub": "u-1", "role": "admin", "iat": now, "exp": now + 600}
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not None}


def dev_token(settings: Settings, **overrides: Any) -> str:
    return jwt.encode(claims(**overrides), development_jwt_secret(settings), algorithm="HS256")


def unsigned_token(payload: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


def client(http: httpx.AsyncClient, **headers: str) -> GraphQLClient:
    return GraphQLClient(http, {name.replace("_", "-"): value for name, value in headers.items()})


async def assert_refused(response_of: GraphQLClient, message: str) -> None:
    response = await response_of(TYPENAME)
    assert response.status == 401, response.body
    assert "data" not in response.body
    assert response.errors[0]["message"] == message
    assert response.headers["www-authenticate"].startswith("Bearer")


# --- Bearer tokens through the app ---------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "extra"),
    [
        ("admin", {}),
        ("staff", {"region": "440300"}),
        ("worker", {"worker_id": encode_global_id("Worker", 1)}),
        ("worker", {"worker_id": "1"}),
        ("employer", {"employer_id": encode_global_id("Employer", 1)}),
    ],
)
async def test_minted_token_of_every_role_is_accepted(
    http: httpx.AsyncClient, settings: Settings, role: str, extra: Claims
) -> None:
    token = mint_token(settings, role=role, subject=f"auth-{role}", **extra)
    data = await client(http, authorization=f"Bearer {token}").ok(TYPENAME)
    assert data == {"__typename": "Query"}


async def test_no_credentials_is_anonymous(http: httpx.AsyncClient) -> None:
    assert await client(http).ok(TYPENAME) == {"__typename": "Query"}


def refused_tokens(settings: Settings) -> list[tuple[str, str]]:
    now = int(time.time())
    other = replace(settings, secret_key=base64.b64encode(b"o" * 32).decode())
    return [
        (dev_token(settings, exp=now - 3600), "token expired"),
        (dev_token(settings, nbf=now + 3600), "token not yet valid"),
        (dev_token(other), "token signature is invalid"),
        ("not-a-token", "malformed token"),
        ("a.b.c", "malformed token"),
        (unsigned_token(claims()), "token algorithm 'none' is not accepted; expected HS256"),
        (dev_token(settings, exp=None), "claim 'exp' is required"),
        (dev_token(settings, sub=None), "claim 'sub' is required"),
        (dev_token(settings, role=None), "claim 'role' is required"),
        (
            dev_token(settings, role="partner"),
            "claim 'role' must be one of worker, employer, staff, admin, not 'partner'",
        ),
        (dev_token(settings, role="staff"), "claim 'region' is required for role staff"),
        (
            dev_token(settings, role="staff", region="4403"),
            "claim 'region' must be a 6-digit division code",
        ),
        (dev_token(settings, role="worker"), "claim 'workerId' is required for role worker"),
        (
            dev_token(settings, role="employer", employerId=encode_global_id("Worker", 1)),
            "claim 'employerId' must be a global ID of type Employer or an integer id",
        ),
    ]


async def test_refused_tokens_say_what_is_wrong(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    for token, message in refused_tokens(settings):
        await assert_refused(client(http, authorization=f"Bearer {token}"), message)


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        ("Basic dXNlcjpwYXNz", "unsupported authorization scheme 'Basic'; send 'Bearer <token>'"),
        ("Bearer", "missing token after 'Bearer'"),
    ],
)
async def test_refused_authorization_headers(
    http: httpx.AsyncClient, authorization: str, message: str
) -> None:
    await assert_refused(client(http, authorization=authorization), message)


def test_mint_token_refuses_with_a_production_key(settings: Settings) -> None:
    with pytest.raises(ValueError, match="refusing to mint: a production key is configured"):
        mint_token(replace(settings, jwt_secret="s" * 32), role="admin", subject="a")
    with pytest.raises(ValueError, match="development tokens are not accepted in production"):
        mint_token(replace(settings, env="production"), role="admin", subject="a")
    with pytest.raises(ValueError, match="claim 'region' is required for role staff"):
        mint_token(settings, role="staff", subject="s")


# --- partner API keys through the app ------------------------------------------------------


@pytest.fixture(scope="module")
def vault(settings: Settings) -> PersonalDataVault:
    return PersonalDataVault(settings.master_key())


class KeyArguments(TypedDict, total=False):
    """Arguments of `create_api_key` that a test sets (`new_key` has defaults for each)."""

    partner: str
    scopes: Sequence[str]
    regions: Sequence[str]
    fields: Sequence[str] | None
    purpose: str


async def new_key(
    engine: AsyncEngine,
    vault: PersonalDataVault,
    *,
    partner: str = "auth-test-agency",
    scopes: Sequence[str] = ("jobs",),
    regions: Sequence[str] = ("440000",),
    fields: Sequence[str] | None = None,
    purpose: str = "job-matching",
) -> str:
    return await create_api_key(
        engine, vault, partner=partner, scopes=scopes, regions=regions, fields=fields,
        purpose=purpose,
    )


async def test_api_key_is_accepted_and_wrong_or_revoked_ones_are_not(
    http: httpx.AsyncClient, engine: AsyncEngine, vault: PersonalDataVault
) -> None:
    key = await new_key(engine, vault)
    assert key.startswith("lh_") and key[11] == "_"
    assert await client(http, x_api_key=key).ok("{ jobs(first: 1) { totalCount } }")

    unknown = "unknown or revoked API key"
    await assert_refused(client(http, x_api_key=key[:12] + "x" * 43), unknown)
    await assert_refused(client(http, x_api_key="lh_ABCDEFGH_" + "x" * 43), unknown)
    malformed = "malformed API key; expected lh_<prefix>_<secret>"
    await assert_refused(client(http, x_api_key="secret"), malformed)

    revoked = await new_key(engine, vault)
    assert await revoke_api_key(engine, revoked[3:11])
    assert not await revoke_api_key(engine, revoked[3:11]), "already revoked"
    await assert_refused(client(http, x_api_key=revoked), unknown)


async def test_both_credentials_are_refused(
    http: httpx.AsyncClient, settings: Settings, engine: AsyncEngine, vault: PersonalDataVault
) -> None:
    both = client(
        http,
        authorization=f"Bearer {mint_token(settings, role='admin', subject='a')}",
        x_api_key=await new_key(engine, vault),
    )
    await assert_refused(
        both, "send either an Authorization header or an X-API-Key header, not both"
    )


async def test_listed_keys_never_show_secrets(
    engine: AsyncEngine, vault: PersonalDataVault
) -> None:
    key = await new_key(engine, vault, fields=["Job.title", "Region.*", "Job.title"])
    listed = {info.prefix: info for info in await list_api_keys(engine)}[key[3:11]]
    assert listed.fields == ("Job.title", "Region.*")
    assert listed.revoked_at is None and listed.last_used_at is None
    assert {field.name for field in fields(ApiKeyInfo)}.isdisjoint({"secret", "secret_hash"})
    assert await revoke_api_key(engine, str(listed.id))
    [again] = [info for info in await list_api_keys(engine) if info.id == listed.id]
    assert again.revoked_at is not None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"partner": " "}, "partner must not be empty"),
        ({"scopes": []}, "at least one scope is required"),
        ({"scopes": ["jobs", "no such"]}, "scope 'no such' is not a GraphQL field name"),
        ({"regions": []}, "at least one region is required"),
        ({"regions": ["4400"]}, "region '4400' is not a 6-digit division code"),
        ({"fields": ["Job"]}, "field 'Job' is not 'Type.field' or 'Type.*'"),
        ({"purpose": ""}, "purpose must not be empty"),
    ],
)
async def test_create_api_key_validates_its_arguments(
    engine: AsyncEngine, vault: PersonalDataVault, overrides: KeyArguments, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        await new_key(engine, vault, **overrides)


async def test_api_keys_are_cached_and_last_use_is_recorded_once_a_minute(
    settings: Settings, engine: AsyncEngine, vault: PersonalDataVault
) -> None:
    clock = Clock()
    auth = Authenticator(settings, engine, vault, clock=clock)
    key = await new_key(engine, vault, fields=["Job.*"], regions=["440300", "110000"])
    counter = start_counting()
    viewer = await auth.authenticate(request(x_api_key=key))
    assert counter.value == 0, "authentication's SQL is not the query's"
    assert viewer.role is Role.PARTNER and viewer.client_address == "192.0.2.7"
    assert viewer.subject == "partner:auth-test-agency"
    assert viewer.partner is not None
    assert viewer.partner == PartnerGrant(
        key_id=viewer.partner.key_id,
        partner="auth-test-agency",
        scopes=frozenset({"jobs"}),
        regions=("440300", "110000"),
        fields=frozenset({"Job.*"}),
        purpose="job-matching",
    )
    first_use = await last_used(engine, key)
    assert first_use is not None

    assert await revoke_api_key(engine, key[3:11])
    clock.now += 20
    assert (await auth.authenticate(request(x_api_key=key))).role is Role.PARTNER, "cached"
    assert await last_used(engine, key) == first_use
    clock.now += 20
    assert await refusal(auth, request(x_api_key=key)) == "unknown or revoked API key"


async def last_used(engine: AsyncEngine, key: str) -> datetime | None:
    async with engine.connect() as connection:
        found = await connection.execute(
            select(ApiKey.last_used_at).where(ApiKey.prefix == key[3:11])
        )
        return found.scalar_one()


# --- configured identity-provider keys (no HTTP) -------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
async def offline() -> AsyncIterator[AsyncEngine]:
    """An engine that is never used: tokens need no database."""
    engine = create_engine(OFFLINE_DB)
    yield engine
    await engine.dispose()


def authenticator(settings: Settings, engine: AsyncEngine) -> Authenticator:
    return Authenticator(settings, engine, PersonalDataVault(settings.master_key()))


async def viewer_for(auth: Authenticator, token: str) -> Viewer:
    return await auth.authenticate(request(authorization=f"Bearer {token}"))


async def refusal(auth: Authenticator, refused: Request | str) -> str:
    """The message `auth` refuses a request (or a Bearer token) with."""
    if isinstance(refused, str):
        refused = request(authorization=f"Bearer {refused}")
    with pytest.raises(AuthenticationError) as error:
        await auth.authenticate(refused)
    return error.value.message


async def test_rs256_with_a_public_key_as_pem_text_or_file(
    settings: Settings, offline: AsyncEngine, rsa_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    path = tmp_path / "idp.pem"
    path.write_text(pem(rsa_key))
    token = jwt.encode(claims(role="staff", region="440300"), rsa_key, algorithm="RS256")
    for value in (pem(rsa_key), str(path)):
        auth = authenticator(replace(settings, jwt_public_key=value), offline)
        viewer = await viewer_for(auth, token)
        assert (viewer.role, viewer.region_code, viewer.subject) == (Role.STAFF, "440300", "u-1")
        assert viewer.worker_id is None and viewer.partner is None
        development = mint_token(settings, role="admin", subject="a")
        expected = "token algorithm 'HS256' is not accepted; expected RS256"
        assert await refusal(auth, development) == expected


async def test_es256_public_key_and_claims_of_each_role(
    settings: Settings, offline: AsyncEngine, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    auth = authenticator(replace(settings, jwt_public_key=pem(ec_key)), offline)
    worker = claims(role="worker", workerId=encode_global_id("Worker", 7), region="440300")
    viewer = await viewer_for(auth, jwt.encode(worker, ec_key, algorithm="ES256"))
    assert (viewer.role, viewer.worker_id, viewer.region_code) == (Role.WORKER, 7, None)
    employer = claims(role="employer", employerId=12)
    viewer = await viewer_for(auth, jwt.encode(employer, ec_key, algorithm="ES256"))
    assert (viewer.role, viewer.employer_id) == (Role.EMPLOYER, 12)


async def test_jwks_file_picks_the_key_by_kid(
    settings: Settings,
    offline: AsyncEngine,
    rsa_key: rsa.RSAPrivateKey,
    ec_key: ec.EllipticCurvePrivateKey,
    tmp_path: Path,
) -> None:
    keys = [
        {**RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "r1", "use": "sig"},
        {**ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True), "kid": "e1"},
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},  # never accepted from a JWKS
    ]
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    auth = authenticator(replace(settings, jwt_jwks_file=str(path)), offline)

    def signed(
        kid: str | None, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | str,
        algorithm: str,
    ) -> str:
        headers = {"kid": kid} if kid else None
        return jwt.encode(claims(), key, algorithm=algorithm, headers=headers)

    assert (await viewer_for(auth, signed("r1", rsa_key, "RS256"))).role is Role.ADMIN
    assert (await viewer_for(auth, signed("e1", ec_key, "ES256"))).role is Role.ADMIN
    refusals = [
        (signed("nope", rsa_key, "RS256"), "token key id 'nope' is not in the key set"),
        (
            signed(None, rsa_key, "RS256"),
            "token has no 'kid' header; the key set holds several keys",
        ),
        (signed("e1", rsa_key, "RS256"), "token algorithm 'RS256' is not accepted; expected ES256"),
        (
            signed("hmac", "secret" * 6, "HS256"),
            "token algorithm 'HS256' is not accepted; expected ES256 or RS256",
        ),
    ]
    for token, message in refusals:
        assert await refusal(auth, token) == message


async def test_issuer_and_audience_when_configured(
    settings: Settings, offline: AsyncEngine
) -> None:
    secret = "an identity provider's secret of 32+ bytes"
    auth = authenticator(
        replace(settings, jwt_secret=secret, jwt_issuer="https://idp", jwt_audience="laborhub"),
        offline,
    )
    good = {"iss": "https://idp", "aud": "laborhub"}
    assert (await viewer_for(auth, jwt.encode(claims(**good), secret, "HS256"))).subject == "u-1"
    refusals = [
        ({"aud": "laborhub"}, "claim 'iss' is required"),
        ({**good, "iss": "https://other"}, "token issuer is not accepted"),
        ({**good, "aud": "other"}, "token audience is not accepted"),
    ]
    for overrides, message in refusals:
        assert await refusal(auth, jwt.encode(claims(**overrides), secret, "HS256")) == message


def test_unusable_key_configuration_refuses_to_start(
    settings: Settings, offline: AsyncEngine, tmp_path: Path
) -> None:
    only_hmac = tmp_path / "hmac.json"
    only_hmac.write_text(json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}))
    broken = [
        (replace(settings, jwt_secret="s", jwt_jwks_file=str(only_hmac)), "configure one JWT key"),
        (replace(settings, jwt_jwks_file=str(only_hmac)), "holds no RS256 or ES256 signing key"),
        (replace(settings, jwt_jwks_file=str(tmp_path / "missing.json")), "can't read"),
        (
            replace(settings, jwt_public_key="-----BEGIN PUBLIC KEY-----\njunk"),
            "is not a PEM public key",
        ),
    ]
    for configured, message in broken:
        with pytest.raises(SettingsError, match=message):
            authenticator(configured, offline)


async def test_production_without_a_key_accepts_no_bearer_tokens(
    settings: Settings, offline: AsyncEngine
) -> None:
    auth = authenticator(replace(settings, env="production"), offline)
    expected = "Bearer tokens are not accepted: no identity provider key is configured"
    assert await refusal(auth, dev_token(settings)) == expected
    assert (await auth.authenticate(request())).role is Role.ANONYMOUS


# --- the commands ----------------------------------------------------------------------------


def test_keys_and_token_commands(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    settings: Settings,
    database_url: str,
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LABORHUB_SECRET_KEY", settings.secret_key or "")
    create = ["keys", "create", "--partner", "cli-agency", "--scopes", "jobs,trainings"]
    assert main([*create, "--regions", "440300", "--purpose", "job-matching"]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("lh_") and "shown only this once" in err

    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("PREFIX") and key[3:11] in listing and key[12:] not in listing

    assert main(["keys", "revoke", key[3:11]]) == 0
    assert main(["keys", "revoke", key[3:11]]) == 1
    assert "no live API key with prefix or id" in capsys.readouterr().err

    assert main([*create, "--regions", "4403", "--purpose", "x"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "laborhub keys: region '4403' is not a 6-digit division code"

    assert main(["token", "--role", "staff", "--region", "440300", "--ttl", "30m"]) == 0
    token = capsys.readouterr().out.strip()
    decoded = jwt.decode(token, development_jwt_secret(settings), algorithms=["HS256"])
    assert decoded["region"] == "440300" and decoded["exp"] - decoded["iat"] == 1800

    monkeypatch.setenv("LABORHUB_JWT_SECRET", "s" * 32)
    assert main(["token", "--role", "admin"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "laborhub token: refusing to mint: a production key is configured"
