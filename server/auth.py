"""Authentication: who is asking, from a Bearer JWT or a partner API key.

`Authenticator.authenticate(request)` turns a request's credentials into a `Viewer`:

- `Authorization: Bearer <JWT>`: signed by the identity provider with the one key configured
  (LABORHUB_JWT_SECRET for HS256, LABORHUB_JWT_PUBLIC_KEY or LABORHUB_JWT_JWKS_FILE for
  RS256/ES256), or, outside production with none configured, with the development secret that
  `laborhub token` mints with. Only the configured key's algorithm is accepted.
- `X-API-Key: lh_<prefix>_<secret>`: a partner agency's key (`laborhub keys ...`); only a keyed
  hash of the secret is stored.
- Neither: anonymous.

Credentials that can't be accepted raise `AuthenticationError`, whose message says what is
wrong; the endpoint answers 401 with it.
"""

from __future__ import annotations

import asyncio
import contextvars
import hmac
import json
import logging
import re
import secrets
import string
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from db.codes import is_division_code_format
from db.models.access import ApiKey
from db.pii import PersonalDataVault, derive_key
from db.session import start_counting
from resolvers.access import PartnerGrant, Role, Viewer
from resolvers.errors import BadArgument
from resolvers.global_ids import decode_int_id
from server.settings import Settings, SettingsError

log = logging.getLogger("laborhub.auth")

T = TypeVar("T")

KEY_CACHE_SECONDS = 30.0  # how long a revoked API key may still be accepted by a running server


class AuthenticationError(Exception):
    """Credentials were presented but can't be accepted; the client gets 401 and `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Authenticator:
    """Who is asking; built once per app (in the lifespan) and shared by all requests."""

    def __init__(
        self,
        settings: Settings,
        engine: AsyncEngine,
        vault: PersonalDataVault,
        *,
        key_cache_seconds: float = KEY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tokens = TokenVerifier(settings)
        self.api_keys = ApiKeyVerifier(engine, vault, cache_seconds=key_cache_seconds, clock=clock)

    async def authenticate(self, request: Request) -> Viewer:
        address = request.client.host if request.client else None
        authorization = _header(request, "authorization")
        api_key = _header(request, "x-api-key")
        if authorization is not None and api_key is not None:
            raise AuthenticationError(
                "send either an Authorization header or an X-API-Key header, not both"
            )
        if authorization is not None:
            return viewer_from_claims(self.tokens.decode(bearer_token(authorization)), address)
        if api_key is not None:
            return partner_viewer(await self.api_keys.verify(api_key), address)
        return Viewer(Role.ANONYMOUS, client_address=address)


def _header(request: Request, name: str) -> str | None:
    """A header's value; a blank one counts as absent."""
    value = request.headers.get(name, "").strip()
    return value or None


def bearer_token(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise AuthenticationError(
            f"unsupported authorization scheme '{scheme[:20]}'; send 'Bearer <token>'"
        )
    if not token.strip():
        raise AuthenticationError("missing token after 'Bearer'")
    return token.strip()


# --- JSON Web Tokens -----------------------------------------------------------------------

DEVELOPMENT_JWT_INFO = b"laborhub development jwt v1"
TOKEN_ROLES = (Role.WORKER, Role.EMPLOYER, Role.STAFF, Role.ADMIN)
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")

_JWT_ERRORS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    # Subclasses before their bases: InvalidSignatureError is a DecodeError.
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidSignatureError, "token signature is invalid"),
    (jwt.InvalidIssuerError, "token issuer is not accepted"),
    (jwt.InvalidAudienceError, "token audience is not accepted"),
    (jwt.exceptions.InvalidSubjectError, "claim 'sub' must be a string"),
    (jwt.DecodeError, "malformed token"),
)


def development_jwt_secret(settings: Settings) -> bytes:
    """The HS256 secret of development tokens, derived from the master key."""
    return derive_key(settings.master_key(), DEVELOPMENT_JWT_INFO)


@dataclass(frozen=True)
class VerificationKey:
    key: Any  # bytes (HS256) or a `cryptography` public key
    algorithm: str
    kid: str | None = None


@dataclass(frozen=True)
class KeySet:
    """The keys tokens may be signed with: one, or a JWKS whose keys are chosen by `kid`."""

    keys: tuple[VerificationKey, ...]
    by_kid: bool = False

    def select(self, header: Mapping[str, Any]) -> VerificationKey:
        algorithm = header.get("alg")
        if algorithm not in {key.algorithm for key in self.keys}:
            raise _wrong_algorithm(algorithm, self.keys)
        key = self._by_kid(header.get("kid")) if self.by_kid else self.keys[0]
        if key.algorithm != algorithm:
            raise _wrong_algorithm(algorithm, (key,))
        return key

    def _by_kid(self, kid: object) -> VerificationKey:
        if kid is None:
            if len(self.keys) == 1:
                return self.keys[0]
            raise AuthenticationError("token has no 'kid' header; the key set holds several keys")
        for key in self.keys:
            if key.kid == kid:
                return key
        raise AuthenticationError(f"token key id '{str(kid)[:64]}' is not in the key set")


def _wrong_algorithm(algorithm: object, keys: Iterable[VerificationKey]) -> AuthenticationError:
    expected = " or ".join(sorted({key.algorithm for key in keys}))
    return AuthenticationError(
        f"token algorithm '{str(algorithm)[:20]}' is not accepted; expected {expected}"
    )


class TokenVerifier:
    """Checks signature, `exp` (required), `nbf`, and `iss`/`aud` when configured."""

    def __init__(self, settings: Settings) -> None:
        self.key_set = load_key_set(settings)
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds

    def decode(self, token: str) -> dict[str, Any]:
        if self.key_set is None:
            raise AuthenticationError(
                "Bearer tokens are not accepted: no identity provider key is configured"
            )
        try:
            key = self.key_set.select(jwt.get_unverified_header(token))
            return jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                options={"require": ["exp", "sub"], "verify_aud": self.audience is not None},
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
            )
        except jwt.PyJWTError as exc:
            raise AuthenticationError(describe_jwt_error(exc)) from None


def describe_jwt_error(error: jwt.PyJWTError) -> str:
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"claim '{error.claim}' is required"
    for kind, message in _JWT_ERRORS:
        if isinstance(error, kind):
            return message
    return f"invalid token: {error}"


def load_key_set(settings: Settings) -> KeySet | None:
    """The configured key (read once, at startup); None when Bearer tokens can't be accepted.

    A key that is configured but unusable is a SettingsError, so the app refuses to start.
    """
    configured = [
        name
        for name, value in (
            ("LABORHUB_JWT_SECRET", settings.jwt_secret),
            ("LABORHUB_JWT_PUBLIC_KEY", settings.jwt_public_key),
            ("LABORHUB_JWT_JWKS_FILE", settings.jwt_jwks_file),
        )
        if value
    ]
    if len(configured) > 1:
        raise SettingsError(f"configure one JWT key, not {' and '.join(configured)}")
    if settings.jwt_secret:
        return KeySet((VerificationKey(settings.jwt_secret.encode(), "HS256"),))
    if settings.jwt_public_key:
        return KeySet((public_key(settings.jwt_public_key),))
    if settings.jwt_jwks_file:
        return load_jwks(Path(settings.jwt_jwks_file))
    if settings.is_production:
        return None
    return KeySet((VerificationKey(development_jwt_secret(settings), "HS256"),))


def public_key(value: str) -> VerificationKey:
    """LABORHUB_JWT_PUBLIC_KEY: PEM text (`\\n` escapes allowed) or the path of a PEM file."""
    source = "LABORHUB_JWT_PUBLIC_KEY"
    pem = value.replace("\\n", "\n") if "-----BEGIN" in value else _read(Path(value), source)
    try:
        key = load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise SettingsError(f"{source} is not a PEM public key") from exc
    if isinstance(key, rsa.RSAPublicKey):
        return VerificationKey(key, "RS256")
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return VerificationKey(key, "ES256")
    raise SettingsError(f"{source} must be an RSA (RS256) or P-256 EC (ES256) public key")


def load_jwks(path: Path) -> KeySet:
    """The RS256/ES256 signing keys of a JWKS file; other keys are skipped with a warning."""
    source = "LABORHUB_JWT_JWKS_FILE"
    try:
        document = json.loads(_read(path, source))
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{source}: {path} is not JSON ({exc})") from exc
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SettingsError(f"{source}: {path} has no 'keys' list")
    keys = tuple(key for entry in entries if (key := _jwks_key(entry)) is not None)
    if not keys:
        raise SettingsError(f"{source}: {path} holds no RS256 or ES256 signing key")
    return KeySet(keys, by_kid=True)


def _jwks_key(entry: object) -> VerificationKey | None:
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    try:
        jwk = jwt.PyJWK(entry)
    except (jwt.PyJWKError, jwt.InvalidKeyError) as exc:
        log.warning("Skipping JWKS key %r: %s", entry.get("kid"), exc)
        return None
    if jwk.algorithm_name not in ASYMMETRIC_ALGORITHMS:
        log.warning("Skipping JWKS key %r: %s is not accepted", jwk.key_id, jwk.algorithm_name)
        return None
    return VerificationKey(jwk.key, jwk.algorithm_name, jwk.key_id)


def _read(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"{source}: can't read {path} ({exc.strerror})") from exc


def viewer_from_claims(claims: Mapping[str, Any], client_address: str | None = None) -> Viewer:
    """The viewer a verified token's claims describe; only the role's own claims are used."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("claim 'sub' is required")
    role = token_role(claims.get("role"))
    return Viewer(
        role,
        subject=subject,
        region_code=_region_claim(claims) if role is Role.STAFF else None,
        worker_id=_id_claim(claims, "workerId", "Worker", role) if role is Role.WORKER else None,
        employer_id=(
            _id_claim(claims, "employerId", "Employer", role) if role is Role.EMPLOYER else None
        ),
        client_address=client_address,
    )


def token_role(value: object) -> Role:
    if value is None:
        raise AuthenticationError("claim 'role' is required")
    for role in TOKEN_ROLES:
        if value == role.value:
            return role
    names = ", ".join(role.value for role in TOKEN_ROLES)
    raise AuthenticationError(f"claim 'role' must be one of {names}, not '{str(value)[:32]}'")


def _region_claim(claims: Mapping[str, Any]) -> str:
    region = claims.get("region")
    if region is None:
        raise AuthenticationError("claim 'region' is required for role staff")
    if not isinstance(region, str) or not is_division_code_format(region):
        raise AuthenticationError("claim 'region' must be a 6-digit division code")
    return region


def _id_claim(claims: Mapping[str, Any], claim: str, type_name: str, role: Role) -> int:
    """A `workerId`/`employerId`: the API's global ID, or the plain integer id."""
    value = claims.get(claim)
    if value is None:
        raise AuthenticationError(f"claim '{claim}' is required for role {role.value}")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    if isinstance(value, str):
        try:
            return decode_int_id(value, type_name, claim)
        except BadArgument:
            pass
    raise AuthenticationError(
        f"claim '{claim}' must be a global ID of type {type_name} or an integer id"
    )


def mint_token(
    settings: Settings,
    *,
    role: str,
    subject: str,
    region: str | None = None,
    worker_id: str | None = None,
    employer_id: str | None = None,
    ttl_seconds: int = 3600,
) -> str:
    """A token signed with the development secret, for GraphiQL and tests.

    Raises ValueError when a production key is configured (such tokens would not be accepted
    there, and must never be) or when the claims would be refused.
    """
    if settings.has_production_jwt_key:
        raise ValueError("refusing to mint: a production key is configured")
    if settings.is_production:
        raise ValueError("refusing to mint: development tokens are not accepted in production")
    if ttl_seconds < 1:
        raise ValueError(f"refusing to mint: the lifetime must be positive, got {ttl_seconds}s")
    now = int(time.time())
    optional = {
        "region": region,
        "workerId": worker_id,
        "employerId": employer_id,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    claims: dict[str, Any] = {"sub": subject, "role": role, "iat": now, "exp": now + ttl_seconds}
    claims.update({name: value for name, value in optional.items() if value is not None})
    try:
        viewer_from_claims(claims)
    except AuthenticationError as exc:
        raise ValueError(f"refusing to mint: {exc.message}") from None
    return jwt.encode(claims, development_jwt_secret(settings), algorithm="HS256")


# --- partner API keys ----------------------------------------------------------------------

API_KEY_SCHEME = "lh_"
PREFIX_LENGTH = 8
PREFIX_ALPHABET = string.ascii_letters + string.digits  # never '-': `keys revoke -x` is a flag
SECRET_BYTES = 32
HASH_FIELD = "api_key"  # PersonalDataVault.lookup_hash field of key secrets
TOUCH_INTERVAL_SECONDS = 60.0
UNKNOWN_KEY = "unknown or revoked API key"

_SCOPE = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}", re.ASCII)  # a root field name
_FIELD_RULE = re.compile(r"(?=.{1,128}$)[_A-Za-z]\w*\.(\*|[_A-Za-z]\w*)", re.ASCII)


_KEY_ROWS = select(  # the secret hash is read to verify, never shown
    ApiKey.id,
    ApiKey.prefix,
    ApiKey.secret_hash,
    ApiKey.partner,
    ApiKey.scopes,
    ApiKey.regions,
    ApiKey.fields,
    ApiKey.purpose,
    ApiKey.created_at,
    ApiKey.last_used_at,
    ApiKey.revoked_at,
)


@dataclass(frozen=True)
class _CachedKey:
    secret_hash: bytes
    grant: PartnerGrant | None  # None: revoked
    expires: float


class ApiKeyVerifier:
    """Verifies `lh_<prefix>_<secret>` keys against the `api_keys` table.

    Keys found are cached in this process for `cache_seconds` (30 s by default), so a hot key
    costs no SQL: a revocation takes effect within that time. `last_used_at` is written at
    most once a minute per key (and only when the stored value is older than that, so several
    processes don't all write it). The SQL run here is not counted in a request's
    X-SQL-Statements: it depends on the cache, not on the query.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        vault: PersonalDataVault,
        *,
        cache_seconds: float = KEY_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.cache_seconds = cache_seconds
        self.clock = clock
        self._cache: dict[str, _CachedKey] = {}
        self._touched: dict[int, float] = {}

    async def verify(self, presented: str) -> PartnerGrant:
        prefix, secret = split_api_key(presented)
        cached = await self._cached(prefix)
        presented_hash = self.vault.lookup_hash(HASH_FIELD, secret)
        if cached.grant is None or not hmac.compare_digest(cached.secret_hash, presented_hash):
            raise AuthenticationError(UNKNOWN_KEY)
        await self._record_use(cached.grant.key_id)
        return cached.grant

    async def _cached(self, prefix: str) -> _CachedKey:
        now = self.clock()
        cached = self._cache.get(prefix)
        if cached is None or cached.expires <= now:
            cached = await outside_statement_count(self._load(prefix, now + self.cache_seconds))
            if cached is None:
                raise AuthenticationError(UNKNOWN_KEY)
            self._cache[prefix] = cached
        return cached

    async def _record_use(self, key_id: int) -> None:
        now = self.clock()
        touched = self._touched.get(key_id)
        if touched is None or now - touched >= TOUCH_INTERVAL_SECONDS:
            self._touched[key_id] = now
            await outside_statement_count(self._touch(key_id))

    async def _load(self, prefix: str, expires: float) -> _CachedKey | None:
        async with self.engine.connect() as connection:
            found = await connection.execute(_KEY_ROWS.where(ApiKey.prefix == prefix))
            row = found.mappings().first()
        if row is None:
            return None
        return _CachedKey(row["secret_hash"], _key_info(row).grant, expires)

    async def _touch(self, key_id: int) -> None:
        recently = func.now() - timedelta(seconds=TOUCH_INTERVAL_SECONDS)
        async with self.engine.begin() as connection:
            await connection.execute(
                update(ApiKey)
                .where(ApiKey.id == key_id)
                .where(or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < recently))
                .values(last_used_at=func.now())
            )


def split_api_key(value: str) -> tuple[str, str]:
    """(prefix, secret) of `lh_<prefix>_<secret>`."""
    end = len(API_KEY_SCHEME) + PREFIX_LENGTH
    if not value.startswith(API_KEY_SCHEME) or len(value) <= end + 1 or value[end] != "_":
        raise AuthenticationError("malformed API key; expected lh_<prefix>_<secret>")
    return value[len(API_KEY_SCHEME) : end], value[end + 1 :]


def partner_viewer(grant: PartnerGrant, client_address: str | None = None) -> Viewer:
    return Viewer(
        Role.PARTNER,
        subject=f"partner:{grant.partner}",
        partner=grant,
        client_address=client_address,
    )


async def outside_statement_count(work: Coroutine[Any, Any, T]) -> T:
    """Await `work` with its own SQL statement counter, so the request's count leaves it out."""
    context = contextvars.copy_context()
    context.run(start_counting)
    return await asyncio.create_task(work, context=context)


# --- managing keys (the `laborhub keys` commands) ------------------------------------------


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key as `laborhub keys list` shows it: never its secret or its hash."""

    id: int
    prefix: str
    partner: str
    scopes: tuple[str, ...]
    regions: tuple[str, ...]
    fields: tuple[str, ...] | None
    purpose: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def grant(self) -> PartnerGrant | None:
        """What the key allows; None once revoked."""
        if self.revoked_at is not None:
            return None
        return PartnerGrant(
            key_id=self.id,
            partner=self.partner,
            scopes=frozenset(self.scopes),
            regions=self.regions,
            fields=frozenset(self.fields or ()) or None,
            purpose=self.purpose,
        )


async def create_api_key(
    engine: AsyncEngine,
    vault: PersonalDataVault,
    *,
    partner: str,
    scopes: Iterable[str],
    regions: Iterable[str],
    fields: Iterable[str] | None = None,
    purpose: str,
) -> str:
    """Store a new key and return it whole: `lh_<prefix>_<secret>`, shown this once only.

    Raises ValueError naming the first unusable argument.
    """
    values = {
        "partner": _text(partner, "partner", 128),
        "scopes": _names(scopes, "scope", _SCOPE.fullmatch, "a GraphQL field name"),
        "regions": _names(regions, "region", is_division_code_format, "a 6-digit division code"),
        "fields": _field_list(fields),
        "purpose": _text(purpose, "purpose", 64),
    }
    prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    async with engine.begin() as connection:
        await connection.execute(
            insert(ApiKey).values(
                prefix=prefix, secret_hash=vault.lookup_hash(HASH_FIELD, secret), **values
            )
        )
    return f"{API_KEY_SCHEME}{prefix}_{secret}"


async def list_api_keys(engine: AsyncEngine) -> list[ApiKeyInfo]:
    async with engine.connect() as connection:
        found = await connection.execute(_KEY_ROWS.order_by(ApiKey.id))
        return [_key_info(row) for row in found.mappings()]


def _key_info(row: RowMapping) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row["id"],
        prefix=row["prefix"],
        partner=row["partner"],
        scopes=tuple(row["scopes"]),
        regions=tuple(row["regions"]),
        fields=None if row["fields"] is None else tuple(row["fields"]),
        purpose=row["purpose"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def revoke_api_key(engine: AsyncEngine, prefix_or_id: str) -> bool:
    """Revoke the live key with this prefix (or else this id); False when there is none."""
    targets = [ApiKey.prefix == prefix_or_id]
    if prefix_or_id.isascii() and prefix_or_id.isdigit() and len(prefix_or_id) <= 18:
        targets.append(ApiKey.id == int(prefix_or_id))
    async with engine.begin() as connection:
        for target in targets:
            revoked = await connection.execute(
                update(ApiKey)
                .where(target, ApiKey.revoked_at.is_(None))
                .values(revoked_at=func.now())
                .returning(ApiKey.id)
            )
            if revoked.first() is not None:
                return True
    return False


def _field_list(fields: Iterable[str] | None) -> list[str] | None:
    """The readable fields; None (every field) when none are given."""
    if fields is None:
        return None
    return _names(fields, "field", _FIELD_RULE.fullmatch, "'Type.field' or 'Type.*'", 0) or None


def _text(value: str, what: str, max_length: int) -> str:
    """`value` stripped; the lengths are those of the `api_keys` columns."""
    text = value.strip()
    if not text:
        raise ValueError(f"{what} must not be empty")
    if len(text) > max_length:
        raise ValueError(f"{what} is longer than {max_length} characters")
    return text


def _names(
    values: Iterable[str],
    what: str,
    valid: Callable[[str], object],
    expected: str,
    at_least: int = 1,
) -> list[str]:
    """The values stripped and de-duplicated (in order), each one `valid`."""
    names: list[str] = []
    for value in (value.strip() for value in values):
        if not valid(value):
            raise ValueError(f"{what} '{value[:64]}' is not {expected}")
        if value not in names:
            names.append(value)
    if len(names) < at_least:
        raise ValueError(f"at least one {what} is required")
    return names


__all__ = [
    "KEY_CACHE_SECONDS",
    "TOKEN_ROLES",
    "ApiKeyInfo",
    "AuthenticationError",
    "Authenticator",
    "create_api_key",
    "development_jwt_secret",
    "list_api_keys",
    "mint_token",
    "revoke_api_key",
    "viewer_from_claims",
]
