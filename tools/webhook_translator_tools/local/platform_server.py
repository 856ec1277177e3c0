"""A local Ours Platform API (management, not ingest): the allowlist, its draft, and publishing.

Written from ``shared/ours-api.md`` ("The Platform API") and the OpenAPI file of
Ours's ``platform-sdk-nodejs``; where those are silent it takes the conservative
reading. What it serves, under ``/rest/v1`` (``Authorization: Bearer <API key>``,
401 ``{"error": ...}`` otherwise):

* ``GET /allowed-events`` — ``{"entities": [{"id", "name", "destinationIds", "createdAt", ...}]}``,
  the allowlist as edited (the **draft**), names beginning with ``$`` hidden.
* ``POST /allowed-events`` ``{"name"}`` — 200 with the entity, added to the draft; 409 with
  ``error`` for a duplicate (case-insensitive), an empty or too long name, or a reserved ``$`` name.
* ``GET /versions/draft/diff`` — what publishing would change:
  ``{"count", "differences": {"allowedEvents": {"added": [...], "removed": [], "modified": []}}}``.
* ``POST /versions`` — publish the draft: 200 with the version; 409 when there is nothing
  to publish, or while another publish is in flight.

Faults (:class:`PlatformFault`) answer a status instead — every call, or only one
method and path — e.g. :meth:`PlatformFault.publish_running`. Other processes drive
it over HTTP: ``GET /_control/health``, ``GET /_control/state`` (draft, published,
versions), ``POST /_control/seed`` (``{"names": [...], "published": true}``),
``GET /_control/requests`` (method, path, status — never the key),
``GET|POST|DELETE /_control/faults``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, NamedTuple
from urllib.parse import urlsplit

from webhook_translator_tools.local.threads import ServerThread

__all__ = ["DEV_API_KEY", "LocalPlatform", "PlatformFault", "PlatformRequest"]

REST_PREFIX: Final = "/rest/v1"
#: the API key ``serve``'s local Platform API accepts (a local stand-in, not a secret)
DEV_API_KEY: Final = "ours-local-platform-key"
#: Ours rejects names over "the platform event-name length limit" (undocumented; the ingest limit)
NAME_MAX: Final = 1000
PUBLISH_RUNNING_ERROR: Final = "Another publish is already in flight; try again when it has finished"


@dataclass
class PlatformFault:
    """Answer ``status`` with ``{"error": error}`` instead of serving the call.

    ``method`` / ``path`` (e.g. ``"POST"``, ``"/rest/v1/versions"``) restrict it to those calls;
    ``times`` is how many calls it hits (``None``: until cleared).
    """

    status: int = 503
    error: str = "injected fault"
    method: str | None = None
    path: str | None = None
    times: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise ValueError("status must be an HTTP status code")
        if self.times is not None and (isinstance(self.times, bool) or not isinstance(self.times, int)):
            raise ValueError("times must be an integer or null")
        for name in ("method", "path"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string or null")
        if not isinstance(self.error, str):
            raise ValueError("error must be a string")

    @classmethod
    def publish_running(cls, times: int | None = None) -> PlatformFault:
        """``POST /rest/v1/versions`` refused as Ours refuses it while another publish runs (409)."""
        return cls(409, PUBLISH_RUNNING_ERROR, "POST", f"{REST_PREFIX}/versions", times)

    @classmethod
    def from_json(cls, data: Any) -> PlatformFault:
        if not isinstance(data, dict):
            raise ValueError("a fault is a JSON object")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        return cls(**data)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or self.path.rstrip("/") == path
        )


class PlatformRequest(NamedTuple):
    method: str
    path: str
    status: int


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    platform: LocalPlatform


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalOursPlatform/1"
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
        path = urlsplit(self.path).path.rstrip("/") or "/"
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        raw = self.rfile.read(length) if 0 < length <= 1_048_576 else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        status, payload = self.server.platform._handle(method, path, self.headers.get("Authorization"), body)
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LocalPlatform:
    """A real HTTP server on loopback that behaves like the Ours Platform API's allowlist and versions.

    ``api_keys``: the accepted API keys (``None``: any non-empty bearer key). ``echo``: called with
    one printable line per API call (method, path, status; never the key).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_keys: Iterable[str] | None = (DEV_API_KEY,),
        echo: Callable[[str], None] | None = None,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.api_keys = None if api_keys is None else set(api_keys)
        self.echo = echo
        self._lock = threading.Lock()
        self._draft: dict[str, dict[str, Any]] = {}  # lower-cased name → entity
        self._published: dict[str, dict[str, Any]] = {}
        self._versions: list[dict[str, Any]] = []
        self._faults: list[PlatformFault] = []
        self._requests: list[PlatformRequest] = []
        self._server: _Server | None = None
        self._thread: ServerThread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> LocalPlatform:
        if self._server is None:
            server = _Server((self.host, self._requested_port), _Handler)
            server.platform = self
            self._server = server
            self._thread = ServerThread(server, "local-platform", poll_interval=0.02)
            self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None:
            return
        if thread is not None:
            thread.stop()
        else:
            server.server_close()
        self._server = self._thread = None

    def __enter__(self) -> LocalPlatform:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the local Platform API is not running")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The base URL, as ``OURS_PLATFORM_URL`` expects it."""
        return f"http://{self.host}:{self.port}"

    # --- state -------------------------------------------------------------------------------

    def seed(self, names: Iterable[str], *, published: bool = True) -> None:
        """Put names on the allowlist (in the draft; also live when ``published``)."""
        with self._lock:
            for name in names:
                entity = self._draft.get(name.lower()) or self._entity(name)
                self._draft[name.lower()] = entity
                if published:
                    self._published[name.lower()] = dict(entity)

    @property
    def draft(self) -> list[str]:
        with self._lock:
            return sorted((e["name"] for e in self._draft.values()), key=str.lower)

    @property
    def published(self) -> list[str]:
        """The names live in Ours (on the allowlist of the latest published version)."""
        with self._lock:
            return sorted((e["name"] for e in self._published.values()), key=str.lower)

    @property
    def versions(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(v) for v in self._versions]

    @property
    def requests(self) -> list[PlatformRequest]:
        with self._lock:
            return list(self._requests)

    def inject(self, fault: PlatformFault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    # --- the API -------------------------------------------------------------------------------

    @staticmethod
    def _entity(name: str) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "name": name, "destinationIds": [], "createdAt": _now(), "updatedAt": None}

    def _take_fault(self, method: str, path: str) -> PlatformFault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault
        return None

    def _authorised(self, header: str | None) -> bool:
        scheme, _, key = (header or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return False
        return self.api_keys is None or key in self.api_keys

    def _handle(self, method: str, path: str, authorization: str | None, body: Any) -> tuple[int, Any]:
        if path.startswith("/_control/"):
            return self._control(method, path, body)
        with self._lock:
            status, payload = self._api(method, path, authorization, body)
            self._requests.append(PlatformRequest(method, path, status))
        if self.echo is not None:
            self.echo(f"platform {method} {path} {status}")
        return status, payload

    def _api(self, method: str, path: str, authorization: str | None, body: Any) -> tuple[int, Any]:
        routes = {
            ("GET", f"{REST_PREFIX}/allowed-events"),
            ("POST", f"{REST_PREFIX}/allowed-events"),
            ("GET", f"{REST_PREFIX}/versions/draft/diff"),
            ("POST", f"{REST_PREFIX}/versions"),
        }
        if (method, path) not in routes:
            return 404, {"error": "Not Found"}
        if not self._authorised(authorization):
            return 401, {"error": "Unauthorized", "details": "missing, invalid, or expired API key"}
        fault = self._take_fault(method, path)
        if fault is not None:
            return fault.status, {"error": fault.error}
        if path.endswith("/allowed-events"):
            if method == "GET":
                visible = [dict(e) for e in self._draft.values() if not e["name"].startswith("$")]
                return 200, {"entities": sorted(visible, key=lambda e: e["name"].lower())}
            return self._add(body)
        if path.endswith("/diff"):
            added = self._added()
            removed = [{"id": e["id"], "name": e["name"]} for k, e in self._published.items() if k not in self._draft]
            differences = {"allowedEvents": {"added": added, "removed": removed, "modified": []}}
            return 200, {"count": len(added) + len(removed), "differences": differences}
        return self._publish()

    def _added(self) -> list[dict[str, Any]]:
        return [{"id": e["id"], "name": e["name"]} for k, e in self._draft.items() if k not in self._published]

    def _add(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            return 400, {"error": "Bad Request", "details": "name: a string is required"}
        name = body["name"].strip()
        if not name:
            return 409, {"error": "Event name must not be empty"}
        if len(name) > NAME_MAX:
            return 409, {"error": f"Event name is longer than {NAME_MAX} characters"}
        if name.startswith("$") and name != "$identify":
            return 409, {"error": "Event names starting with $ are reserved for system events"}
        if name.lower() in self._draft:
            return 409, {"error": "An allowed event with this name already exists"}
        entity = self._entity(name)
        self._draft[name.lower()] = entity
        return 200, dict(entity)

    def _publish(self) -> tuple[int, Any]:
        if not self._added() and set(self._published) <= set(self._draft):
            return 409, {"error": "There are no draft changes to publish"}
        self._published = {k: dict(e) for k, e in self._draft.items()}
        for version in self._versions:
            version["isPublished"] = False
        now = _now()
        version = {
            "id": str(uuid.uuid4()),
            "name": None,
            "versionNumber": len(self._versions) + 1,
            "isPublished": True,
            "notes": None,
            "createdAt": now,
            "publishedAt": now,
        }
        self._versions.append(version)
        return 200, dict(version)

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        route = (method, path)
        if route == ("GET", "/_control/health"):
            return 200, {"ok": True}
        if route == ("GET", "/_control/state"):
            return 200, {"draft": self.draft, "published": self.published, "versions": len(self.versions)}
        if route == ("GET", "/_control/requests"):
            return 200, [r._asdict() for r in self.requests]
        if route == ("POST", "/_control/seed"):
            names = body.get("names") if isinstance(body, dict) else None
            if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
                return 400, {"ok": False, "error": "names: a list of non-empty strings is required"}
            self.seed([n.strip() for n in names], published=bool(body.get("published", True)))
            return 200, {"ok": True}
        if route == ("GET", "/_control/faults"):
            with self._lock:
                return 200, [asdict(f) for f in self._faults]
        if route == ("POST", "/_control/faults"):
            try:
                fault = PlatformFault.from_json(body)
            except (ValueError, TypeError) as exc:
                return 400, {"ok": False, "error": str(exc)}
            self.inject(fault)
            return 201, {"ok": True, "fault": asdict(fault)}
        if route == ("DELETE", "/_control/faults"):
            self.clear_faults()
            return 200, {"ok": True}
        return 404, {"ok": False, "error": "not found"}
