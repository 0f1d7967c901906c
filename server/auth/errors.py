"""The one exception of authentication: credentials that were presented but can't be accepted."""

from __future__ import annotations


class AuthenticationError(Exception):
    """Credentials were presented but can't be accepted; the client gets 401 and `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
