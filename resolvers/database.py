"""What writes need: the engine (each write is one transaction) and the personal-data vault."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from db.pii import PersonalDataVault


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    vault: PersonalDataVault
