"""The exceptions of authentication: credentials that can't be accepted, or not yet checked."""

from __future__ import annotations


class AuthenticationError(Exception):
    """Credentials were presented but can't be accepted; the client gets 401 and `message`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TooManyFailures(Exception):
    """The client's address presented too many bad credentials lately; the client gets 429,
    `message` and `Retry-After: retry_after` (seconds), and the credential is not checked."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after
