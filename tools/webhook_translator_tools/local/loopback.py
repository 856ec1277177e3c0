"""What the local fakes (Ours ingest, the Ours Platform API, the provider APIs) share.

:class:`LoopbackService` runs a ``ThreadingHTTPServer`` on loopback from a daemon thread (``start``,
``stop``, a context manager, ``port``), keeps the faults and the recorded requests under one lock,
and serves the control endpoints every fake has::

    GET /_control/health        {"ok": true}
    GET /_control/requests      every call, as the fake records it
    GET|POST|DELETE /_control/faults

A subclass answers :meth:`LoopbackService.dispatch` (its API) and may add control routes
(:meth:`LoopbackService.control_routes`). :class:`LoopbackHandler` reads bodies, writes JSON answers
and hangs up (:class:`HangUp`) on a fake's behalf.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import socket
import struct
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Final, Generic, NamedTuple, Protocol, Self, TypeVar
from urllib.parse import SplitResult, urlsplit

from webhook_translator_tools.local.threads import ServerThread

__all__ = [
    "Answer",
    "FaultFields",
    "HangUp",
    "LoopbackHandler",
    "LoopbackService",
    "MethodHandler",
    "check_fault_fields",
    "parse_json",
]

#: an oversized body up to this size is read and discarded before the answer is sent
_MAX_DRAIN_BYTES: Final = 64 * 1024 * 1024
#: control bodies (a fault, a seed) larger than this get 413
CONTROL_BODY_MAX: Final = 1_048_576


class Answer(NamedTuple):
    """A JSON answer: status, body, extra headers."""

    status: int
    body: Any
    headers: Mapping[str, str] = {}


class HangUp(Exception):
    """Raised by a fake to hang up without an answer: ``reset`` sends a TCP RST, else a clean shutdown."""

    def __init__(self, *, reset: bool = False) -> None:
        super().__init__("hang up")
        self.reset = reset


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(data: bytes) -> Any:
    """Strict JSON (no NaN/Infinity); ``ValueError`` for anything else."""
    return json.loads(data.decode("utf-8"), parse_constant=_reject_constant)


# --- faults ---------------------------------------------------------------------------------


class _Fault(Protocol):
    times: int | None


class _Record(Protocol):
    def _asdict(self) -> dict[str, Any]: ...


F = TypeVar("F", bound=_Fault)
R = TypeVar("R", bound=_Record)


class FaultFields:
    """``from_json`` for a fault dataclass: unknown keys refused, ``required`` keys present."""

    required: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_json(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        for name in cls.required:
            if name not in data:
                raise ValueError(f"a fault needs a {name}")
        return cls(**data)


def check_fault_fields(fault: Any, *, strings: tuple[str, ...] = (), nullable: tuple[str, ...] = ()) -> None:
    """The checks every fault shares: ``status`` an HTTP status, ``times`` an integer or null,
    ``nullable`` fields a string or null, ``strings`` fields a string."""
    status = fault.status
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise ValueError("status must be an HTTP status code")
    if fault.times is not None and (isinstance(fault.times, bool) or not isinstance(fault.times, int)):
        raise ValueError("times must be an integer or null")
    for name in nullable:
        if getattr(fault, name) is not None and not isinstance(getattr(fault, name), str):
            raise ValueError(f"{name} must be a string or null")
    for name in strings:
        if not isinstance(getattr(fault, name), str):
            raise ValueError(f"{name} must be a string")


# --- the handler ----------------------------------------------------------------------------


class _LoopbackServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    service: LoopbackService[Any, Any]


class MethodHandler(BaseHTTPRequestHandler):
    """A handler whose ``do_GET`` … ``do_PATCH`` all call :meth:`serve_method`; it logs nothing."""

    def log_message(self, format: str, *args: Any) -> None:  # the fakes' echo lines say what happened
        return

    def serve_method(self, method: str) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self.serve_method("GET")

    def do_POST(self) -> None:
        self.serve_method("POST")

    def do_DELETE(self) -> None:
        self.serve_method("DELETE")

    def do_PUT(self) -> None:
        self.serve_method("PUT")

    def do_PATCH(self) -> None:
        self.serve_method("PATCH")


class LoopbackHandler(MethodHandler):
    protocol_version = "HTTP/1.1"
    #: headers and body are separate writes: without this, Nagle + delayed ACK add 40 ms per answer
    disable_nagle_algorithm = True
    #: idle keep-alive connections give up after this many seconds
    timeout = 30
    server: _LoopbackServer

    def version_string(self) -> str:
        return f"{self.server.service.server_version} {self.sys_version}"

    def serve_method(self, method: str) -> None:
        service = self.server.service
        if method not in service.methods:
            self.send_error(501, f"Unsupported method ({method!r})")
            return
        try:
            service.dispatch(self, method, urlsplit(self.path))
        except HangUp as hang_up:
            self._hang_up(reset=hang_up.reset)

    def _hang_up(self, *, reset: bool) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
            else:
                self.connection.shutdown(socket.SHUT_RDWR)

    def read_body(self, *, limit: int) -> bytes | None:
        """The request body, or ``None`` if it is larger than ``limit`` (then the connection is closed)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if length > limit:
            # drain what the client is sending (so it reads the answer instead of a reset), then hang up
            remaining = length if length <= _MAX_DRAIN_BYTES else 0
            while remaining > 0:
                chunk = self.rfile.read(min(remaining, 65_536))
                if not chunk:
                    break
                remaining -= len(chunk)
            self.close_connection = True
            return None
        return self.rfile.read(length) if length > 0 else b""

    def answer(self, answer: Answer) -> None:
        data = json.dumps(answer.body).encode("utf-8")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up (a hang)
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)


# --- the service ----------------------------------------------------------------------------

ControlRoute = Callable[[bytes], Answer]


class LoopbackService(Generic[F, R]):
    """A fake served on loopback: lifecycle, faults (``F``), recorded requests (``R``), control endpoints."""

    #: the fake's name in the thread name and the "not running" error
    name: str = "service"
    server_version: str = BaseHTTPRequestHandler.server_version
    #: the methods it serves (others get 501, as ``http.server`` answers them)
    methods: ClassVar[frozenset[str]] = frozenset({"GET", "POST", "DELETE"})

    def __init__(
        self, host: str, port: int, *, parse_fault: Callable[[Any], F], echo: Callable[[str], None] | None
    ) -> None:
        self.host = host
        self._requested_port = port
        self.echo = echo
        self._parse_fault = parse_fault
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._faults: list[F] = []
        self._requests: list[R] = []
        self._server: _LoopbackServer | None = None
        self._thread: ServerThread | None = None

    # --- what a subclass says --------------------------------------------------------------------

    def dispatch(self, handler: LoopbackHandler, method: str, url: SplitResult) -> None:
        """Answer one call through ``handler`` (``/_control/`` calls included)."""
        raise NotImplementedError

    def control_routes(self) -> dict[tuple[str, str], ControlRoute]:
        """The control endpoints: ``(method, path)`` → a function of the request body."""
        return {
            ("GET", "/_control/health"): lambda raw: Answer(200, {"ok": True}),
            ("GET", "/_control/requests"): lambda raw: Answer(200, [r._asdict() for r in self.requests]),
            ("GET", "/_control/faults"): lambda raw: Answer(200, [dataclasses.asdict(f) for f in self.faults]),  # type: ignore[call-overload]
            ("POST", "/_control/faults"): self._post_fault,
            ("DELETE", "/_control/faults"): self._delete_faults,
        }

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is None:
            self._stopping.clear()
            server = _LoopbackServer((self.host, self._requested_port), LoopbackHandler)
            server.service = self
            self._server = server
            self._thread = ServerThread(server, f"local-{self.name}", poll_interval=0.02)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()  # wakes answers that wait (slow or hanging faults)
        self._thread.stop()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError(f"the local {self.name} is not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # --- faults and requests ---------------------------------------------------------------------

    @property
    def faults(self) -> list[F]:
        with self._lock:
            return list(self._faults)

    def inject(self, fault: F) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[R]:
        """Every API call as the fake recorded it."""
        with self._lock:
            return list(self._requests)

    def _spend(self, fault: F) -> None:
        """Count one hit of ``fault`` (call with the lock held); it goes when its ``times`` are spent."""
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0:
                self._faults.remove(fault)

    # --- control ---------------------------------------------------------------------------------

    def control(self, handler: LoopbackHandler, method: str, path: str) -> None:
        """Answer a ``/_control/...`` call: its route, 405 for a known path, else 404."""
        path = path.rstrip("/")
        routes = self.control_routes()
        route = routes.get((method, path))
        raw = handler.read_body(limit=CONTROL_BODY_MAX)
        if raw is None:
            answer = Answer(413, {"ok": False, "error": "body too large"})
        elif route is not None:
            answer = route(raw)
        elif any(path == known for _, known in routes):
            answer = Answer(405, {"ok": False, "error": "method not allowed"})
        else:
            answer = Answer(404, {"ok": False, "error": "not found"})
        handler.answer(answer)

    def _post_fault(self, raw: bytes) -> Answer:
        try:
            fault = self._parse_fault(parse_json(raw or b"null"))
        except (ValueError, TypeError) as exc:
            return Answer(400, {"ok": False, "error": str(exc)})
        self.inject(fault)
        return Answer(201, {"ok": True, "fault": dataclasses.asdict(fault)})  # type: ignore[call-overload]

    def _delete_faults(self, raw: bytes) -> Answer:
        self.clear_faults()
        return Answer(200, {"ok": True})
