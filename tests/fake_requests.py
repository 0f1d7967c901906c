"""Bare Starlette requests and a settable clock, for the authenticator's own tests."""

from __future__ import annotations

from starlette.requests import Request

CLIENT_ADDRESS = "192.0.2.7"


class Clock:
    """A monotonic clock that moves only when a test sets `now`."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def request(client: str = CLIENT_ADDRESS, **headers: str) -> Request:
    """A request from `client` with `headers` (`x_api_key=` for `x-api-key`)."""
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return Request({"type": "http", "headers": raw, "client": (client, 4711)})
