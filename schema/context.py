"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from strawberry.types import Info as StrawberryInfo

from db.pii import PersonalDataVault
from resolvers.access import ANONYMOUS, Viewer
from resolvers.loaders import Loaders


@dataclass
class Context:
    engine: AsyncEngine
    vault: PersonalDataVault
    loaders: Loaders
    viewer: Viewer
    request: Request | None = None
    # Personal-data fields a partner's operation reads (set by the agreement check; audited).
    personal_fields: set[str] = field(default_factory=set)


def build_context(
    engine: AsyncEngine,
    vault: PersonalDataVault,
    request: Request | None = None,
    viewer: Viewer = ANONYMOUS,
) -> Context:
    return Context(
        engine=engine, vault=vault, loaders=Loaders(engine, viewer), viewer=viewer, request=request
    )


Info = StrawberryInfo[Context, None]
