"""What reads and writes need: the engine (each write is one transaction), the personal-data
vault, and the pool of driver connections for statements sent past SQLAlchemy (compiled
reads)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault
from db.statement_pool import StatementPool


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    vault: PersonalDataVault
    statements: StatementPool | None = None  # None: such statements use the engine's pool
