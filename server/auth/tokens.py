"""Bearer JSON Web Tokens: verifying the ones presented, minting development ones."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from resolvers.access import Viewer
from server.auth.claims import viewer_from_claims
from server.auth.errors import AuthenticationError
from server.auth.token_keys import development_jwt_secret, load_key_set
from server.caches import BoundedCache
from server.settings import Settings

VERIFIED_TOKENS = 4_096
VERIFIED_SECONDS = 60.0
"""A verified token is trusted again without checking its signature for this long (its `exp`
and `nbf` are checked every time), so a client sending the same token on every request pays
for one signature check a minute, and a key taken out of the key set stops counting within
a minute."""

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


@dataclass
class _Verified:
    """A token verified `at` (the clock's time), its claims and the viewer they describe (a
    token whose claims describe no viewer is refused and not kept)."""

    at: float
    claims: dict[str, Any]
    viewer: Viewer


class TokenVerifier:
    """Checks signature, `exp` (required), `nbf`, and `iss`/`aud` when configured."""

    def __init__(
        self, settings: Settings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.key_set = load_key_set(settings)
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self.clock = clock
        self._verified: BoundedCache[str, _Verified] = BoundedCache(VERIFIED_TOKENS)

    def decode(self, token: str) -> dict[str, Any]:
        """The claims of a valid token; AuthenticationError saying what is wrong otherwise."""
        return self._verified_now(token).claims

    def viewer(self, token: str, client_address: str | None) -> Viewer:
        """The viewer a valid token describes, asking from `client_address`; made once per
        token and address while the token is kept verified."""
        verified = self._verified_now(token)
        viewer = verified.viewer
        if viewer.client_address != client_address:
            viewer = verified.viewer = dataclasses.replace(viewer, client_address=client_address)
        return viewer

    def _verified_now(self, token: str) -> _Verified:
        now = self.clock()
        kept = self._verified.get(token)
        if kept is not None:
            if now - kept.at < VERIFIED_SECONDS and self._in_time(kept.claims, now):
                return kept
            self._verified.pop(token)
        claims = self._verify(token)
        verified = _Verified(now, claims, viewer_from_claims(claims))
        self._verified.put(token, verified)
        return verified

    def _in_time(self, claims: dict[str, Any], now: float) -> bool:
        """Still valid at `now`: before `exp`, and not before `nbf` (both with the leeway)."""
        expires, not_before = claims.get("exp"), claims.get("nbf")
        if not isinstance(expires, int | float) or now > expires + self.leeway:
            return False
        return not_before is None or (
            isinstance(not_before, int | float) and now >= not_before - self.leeway
        )

    def _verify(self, token: str) -> dict[str, Any]:
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
