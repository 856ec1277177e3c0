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

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple
from urllib.parse import SplitResult

from webhook_translator_tools.local.loopback import (
    CONTROL_BODY_MAX,
    Answer,
    ControlRoute,
    FaultFields,
    LoopbackHandler,
    LoopbackService,
    check_fault_fields,
    parse_json,
)

__all__ = ["DEV_API_KEY", "LocalPlatform", "PlatformFault", "PlatformRequest"]

REST_PREFIX: Final = "/rest/v1"
#: the API key ``serve``'s local Platform API accepts (a local stand-in, not a secret)
DEV_API_KEY: Final = "ours-local-platform-key"
#: Ours rejects names over "the platform event-name length limit" (undocumented; the ingest limit)
NAME_MAX: Final = 1000
PUBLISH_RUNNING_ERROR: Final = "Another publish is already in flight; try again when it has finished"


@dataclass
class PlatformFault(FaultFields):
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
        check_fault_fields(self, nullable=("method", "path"), strings=("error",))

    @classmethod
    def publish_running(cls, times: int | None = None) -> PlatformFault:
        """``POST /rest/v1/versions`` refused as Ours refuses it while another publish runs (409)."""
        return cls(409, PUBLISH_RUNNING_ERROR, "POST", f"{REST_PREFIX}/versions", times)

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method.upper() == method) and (
            self.path is None or self.path.rstrip("/") == path
        )


class PlatformRequest(NamedTuple):
    method: str
    path: str
    status: int


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class LocalPlatform(LoopbackService[PlatformFault, PlatformRequest]):
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
        super().__init__(host, port, parse_fault=PlatformFault.from_json, echo=echo)
        self.api_keys = None if api_keys is None else set(api_keys)
        self._draft: dict[str, dict[str, Any]] = {}  # lower-cased name → entity
        self._published: dict[str, dict[str, Any]] = {}
        self._versions: list[dict[str, Any]] = []

    name = "Platform API"
    server_version = "LocalOursPlatform/1"

    @property
    def url(self) -> str:
        """The base URL, as ``OURS_PLATFORM_URL`` expects it."""
        return self.base_url

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

    # --- the API -------------------------------------------------------------------------------

    @staticmethod
    def _entity(name: str) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "name": name, "destinationIds": [], "createdAt": _now(), "updatedAt": None}

    def _take_fault(self, method: str, path: str) -> PlatformFault | None:
        for fault in self._faults:
            if fault.matches(method, path):
                self._spend(fault)
                return fault
        return None

    def _authorised(self, header: str | None) -> bool:
        scheme, _, key = (header or "").partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return False
        return self.api_keys is None or key in self.api_keys

    def dispatch(self, handler: LoopbackHandler, method: str, url: SplitResult) -> None:
        path = url.path.rstrip("/") or "/"
        if path.startswith("/_control/"):
            self.control(handler, method, path)
            return
        raw = handler.read_body(limit=CONTROL_BODY_MAX)
        try:
            body: Any = parse_json(raw) if raw else None
        except ValueError:
            body = ValueError
        status, payload = self._handle(method, path, handler.headers.get("Authorization"), body)
        handler.answer(Answer(status, payload))

    def _handle(self, method: str, path: str, authorization: str | None, body: Any) -> tuple[int, Any]:
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

    def control_routes(self) -> dict[tuple[str, str], ControlRoute]:
        return super().control_routes() | {
            ("GET", "/_control/state"): lambda raw: Answer(
                200, {"draft": self.draft, "published": self.published, "versions": len(self.versions)}
            ),
            ("POST", "/_control/seed"): self._post_seed,
        }

    def _post_seed(self, raw: bytes) -> Answer:
        try:
            body = parse_json(raw) if raw else None
        except ValueError:
            body = None
        names = body.get("names") if isinstance(body, dict) else None
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            return Answer(400, {"ok": False, "error": "names: a list of non-empty strings is required"})
        self.seed([n.strip() for n in names], published=bool(body.get("published", True)))  # type: ignore[union-attr]
        return Answer(200, {"ok": True})
