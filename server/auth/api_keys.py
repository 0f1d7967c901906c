"""Partner API keys as stored: their format, and creating, listing and revoking them.

A key is `lh_<prefix>_<secret>`; the `api_keys` table holds the prefix and only a keyed hash
of the secret. These are the `laborhub keys` commands; `api_key_verifier` checks presented keys.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from db.codes import is_division_code_format
from db.models.access import ApiKey
from db.pii import PersonalDataVault
from resolvers.access import PartnerGrant
from resolvers.catalog import CATALOG

API_KEY_SCHEME = "lh_"
PREFIX_LENGTH = 8
PREFIX_ALPHABET = string.ascii_letters + string.digits  # never '-': `keys revoke -x` is a flag
SECRET_BYTES = 32
HASH_FIELD = "api_key"  # PersonalDataVault.lookup_hash field of key secrets

_SCOPE = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}", re.ASCII)  # a root field name
_FIELD_RULE = re.compile(r"(?=.{1,128}$)[_A-Za-z]\w*\.(\*|[_A-Za-z]\w*)", re.ASCII)


KEY_ROWS = select(  # the secret hash is read to verify, never shown
    ApiKey.id,
    ApiKey.prefix,
    ApiKey.secret_hash,
    ApiKey.partner,
    ApiKey.scopes,
    ApiKey.regions,
    ApiKey.fields,
    ApiKey.types,
    ApiKey.purpose,
    ApiKey.created_at,
    ApiKey.last_used_at,
    ApiKey.revoked_at,
)


@dataclass(frozen=True)
class ApiKeyInfo:
    """A key as `laborhub keys list` shows it: never its secret or its hash."""

    id: int
    prefix: str
    partner: str
    scopes: tuple[str, ...]
    regions: tuple[str, ...]
    fields: tuple[str, ...] | None
    types: tuple[str, ...]
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
            types=frozenset(self.types),
        )


def key_info(row: RowMapping) -> ApiKeyInfo:
    """The `ApiKeyInfo` of a row selected by `KEY_ROWS`."""
    return ApiKeyInfo(
        id=row["id"],
        prefix=row["prefix"],
        partner=row["partner"],
        scopes=tuple(row["scopes"]),
        regions=tuple(row["regions"]),
        fields=None if row["fields"] is None else tuple(row["fields"]),
        types=tuple(row["types"] or ()),
        purpose=row["purpose"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
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
    types: Sequence[str] | None = None,
) -> str:
    """Store a new key and return it whole: `lh_<prefix>_<secret>`, shown this once only.

    `types` names the GraphQL object types the agreement reaches beyond those its scopes
    return (see `resolvers.agreements`), e.g. `Application`, `Worker`.
    Raises ValueError naming the first unusable argument.
    """
    values = {
        "partner": _text(partner, "partner", 128),
        "scopes": _names(scopes, "scope", _SCOPE.fullmatch, "a GraphQL field name"),
        "regions": _names(regions, "region", is_division_code_format, "a 6-digit division code"),
        "fields": _field_list(fields),
        "types": _type_list(types),
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
        found = await connection.execute(KEY_ROWS.order_by(ApiKey.id))
        return [key_info(row) for row in found.mappings()]


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


def _type_list(types: Sequence[str] | None) -> list[str] | None:
    """The named types, each a data type of the schema; None when none are named."""
    if types is None:
        return None
    names = {entity.name for entity in CATALOG}
    expected = f"a type an agreement can name ({', '.join(sorted(names))})"
    return _names(types, "type", names.__contains__, expected, 0) or None


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
