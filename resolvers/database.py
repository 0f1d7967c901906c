"""What reads and writes need: the engine (each write is one transaction), the personal-data
vault, and the driver's own pool for statements sent past SQLAlchemy (compiled reads)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    vault: PersonalDataVault
    statements: asyncpg.Pool | None = None  # None: such statements use the engine's pool
