"""What the local provider API fakes share (Graph API, Acuity, HubSpot, Stripe): a loopback server with faults.

A fake answers ``GET`` calls from its seeded objects, checks the credential the way the provider
does, and records every call (path, status; never the credential). Faults (:class:`ProviderFault`)
make it answer like a struggling provider, for every call or only for paths containing ``match``
(an object id):

* ``status`` — an error status (with ``Retry-After`` when given) in the provider's error shape;
* ``hang`` — wait ``delay`` seconds before answering (past the client's read timeout);
* ``reset`` — read the request and reset the connection (TCP RST) without an answer.

Other processes drive it over HTTP, as the local Ours, through the control endpoints every local
fake has (:mod:`~webhook_translator_tools.local.loopback`): ``GET /_control/health``, ``GET
/_control/requests`` (every call: ``[{"path", "status"}]``) and ``GET|POST|DELETE /_control/faults``
(a :class:`ProviderFault` as JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple
from urllib.parse import SplitResult, parse_qs

from webhook_translator_tools.local.loopback import (
    Answer,
    FaultFields,
    HangUp,
    LoopbackHandler,
    LoopbackService,
    check_fault_fields,
)

__all__ = ["Answer", "LocalProviderApi", "ProviderCall", "ProviderFault", "bearer_token"]

#: API calls are GETs without a body; a larger one is drained and ignored
_BODY_MAX = 65_536


def bearer_token(headers: Mapping[str, str]) -> str:
    """The credential of ``Authorization: Bearer <token>`` (lower-cased header names), ``""`` without one."""
    auth = headers.get("authorization") or ""
    return auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""


@dataclass
class ProviderFault(FaultFields):
    """Make a fake provider misbehave; ``times`` calls (``None``: until cleared), paths containing ``match``."""

    required: ClassVar[tuple[str, ...]] = ("kind",)

    kind: Literal["status", "hang", "reset"]
    status: int = 503
    retry_after: str | None = None
    delay: float = 30.0
    times: int | None = None
    match: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("status", "hang", "reset"):
            raise ValueError("kind must be status, hang or reset")
        check_fault_fields(self, nullable=("retry_after", "match"))
        if isinstance(self.delay, bool) or not isinstance(self.delay, int | float) or self.delay < 0:
            raise ValueError("delay must be a number >= 0")


class ProviderCall(NamedTuple):
    """One call as a fake saw it: the path (no query), the status it answered (0: reset)."""

    path: str
    status: int


class LocalProviderApi(LoopbackService[ProviderFault, ProviderCall]):
    """The base of a fake provider API: subclasses answer :meth:`route` and shape :meth:`error`."""

    #: the path prefix the provider's API base URL ends with (``/v21.0``, ``/api/v1``)
    prefix: str = ""
    name: str = "provider"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, echo: Callable[[str], None] | None = None) -> None:
        super().__init__(host, port, parse_fault=ProviderFault.from_json, echo=echo)

    # --- what a subclass says --------------------------------------------------------------------

    def route(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        raise NotImplementedError

    def error(self, status: int, message: str) -> Any:
        """The provider's error body for ``status``."""
        return {"error": message}

    @property
    def url(self) -> str:
        """The API base URL, as the source's ``api_base_url`` option expects it."""
        return f"{self.base_url}{self.prefix}"

    def dispatch(self, handler: LoopbackHandler, method: str, url: SplitResult) -> None:
        if url.path.startswith("/_control/"):
            self.control(handler, method, url.path)
            return
        handler.read_body(limit=_BODY_MAX)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        answer = self.call(method, url.path, query, {k.lower(): v for k, v in handler.headers.items()})
        if answer is None:
            raise HangUp(reset=True)
        handler.answer(answer)

    # --- faults and calls --------------------------------------------------------------------------

    @property
    def calls(self) -> list[ProviderCall]:
        """Every call (the same as :attr:`requests`)."""
        return self.requests

    def _take_fault(self, path: str) -> ProviderFault | None:
        with self._lock:
            for fault in self._faults:
                if fault.match is None or fault.match in path:
                    self._spend(fault)
                    return fault
        return None

    def _record(self, path: str, status: int, detail: str = "") -> None:
        with self._lock:
            self._requests.append(ProviderCall(path, status))
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
