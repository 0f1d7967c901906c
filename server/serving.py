"""The process of `laborhub serve`: its listening socket, uvicorn (one process or N workers),
and how it stops.

Ctrl-C (SIGINT), `kill` (SIGTERM) and a closed terminal (SIGHUP) stop it alike, and always by
unwinding the stack, so that whatever `serve` holds is released on the way out (the embedded
PostgreSQL stops when its `with` block exits):

- before uvicorn serves (while migrating or seeding), a signal raises `Stopped`, which unwinds
  like KeyboardInterrupt;
- while it serves, a signal starts uvicorn's graceful shutdown. uvicorn handles SIGINT and
  SIGTERM itself and, once shut down, raises the signal again for the handler that was there
  before it: `StopSignals`' handler, which records it instead of killing the process. SIGHUP,
  which uvicorn leaves alone, starts the same shutdown. With workers, uvicorn's supervisor
  stops on all three (uvicorn's own restarts its workers on SIGHUP).

`main()` then returns 128 + the signal's number, and `exit_with` ends the process by that
signal (once everything is released), as shells and service managers expect: a shell loop stops
on Ctrl-C, systemd counts a stop on SIGTERM as clean.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
from types import FrameType, TracebackType
from typing import Any, NoReturn

import uvicorn
from uvicorn.supervisors import Multiprocess

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """A stop signal arrived before serving began (a BaseException, like KeyboardInterrupt)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class CannotListen(RuntimeError):
    """The address to serve on can't be bound; the message says what to do."""


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, for uvicorn to listen on (checked before anything else)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CannotListen(f"port {port} is in use; pass --port") from exc
        raise CannotListen(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.set_inheritable(True)  # worker processes serve on it too
    return sock


class StopSignals:
    """While in its `with` block, the stop signals stop `serve` as the module says."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._server: uvicorn.Server | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        self._previous = {sig: signal.signal(sig, self._handle) for sig in STOP_SIGNALS}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    @property
    def exit_status(self) -> int:
        return 0 if self.received is None else 128 + self.received

    def serve(self, config: uvicorn.Config, sock: socket.socket) -> None:
        """Serve on `sock` until a stop signal (or a failed start-up)."""
        if config.workers > 1:
            supervisor = Supervisor(config, sockets=[sock])
            supervisor.run()
            self.received = self.received or supervisor.received
        else:
            self._server = uvicorn.Server(config)
            self._server.run(sockets=[sock])

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.received = self.received or signum
        if self._server is None:
            raise Stopped(signum)
        self._server.handle_exit(signum, frame)


def exit_with(status: int) -> NoReturn:
    """Exit with `status`; 128 + a stop signal's number is a death by that signal."""
    if status - 128 in STOP_SIGNALS:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        signal.signal(status - 128, signal.SIG_DFL)
        os.kill(os.getpid(), status - 128)
    sys.exit(status)


class Supervisor(Multiprocess):
    """uvicorn's supervisor of worker processes, stopping on SIGHUP too, and telling which
    signal stopped it."""

    received: int | None = None

    def handle_int(self) -> None:
        self.received = self.received or signal.SIGINT
        super().handle_int()

    def handle_term(self) -> None:
        self.received = self.received or signal.SIGTERM
        super().handle_term()

    def handle_hup(self) -> None:
        self.received = self.received or signal.SIGHUP
        self.should_exit.set()
