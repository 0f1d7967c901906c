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
wrong; the endpoint answers 401 with it. Failures are counted per client address: after
`auth_failure_limit` of them within `auth_failure_window_seconds`, each further failure from
that address raises `TooManyFailures` (429 with `Retry-After`), while a credential that verifies
is answered as usual: many clients share an address (carrier-grade NAT, an agency's office, a
proxy), and one of them failing must not lock the others out. What the limit bounds is what
failures cost: past it, an API key whose prefix names no live key costs no SQL (a list of live
prefixes, read at most every 10 s, decides), a known prefix costs a keyed hash, a token a
signature check; keys are 256-bit secrets, so counting failures is not what stops guessing
them. Anonymous requests are never throttled here.

Modules: `errors` (AuthenticationError), `token_keys` (which keys sign tokens), `claims`
(claims -> Viewer), `tokens` (verify and mint), `api_keys` (stored keys: create, list, revoke),
`api_key_verifier` (check a presented key, cached). Import from `server.auth`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request

from db.pii import PersonalDataVault
from resolvers.access import Role, Viewer
from server.auth.api_key_verifier import (
    KEY_CACHE_SECONDS,
    TOUCH_INTERVAL_SECONDS,
    UNKNOWN_KEY,
    ApiKeyVerifier,
    outside_statement_count,
    partner_viewer,
    split_api_key,
)
from server.auth.api_keys import (
    API_KEY_SCHEME,
    HASH_FIELD,
    PREFIX_ALPHABET,
    PREFIX_LENGTH,
    SECRET_BYTES,
    ApiKeyInfo,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from server.auth.claims import TOKEN_ROLES, token_role, viewer_from_claims
from server.auth.errors import AuthenticationError, TooManyFailures
from server.auth.token_keys import (
    ASYMMETRIC_ALGORITHMS,
    DEVELOPMENT_JWT_INFO,
    KeySet,
    VerificationKey,
    development_jwt_secret,
    load_jwks,
    load_key_set,
    public_key,
)
from server.auth.tokens import TokenVerifier, describe_jwt_error, mint_token
from server.ratelimit import failure_limiter, retry_after_header
from server.settings import Settings


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
        self.failure_limit = settings.auth_failure_limit
        self.failure_window = settings.auth_failure_window_seconds
        self.failures = failure_limiter(self.failure_limit, self.failure_window, clock=clock)

    async def authenticate(self, request: Request) -> Viewer:
        address = request.client.host if request.client else None
        return await self.authenticate_credentials(
            _header(request, "authorization"), _header(request, "x-api-key"), address
        )

    async def authenticate_credentials(
        self, authorization: str | None, api_key: str | None, address: str | None
    ) -> Viewer:
        """`authenticate` of credentials given as values (blank ones absent): a request's
        headers, or what a WebSocket client sends in `connection_init`."""
        if authorization is None and api_key is None:
            return Viewer(Role.ANONYMOUS, client_address=address)
        failures_key = address or "unknown"
        throttled = self.failures is not None and self.failures.wait(failures_key) is not None
        try:
            return await self._verify(authorization, api_key, address, throttled)
        except AuthenticationError:
            wait = self.failures.take(failures_key) if self.failures is not None else None
            if wait is None:
                raise
            raise TooManyFailures(
                f"Too many failed credentials from this address ({self.failure_limit} within "
                f"{self.failure_window:g} s); retry after {retry_after_header(wait)} s.",
                wait,
            ) from None

    async def _verify(
        self, authorization: str | None, api_key: str | None, address: str | None,
        throttled: bool,
    ) -> Viewer:
        """The viewer of valid credentials. From an address past its failure limit
        (`throttled`), an API key whose prefix names no live key is refused without a lookup
        of its own; every other check costs what it costs anyone (a signature check, a keyed
        hash), so a valid credential is answered whatever its address did."""
        if authorization is not None and api_key is not None:
            raise AuthenticationError(
                "send either an Authorization header or an X-API-Key header, not both"
            )
        if authorization is not None:
            return self.tokens.viewer(bearer_token(authorization), address)
        assert api_key is not None
        grant = await self.api_keys.verify(api_key, known_prefixes_only=throttled)
        return partner_viewer(grant, address)


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


__all__ = [
    "API_KEY_SCHEME",
    "ASYMMETRIC_ALGORITHMS",
    "DEVELOPMENT_JWT_INFO",
    "HASH_FIELD",
    "KEY_CACHE_SECONDS",
    "PREFIX_ALPHABET",
    "PREFIX_LENGTH",
    "SECRET_BYTES",
    "TOKEN_ROLES",
    "TOUCH_INTERVAL_SECONDS",
    "UNKNOWN_KEY",
    "ApiKeyInfo",
    "ApiKeyVerifier",
    "AuthenticationError",
    "Authenticator",
    "KeySet",
    "TokenVerifier",
    "TooManyFailures",
    "VerificationKey",
    "bearer_token",
    "create_api_key",
    "describe_jwt_error",
    "development_jwt_secret",
    "list_api_keys",
    "load_jwks",
    "load_key_set",
    "mint_token",
    "outside_statement_count",
    "partner_viewer",
    "public_key",
    "revoke_api_key",
    "split_api_key",
    "token_role",
    "viewer_from_claims",
]
