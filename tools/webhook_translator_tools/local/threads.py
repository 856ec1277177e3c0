"""Run a socketserver-style server (``serve_forever``/``shutdown``/``server_close``) on a daemon thread."""

from __future__ import annotations

import threading
from typing import Protocol


class _Serving(Protocol):
    def serve_forever(self, poll_interval: float = ...) -> None: ...
    def shutdown(self) -> None: ...
    def server_close(self) -> None: ...


class ServerThread:
    def __init__(self, server: _Serving, name: str, *, poll_interval: float = 0.1) -> None:
        self._server = server
        self._name = name
        self._poll_interval = poll_interval
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": self._poll_interval},
            name=self._name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (waiting up to 5 s for the thread) and close the socket."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
