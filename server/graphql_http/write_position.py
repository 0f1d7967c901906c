"""Read-your-writes across requests, whichever process serves them: a response to a request
that ran a mutation carries the primary's WAL position after it (`Laborhub-Write-Position`),
and a request that sends it back reads nothing older (see `resolvers.database.ReadRoute`).
Only with a read replica (`DATABASE_READ_URL`); without one, every read is on the primary."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import Response

from db.replica import BadWritePosition, format_position, parse_position, write_position
from resolvers.database import Database, ReadRoute
from server.graphql_http.errors import RequestError

HEADER = "Laborhub-Write-Position"
_SCOPE_KEY = "laborhub.read_route"

log = logging.getLogger("laborhub.request")


def request_route(request: Request) -> ReadRoute:
    """The request's route, made on first use from the header it sent (400 when that is not
    a write position) and shared by the operations of a batch."""
    route: ReadRoute | None = request.scope.get(_SCOPE_KEY)
    if route is None:
        sent = request.headers.get(HEADER)
        try:
            after = None if sent is None else parse_position(sent)
        except BadWritePosition as exc:
            raise RequestError(
                400, f"Header {HEADER}: {exc}; send back the value a response gave.",
                code="BAD_USER_INPUT",
            ) from exc
        route = request.scope[_SCOPE_KEY] = ReadRoute(after)
    return route


def note_writing(request: Request) -> None:
    """A mutation is about to run: the request's reads go to the primary from now on."""
    route: ReadRoute | None = request.scope.get(_SCOPE_KEY)
    if route is not None:
        route.writing()


async def add_write_position(request: Request, response: Response) -> None:
    """After a request that wrote, with a replica: the header telling where the primary's WAL
    is now. If the primary can't tell (it went away meanwhile), the header is left out."""
    route: ReadRoute | None = request.scope.get(_SCOPE_KEY)
    database: Database | None = getattr(request.state, "database", None)
    if route is None or not route.written or database is None or database.replica is None:
        return
    try:
        position = await write_position(database.engine)
    except Exception as exc:
        log.warning("No write position for the response: %s", type(exc).__name__, exc_info=exc)
        return
    response.raw_headers.append((HEADER.lower().encode(), format_position(position).encode()))
