"""The per-request context every resolver receives as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from strawberry.types import Info as StrawberryInfo

from resolvers.access import ANONYMOUS, Viewer
from resolvers.database import Database
from resolvers.events import EventSource
from resolvers.reads import Reads


@dataclass
class Context:
    database: Database  # writes on its engine, each in its own transaction; reads routed
    reads: Reads  # every read, under the viewer's row policies
    viewer: Viewer
    request: Request | None = None
    # Personal-data fields a partner's operation reads (set by the agreement check; audited).
    personal_fields: set[str] = field(default_factory=set)
    # The process's live events (a WebSocket connection's context has them; HTTP's has not).
    events: EventSource | None = None
    # What the client sent in `connection_init` (a WebSocket connection's; set by Strawberry).
    connection_params: dict[str, object] | None = None


def build_context(
    database: Database, request: Request | None = None, viewer: Viewer = ANONYMOUS
) -> Context:
    return Context(
        database=database, reads=Reads(database, viewer), viewer=viewer, request=request
    )


Info = StrawberryInfo[Context, None]
