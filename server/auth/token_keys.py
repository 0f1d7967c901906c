"""The keys Bearer tokens may be signed with: read once from the settings, chosen per token.

One key is configured: LABORHUB_JWT_SECRET (HS256), LABORHUB_JWT_PUBLIC_KEY (RS256/ES256) or
LABORHUB_JWT_JWKS_FILE (RS256/ES256, chosen by `kid`); outside production with none configured,
the development secret that `laborhub token` mints with. Only the key's algorithm is accepted.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from db.pii import derive_key
from server.auth.errors import AuthenticationError
from server.settings import Settings, SettingsError

log = logging.getLogger("laborhub.auth")

DEVELOPMENT_JWT_INFO = b"laborhub development jwt v1"
ASYMMETRIC_ALGORITHMS = ("RS256", "ES256")


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
