"""What the local provider API fakes share (Graph API, Acuity, HubSpot, Stripe): a loopback server with faults.

A fake answers ``GET`` calls from its seeded objects, checks the credential the way the provider
does, and records every call (path, status; never the credential). Faults (:class:`ProviderFault`)
make it answer like a struggling provider, for every call or only for paths containing ``match``
(an object id):

* ``status`` — an error status (with ``Retry-After`` when given) in the provider's error shape;
* ``hang`` — wait ``delay`` seconds before answering (past the client's read timeout);
* ``reset`` — read the request and reset the connection (TCP RST) without an answer.

Other processes drive it over HTTP, as the local Ours:

===============================  ==============================================
``GET /_control/health``         ``{"ok": true}``
``GET /_control/requests``       every call: ``[{"path", "status"}]``
``GET /_control/faults``         the active faults
``POST /_control/faults``        add a fault (a :class:`ProviderFault` as JSON)
``DELETE /_control/faults``      clear the faults
===============================  ==============================================
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qs, urlsplit

from webhook_translator_tools.local.threads import ServerThread

__all__ = ["Answer", "LocalProviderApi", "ProviderCall", "ProviderFault"]


@dataclass
class ProviderFault:
    """Make a fake provider misbehave; ``times`` calls (``None``: until cleared), paths containing ``match``."""

    kind: Literal["status", "hang", "reset"]
    status: int = 503
    retry_after: str | None = None
    delay: float = 30.0
    times: int | None = None
    match: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("status", "hang", "reset"):
            raise ValueError("kind must be status, hang or reset")
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if isinstance(self.delay, bool) or not isinstance(self.delay, int | float) or self.delay < 0:
            raise ValueError("delay must be a number >= 0")
        if self.times is not None and (isinstance(self.times, bool) or not isinstance(self.times, int)):
            raise ValueError("times must be an integer or null")
        for name in ("retry_after", "match"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string or null")

    @classmethod
    def from_json(cls, data: Any) -> ProviderFault:
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        if "kind" not in data:
            raise ValueError("a fault needs a kind")
        return cls(**data)


class ProviderCall(NamedTuple):
    """One call as a fake saw it: the path (no query), the status it answered (0: reset)."""

    path: str
    status: int


class Answer(NamedTuple):
    status: int
    body: Any
    headers: Mapping[str, str] = {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fake: LocalProviderApi


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if 0 < length <= 65_536 else b""
        fake = self.server.fake
        if parts.path.startswith("/_control/"):
            self._send(fake.control(method, parts.path.rstrip("/"), raw))
            return
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        answer = fake.call(method, parts.path, query, {k.lower(): v for k, v in self.headers.items()})
        if answer is None:  # a reset
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            return
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        data = json.dumps(answer.body).encode("utf-8")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up (a hang)
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)


class LocalProviderApi:
    """The base of a fake provider API: subclasses answer :meth:`route` and shape :meth:`error`."""

    #: the path prefix the provider's API base URL ends with (``/v21.0``, ``/api/v1``)
    prefix: str = ""
    name: str = "provider"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, echo: Callable[[str], None] | None = None) -> None:
        self.host = host
        self._requested_port = port
        self.echo = echo
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults: list[ProviderFault] = []
        self._calls: list[ProviderCall] = []
        self._server: _Server | None = None
        self._thread: ServerThread | None = None

    # --- what a subclass says --------------------------------------------------------------------

    def route(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        raise NotImplementedError

    def error(self, status: int, message: str) -> Any:
        """The provider's error body for ``status``."""
        return {"error": message}

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> LocalProviderApi:
        if self._server is None:
            self._stopping.clear()
            server = _Server((self.host, self._requested_port), _Handler)
            server.fake = self
            self._server = server
            self._thread = ServerThread(server, f"local-{self.name}", poll_interval=0.02)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()  # wakes hanging answers
        if self._thread is not None:
            self._thread.stop()
        self._server = self._thread = None

    @property
    def url(self) -> str:
        """The API base URL, as the source's ``api_base_url`` option expects it."""
        if self._server is None:
            raise RuntimeError(f"the local {self.name} is not running")
        return f"http://{self.host}:{self._server.server_address[1]}{self.prefix}"

    # --- faults and calls --------------------------------------------------------------------------

    def inject(self, fault: ProviderFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def calls(self) -> list[ProviderCall]:
        with self._lock:
            return list(self._calls)

    def _take_fault(self, path: str) -> ProviderFault | None:
        with self._lock:
            for fault in self._faults:
                if fault.match is None or fault.match in path:
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _record(self, path: str, status: int, detail: str = "") -> None:
        with self._lock:
            self._calls.append(ProviderCall(path, status))
        if self.echo is not None:
            self.echo(f"{self.name} GET {path} {status or 'reset'}{detail}")

    def call(self, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Answer | None:
        """One API call: a fault, else :meth:`route` (``None``: reset the connection)."""
        fault = self._take_fault(path)
        if fault is not None and fault.kind == "reset":
            self._record(path, 0, " (injected fault)")
            return None
        if fault is not None and fault.kind == "hang":
            self._stopping.wait(fault.delay)
        if fault is not None and fault.kind == "status":
            extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            self._record(path, fault.status, " (injected fault)")
            return Answer(fault.status, self.error(fault.status, "injected fault"), extra)
        if method != "GET" or not path.startswith(self.prefix + "/"):
            answer = Answer(404 if method == "GET" else 405, self.error(404, "unknown path"))
        else:
            answer = self.route(path[len(self.prefix) :], query, headers)
        self._record(path, answer.status)
        return answer

    def control(self, method: str, path: str, raw: bytes) -> Answer:
        route = (method, path)
        if route == ("GET", "/_control/health"):
            return Answer(200, {"ok": True})
        if route == ("GET", "/_control/requests"):
            return Answer(200, [c._asdict() for c in self.calls])
        if route == ("GET", "/_control/faults"):
            with self._lock:
                return Answer(200, [asdict(f) for f in self._faults])
        if route == ("DELETE", "/_control/faults"):
            self.clear_faults()
            return Answer(200, {"ok": True})
        if route == ("POST", "/_control/faults"):
            try:
                fault = ProviderFault.from_json(json.loads(raw or b"null"))
            except (ValueError, TypeError) as exc:
                return Answer(400, {"ok": False, "error": str(exc)})
            self.inject(fault)
            return Answer(201, {"ok": True, "fault": asdict(fault)})
        return Answer(404, {"ok": False, "error": "not found"})
