"""A partner API key for tests, with every worker's consent to its own purpose (or none)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault
from db.session import create_engine
from server.auth import create_api_key, revoke_api_key
from server.settings import Settings


@asynccontextmanager
async def every_worker_consenting(engine: AsyncEngine, purpose: str) -> AsyncIterator[None]:
    """Every worker consents to `purpose` for the block; the consents are removed after."""
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO consents (worker_id, purpose, version) "
                 "SELECT id, :purpose, 'v1' FROM workers"),
            {"purpose": purpose},
        )
    try:
        yield
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM consents WHERE purpose = :purpose"), {"purpose": purpose}
            )


@asynccontextmanager
async def consented_partner_key(
    settings: Settings,
    database_url: str,
    *,
    partner: str,
    scopes: Sequence[str],
    regions: Sequence[str],
    types: Sequence[str] | None = None,
    fields: Sequence[str] | None = None,
    purpose: str | None = None,
    consenting: bool = True,
) -> AsyncIterator[str]:
    """A key for `partner`; every worker consents to its purpose (by default one of its
    own), unless not `consenting`. Afterwards the consents are removed and the key revoked,
    so no other test sees them."""
    purpose = purpose or f"{partner}-{uuid.uuid4().hex[:12]}"[:64]
    engine = create_engine(database_url)
    try:
        key = await create_api_key(
            engine, PersonalDataVault(settings.master_key()), partner=partner,
            scopes=list(scopes), regions=list(regions), types=types, fields=fields,
            purpose=purpose,
        )
        try:
            if not consenting:
                yield key
                return
            async with every_worker_consenting(engine, purpose):
                yield key
        finally:
            await revoke_api_key(engine, key[3:11])
    finally:
        await engine.dispose()
