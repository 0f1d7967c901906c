"""Content negotiation: the response media type for an Accept header, or the GraphiQL page."""

from __future__ import annotations

from starlette.requests import Request

from server.caches import BoundedCache

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def wants_ide(request: Request) -> bool:
    """A browser opening the page (a GET asking for HTML, naming no JSON type): GraphiQL,
    with the query a link gives in its editor; a client asking for JSON gets the result."""
    if request.method != "GET":
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept and JSON not in accept and GRAPHQL_RESPONSE_JSON not in accept


_NEGOTIATED: BoundedCache[str, str | None] = BoundedCache(
    256, max_weight=64 * 1024, weigh=lambda accept, _answer: len(accept)
)
"""Answers for the Accept headers seen lately: clients send the same few, every request."""


def negotiate(accept: str | None) -> str | None:
    """The response media type for an Accept header, or None when neither is acceptable.

    Highest quality wins; on a tie a type the client named beats a wildcard match, and
    application/graphql-response+json beats application/json only when named.
    `*/*` and a missing header mean application/json (legacy clients).
    """
    if accept is None or not accept.strip():
        return JSON
    if accept in _NEGOTIATED:
        return _NEGOTIATED.get(accept)
    media_type = _negotiated(accept)
    _NEGOTIATED.put(accept, media_type)
    return media_type


def _negotiated(accept: str) -> str | None:
    ranges = [_media_range(part) for part in accept.split(",") if part.strip()]
    best: str | None = None
    best_key = (0.0, False, False)
    for candidate in (JSON, GRAPHQL_RESPONSE_JSON):
        quality, named = _quality(candidate, ranges)
        key = (quality, named, named and candidate == GRAPHQL_RESPONSE_JSON)
        if quality > 0 and key > best_key:
            best, best_key = candidate, key
    return best


def _media_range(part: str) -> tuple[str, float]:
    media_type, *params = (piece.strip() for piece in part.split(";"))
    quality = 1.0
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = min(max(float(value), 0.0), 1.0)
            except ValueError:
                quality = 0.0
    return media_type.lower(), quality


def _quality(candidate: str, ranges: list[tuple[str, float]]) -> tuple[float, bool]:
    """The quality of the most specific matching range, and whether it names `candidate`."""
    major = candidate.split("/")[0]
    specificity = {candidate: 2, f"{major}/*": 1, "*/*": 0}
    matches = [(specificity[r], q) for r, q in ranges if r in specificity]
    if not matches:
        return 0.0, False
    level, quality = max(matches)
    return quality, level == 2
