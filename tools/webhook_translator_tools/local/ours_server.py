"""A local Ours ingest endpoint that checks every call against the contract in ``shared/ours-api.md``.

It is the test oracle for :mod:`webhook_translator.ours.models`, so it is written
from the contract alone and imports nothing from that module. Where the contract
is silent it takes the conservative reading (unknown top-level keys, unknown
``userProperties`` keys and unknown ``identityContext`` keys are rejected).

Endpoints, under ``/api/v1``:

* ``POST /track``, ``POST /identify`` — 200 ``{"success": true}``; 400 with
  ``{"success": false, "error": ...}`` for a payload breaking a rule; 401 for a
  missing, malformed or unknown token; 413 body too large; 415 not JSON.
* ``POST /batch`` — 200 when every row is accepted, 207 with ``results`` rows
  (``invalid_event`` / ``queue_failed``) when some are not, 413 with ``"limit": N``
  when there are more rows than it takes.

Faults (:class:`Fault`) make it answer like a struggling Ours: an error status
(with ``Retry-After``), a slow answer, or a dropped connection — for every call,
or only for the events with a given ``distinctId`` or name, or (``rate``) for a
random fraction of calls. A ``status`` fault with a ``rate`` hits a ``/batch``
call row by row: each row it hits is a ``queue_failed`` row of a 207 (transient
status) or an ``invalid_event`` row.

Other processes (the CLI's ``serve``, end-to-end tests) drive it over HTTP: the control endpoints
every local fake has (:mod:`~webhook_translator_tools.local.loopback`: ``health``; ``requests``,
every call as ``[{"path", "status", "body"}]``; ``GET|POST|DELETE faults``, a :class:`Fault` as
JSON), and ``GET /_control/accepted`` (the accepted events, token removed), ``DELETE
/_control/accepted`` (forget everything received, :meth:`LocalOurs.reset`) and ``GET
/_control/deliveries`` (``{distinctId: times accepted}``).
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Literal, NamedTuple
from urllib.parse import SplitResult

from webhook_translator_tools.local.loopback import (
    Answer,
    ControlRoute,
    FaultFields,
    HangUp,
    LoopbackHandler,
    LoopbackService,
    check_fault_fields,
    parse_json,
)

__all__ = ["API_PREFIX", "Fault", "LocalOurs", "RecordedRequest", "validate_identify", "validate_track"]

API_PREFIX: Final = "/api/v1"

# --- the contract ---------------------------------------------------------------------------

TOKEN_MAX: Final = 250
EVENT_MAX: Final = 1000
ID_MAX: Final = 400
EMAIL_MAX: Final = 1000
PROPERTY_KEYS_MAX: Final = 200
OBJECT_LEVELS_MAX: Final = 5
ARRAY_MAX: Final = 250
#: serialised properties must stay strictly below this many UTF-16 code units
SIZE_UTF16_LIMIT: Final = 1_048_576
SEVEN_DAYS_MS: Final = 7 * 24 * 60 * 60 * 1000
#: a ``time`` below this is seconds, not milliseconds (it would be 1973 in ms)
SECONDS_CUTOFF: Final = 100_000_000_000

TRACK_KEYS: Final = frozenset(
    {
        "token",
        "event",
        "userId",
        "externalId",
        "email",
        "distinctId",
        "time",
        "eventProperties",
        "userProperties",
        "defaultProperties",
        "identityContext",
    }
)
IDENTIFY_KEYS: Final = frozenset(
    {"token", "userProperties", "userId", "externalId", "email", "defaultProperties", "identityContext"}
)
BATCH_KEYS: Final = frozenset({"token", "events"})

CLICK_AND_CAMPAIGN_IDS: Final = frozenset(
    {
        "ad_id",
        "adset_id",
        "campaign_id",
        "fbc",
        "fbclid",
        "fbp",
        "gclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "li_fat_id",
        "ttclid",
        "twclid",
        "rdt_cid",
        "sccid",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "utm_name",
    }
)
USER_STRING_KEYS: Final = frozenset(
    {
        "email",
        "first_name",
        "last_name",
        "gender",
        "date_of_birth",
        "city",
        "state",
        "country",
        "external_id",
        "company_name",
        "job_title",
        "ip",
        "user_agent",
        "user_agent_full_list",
        "referrer",
        "referring_domain",
    }
    | CLICK_AND_CAMPAIGN_IDS
)
USER_ANY_KEYS: Final = frozenset({"phone_number", "zip", "is_bot"})
USER_OBJECT_KEYS: Final = frozenset({"consent", "custom_properties"})
USER_KEYS: Final = USER_STRING_KEYS | USER_ANY_KEYS | USER_OBJECT_KEYS

DEFAULT_NUMBER_KEYS: Final = frozenset(
    {"activeDuration", "duration", "page_hash", "screen_height", "screen_width", "sessionCount"}
)
DEFAULT_BOOLEAN_KEYS: Final = frozenset({"fv", "iframe", "new_s", "webview"})

Problems = list[str]


def _utf16_units(text: str) -> int:
    """A string's length as JavaScript (and so Ours) measures it."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_text(problems: Problems, where: str, value: Any, max_len: int, *, nullable: bool = True) -> None:
    """A string of 1..max_len characters after trimming (``null`` allowed where the field is nullable)."""
    if value is None:
        if not nullable:
            problems.append(f"{where}: required")
        return
    if not isinstance(value, str):
        problems.append(f"{where}: must be a string")
        return
    length = _utf16_units(value.strip())
    if length == 0:
        problems.append(f"{where}: must not be empty")
    elif length > max_len:
        problems.append(f"{where}: must be at most {max_len} characters")


def _walk(problems: Problems, where: str, value: Any, level: int) -> None:
    """Object levels, key counts, empty keys and array lengths of a free-form JSON value."""
    if isinstance(value, dict):
        if level > OBJECT_LEVELS_MAX:
            problems.append(f"{where}: nested deeper than {OBJECT_LEVELS_MAX} object levels")
            return
        if len(value) > PROPERTY_KEYS_MAX:
            problems.append(f"{where}: more than {PROPERTY_KEYS_MAX} keys")
        for key, item in value.items():
            if not isinstance(key, str) or not key.strip():
                problems.append(f"{where}: empty key")
            _walk(problems, where, item, level + 1)
    elif isinstance(value, list):
        if len(value) > ARRAY_MAX:
            problems.append(f"{where}: an array longer than {ARRAY_MAX}")
        for item in value:
            _walk(problems, where, item, level)


def _check_properties(problems: Problems, where: str, value: Any) -> None:
    """A free-form properties object (eventProperties, custom_properties, consent) within Ours's limits."""
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: must be an object")
        return
    before = len(problems)
    _walk(problems, where, value, 1)
    if len(problems) == before:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        if _utf16_units(text) >= SIZE_UTF16_LIMIT:
            problems.append(f"{where}: serialised size must be below {SIZE_UTF16_LIMIT} UTF-16 units")


def _check_user_properties(problems: Problems, value: Any, *, required: bool = False) -> None:
    where = "userProperties"
    if value is None:
        if required:
            problems.append(f"{where}: required")
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: must be an object")
        return
    for key, item in value.items():
        if key not in USER_KEYS:
            problems.append(f"{where}: unknown key")
        elif key in USER_OBJECT_KEYS:
            _check_properties(problems, f"{where}.{key}", item)
        elif key in USER_ANY_KEYS:
            if isinstance(item, dict | list):
                _walk(problems, f"{where}.{key}", item, 2)
        elif key == "email":
            _check_text(problems, f"{where}.email", item, EMAIL_MAX)
        elif key == "external_id":
            _check_text(problems, f"{where}.external_id", item, ID_MAX)
        elif item is not None and not isinstance(item, str):
            problems.append(f"{where}.{key}: must be a string")


def _check_default_properties(problems: Problems, value: Any) -> None:
    where = "defaultProperties"
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: must be an object")
        return
    for key, item in value.items():
        if key == "received_at":
            problems.append(f"{where}.received_at: set by Ours, must not be sent")
        elif item is None:
            continue
        elif key in DEFAULT_NUMBER_KEYS:
            if not _is_number(item):
                problems.append(f"{where}.{key}: must be a number")
        elif key in DEFAULT_BOOLEAN_KEYS:
            if not isinstance(item, bool):
                problems.append(f"{where}.{key}: must be a boolean")
        elif not isinstance(item, str):
            problems.append(f"{where}.{key}: must be a string")


def _check_identity_context(problems: Problems, value: Any) -> None:
    where = "identityContext"
    if value is None:
        return
    if not isinstance(value, dict):
        problems.append(f"{where}: must be an object")
        return
    if set(value) - {"ip", "userAgent"}:
        problems.append(f"{where}: unknown key")
    _check_text(problems, f"{where}.ip", value.get("ip"), EVENT_MAX, nullable=False)
    _check_text(problems, f"{where}.userAgent", value.get("userAgent"), EVENT_MAX, nullable=False)


def _has_identity(body: Mapping[str, Any]) -> bool:
    for key in ("userId", "externalId", "email"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return True
    user = body.get("userProperties")
    if isinstance(user, dict):
        phone = user.get("phone_number")
        if phone is not None and not (isinstance(phone, str) and not phone.strip()):
            return True
    return False


def _check_time(problems: Problems, value: Any, now_ms: float) -> None:
    if value is None:
        return
    if not _is_number(value):
        problems.append("time: must be a number")
    elif value < SECONDS_CUTOFF:
        problems.append("time: must be milliseconds since the epoch")
    elif value > now_ms:
        problems.append("time: must be in the past")
    elif value < now_ms - SEVEN_DAYS_MS:
        problems.append("time: must be within the last 7 days")


def check_token(value: Any) -> str | None:
    """The trimmed token if it is well formed (a string of 1-250 characters after trimming), else ``None``."""
    if not isinstance(value, str):
        return None
    stripped = value.strip()
    return stripped if 0 < _utf16_units(stripped) <= TOKEN_MAX else None


def validate_track(body: Any, *, now_ms: float, in_batch: bool = False) -> Problems:
    """Every rule a ``/track`` body (or, ``in_batch``, a ``/batch`` row) breaks; ``[]`` if it is acceptable.

    The token is not checked here (see :func:`check_token`): a bad token is a 401, not a 400.
    """
    if not isinstance(body, dict):
        return ["event: must be an object"]
    problems: Problems = []
    allowed = TRACK_KEYS - {"token"} if in_batch else TRACK_KEYS
    unknown = set(body) - allowed
    if unknown:
        problems.append(f"unknown top-level key{'s' if len(unknown) > 1 else ''}")
    _check_text(problems, "event", body.get("event"), EVENT_MAX, nullable=False)
    for key in ("userId", "externalId"):
        _check_text(problems, key, body.get(key), ID_MAX)
    _check_text(problems, "distinctId", body.get("distinctId"), ID_MAX, nullable=not in_batch)
    _check_text(problems, "email", body.get("email"), EMAIL_MAX)
    _check_time(problems, body.get("time"), now_ms)
    _check_properties(problems, "eventProperties", body.get("eventProperties"))
    _check_user_properties(problems, body.get("userProperties"))
    _check_default_properties(problems, body.get("defaultProperties"))
    _check_identity_context(problems, body.get("identityContext"))
    if not _has_identity(body):
        problems.append("identity: one of userId, externalId, email or userProperties.phone_number is required")
    return problems


def validate_identify(body: Any) -> Problems:
    """Every rule an ``/identify`` body breaks (token aside); ``[]`` if it is acceptable."""
    if not isinstance(body, dict):
        return ["body: must be an object"]
    problems: Problems = []
    if set(body) - IDENTIFY_KEYS:
        problems.append("unknown top-level key")
    for key in ("userId", "externalId"):
        _check_text(problems, key, body.get(key), ID_MAX)
    _check_text(problems, "email", body.get("email"), EMAIL_MAX)
    _check_user_properties(problems, body.get("userProperties"), required=True)
    _check_default_properties(problems, body.get("defaultProperties"))
    _check_identity_context(problems, body.get("identityContext"))
    if not _has_identity(body):
        problems.append("identity: one of userId, externalId, email or userProperties.phone_number is required")
    return problems


def mask_token(token: Any) -> str:
    """A token as it may be printed: its last four characters at most."""
    if not isinstance(token, str) or not token:
        return "-"
    return "****" + token[-4:] if len(token) >= 16 else "****"


# --- faults ---------------------------------------------------------------------------------


@dataclass
class Fault(FaultFields):
    """Make the local Ours misbehave: ``status`` answers an error, ``slow`` waits, ``drop`` hangs up.

    ``times`` is how many calls (or, for a batch, rows) it hits (``None``: until cleared);
    ``distinct_id`` / ``event`` restrict it to the matching events; ``rate`` (0–1) to a random
    share of the calls (of the rows, for a ``status`` fault on ``/batch``).
    """

    required: ClassVar[tuple[str, ...]] = ("kind",)

    kind: Literal["status", "slow", "drop"]
    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    times: int | None = None
    distinct_id: str | None = None
    event: str | None = None
    error: str = "injected fault"
    rate: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("status", "slow", "drop"):
            raise ValueError("kind must be status, slow or drop")
        check_fault_fields(self, nullable=("retry_after", "distinct_id", "event"), strings=("error",))
        if not _is_number(self.delay) or self.delay < 0:
            raise ValueError("delay must be a number >= 0")
        if self.rate is not None and (not _is_number(self.rate) or not 0 <= self.rate <= 1):
            raise ValueError("rate must be a number between 0 and 1, or null")

    @property
    def targeted(self) -> bool:
        return self.distinct_id is not None or self.event is not None

    def matches(self, body: Any) -> bool:
        """Whether this fault applies to one event (an untargeted fault applies to everything)."""
        if not self.targeted:
            return True
        if not isinstance(body, dict):
            return False
        if self.distinct_id is not None and body.get("distinctId") != self.distinct_id:
            return False
        return self.event is None or body.get("event") == self.event


_API_PATHS: Final = frozenset({"/track", "/batch", "/identify"})
#: what a body that is not JSON parses to (distinct from a JSON ``null``)
_BAD_JSON: Final = object()


class RecordedRequest(NamedTuple):
    """One call as the local Ours saw it: API path (``/track``…), the status it answered, the body without token."""

    path: str
    status: int
    body: Any


# --- the server -----------------------------------------------------------------------------


class LocalOurs(LoopbackService[Fault, RecordedRequest]):
    """A real HTTP server on loopback that behaves like Ours's ingest API and records what it accepts.

    ``tokens``: the accepted tokens (``None``: any well-formed token). ``clock``: seconds since
    the epoch, for the 7-day window. ``echo``: called with one printable line per API call
    (event name, distinctId, status; never personal data; the token masked).
    ``max_body_bytes``: larger bodies get 413. ``max_batch_rows``: larger batches get 413 with
    ``"limit"`` (both limits are *undocumented* by Ours; these are stand-ins).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens: set[str] | None = None,
        clock: Callable[[], float] = time.time,
        echo: Callable[[str], None] | None = None,
        max_body_bytes: int = 5 * 1024 * 1024,
        max_batch_rows: int = 100,
        seed: int | None = None,
    ) -> None:
        super().__init__(host, port, parse_fault=Fault.from_json, echo=echo)
        self.tokens = None if tokens is None else {t.strip() for t in tokens}
        self.clock = clock
        self.max_body_bytes = max_body_bytes
        self.max_batch_rows = max_batch_rows
        self._accepted: list[dict[str, Any]] = []
        self._identified: list[dict[str, Any]] = []
        self._deliveries: Counter[str] = Counter()
        self._rng = random.Random(seed)

    name = "Ours"
    server_version = "LocalOurs/1"
    methods = frozenset({"GET", "POST", "DELETE", "PUT", "PATCH"})

    @property
    def url(self) -> str:
        """The API base URL, as ``OURS_API_URL`` expects it."""
        return f"{self.base_url}{API_PREFIX}"

    # --- what it saw -------------------------------------------------------------------------

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """Every accepted event (``/track`` bodies and ``/batch`` rows), token removed, in order."""
        with self._lock:
            return list(self._accepted)

    @property
    def identified(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._identified)

    def deliveries(self, distinct_id: str) -> int:
        """How many times an event with this distinctId was accepted."""
        with self._lock:
            return self._deliveries[distinct_id]

    def reset(self) -> None:
        """Forget everything received (faults stay)."""
        with self._lock:
            self._accepted.clear()
            self._identified.clear()
            self._requests.clear()
            self._deliveries.clear()

    # --- internals ---------------------------------------------------------------------------

    def now_ms(self) -> float:
        return round(self.clock() * 1000)

    def _take_fault(self, body: Any) -> Fault | None:
        """The first fault that applies to the whole call (spending one of its ``times``)."""
        with self._lock:
            batch = isinstance(body, dict) and "events" in body
            for fault in self._faults:
                # a rate fault hits a share of the calls; a rate status fault on /batch hits rows (_row_fault)
                if fault.rate is not None and ((batch and fault.kind == "status") or self._rng.random() >= fault.rate):
                    continue
                if self._hits_call(fault, body):
                    self._spend(fault)
                    return fault
        return None

    @staticmethod
    def _hits_call(fault: Fault, body: Any) -> bool:
        """Whether ``fault`` (its rate aside) applies to a whole call with ``body``."""
        if not fault.targeted:
            return True
        if not isinstance(body, dict):
            return False
        if "events" not in body:
            return fault.matches(body)
        # a batch: targeted status faults apply per row (_row_fault); the others if a row matches
        rows = body.get("events")
        return fault.kind != "status" and isinstance(rows, list) and any(fault.matches(row) for row in rows)

    def _row_fault(self, row: Any) -> Fault | None:
        """The targeted ``status`` fault for one batch row, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.kind != "status" or not (fault.targeted or fault.rate is not None) or not fault.matches(row):
                    continue
                if fault.rate is not None and self._rng.random() >= fault.rate:
                    continue
                self._spend(fault)
                return fault
        return None

    def _record(self, path: str, status: int, body: Any, line: str) -> None:
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k != "token"}
        with self._lock:
            self._requests.append(RecordedRequest(path, status, body))
        if self.echo is not None:
            self.echo(line)

    def _accept(self, row: dict[str, Any]) -> None:
        event = {k: v for k, v in row.items() if k != "token"}
        with self._lock:
            self._accepted.append(event)
            distinct_id = event.get("distinctId")
            if isinstance(distinct_id, str):
                self._deliveries[distinct_id] += 1

    def dispatch(self, handler: LoopbackHandler, method: str, url: SplitResult) -> None:
        path = url.path
        if path.startswith("/_control/"):
            self.control(handler, method, path)
        elif path.startswith(API_PREFIX + "/") and path[len(API_PREFIX) :] in _API_PATHS:
            self._api(handler, method, path[len(API_PREFIX) :])
        else:
            handler.answer(Answer(404, {"success": False, "error": "not found"}))

    def _api(self, handler: LoopbackHandler, method: str, path: str) -> None:
        """One call to ``/track``, ``/batch`` or ``/identify``."""

        def answer(status: int, payload: Any, body: Any, detail: str, headers: Mapping[str, str] | None = None) -> None:
            token = body.get("token") if isinstance(body, dict) else None
            self._record(path, status, body, f"ours {path} {status} {detail} token={mask_token(token)}")
            handler.answer(Answer(status, payload, headers or {}))

        body = self._admit(handler, method, path, answer)
        if body is None:
            return
        if path == "/batch":
            self._batch(body, answer)
        else:
            self._single(path, body, answer)

    def _admit(
        self, handler: LoopbackHandler, method: str, path: str, answer: Callable[..., None]
    ) -> dict[str, Any] | None:
        """The checks before a payload's rules (method, size, faults, type, JSON, token): the body, or
        ``None`` when the call has been answered."""
        if method != "POST":
            answer(405, {"success": False, "error": "method not allowed"}, None, "method not allowed")
            return None
        raw = handler.read_body(limit=self.max_body_bytes)
        if raw is None:
            answer(413, {"success": False, "error": "request body too large"}, None, "body too large")
            return None
        try:
            body: Any = parse_json(raw)
        except ValueError:
            body = _BAD_JSON
        if self._inject_fault(path, None if body is _BAD_JSON else body, answer):
            return None
        refusal = self._refusal(handler.headers.get("Content-Type"), body)
        if refusal is not None:
            status, error, detail = refusal
            answer(status, {"success": False, "error": error}, body if status == 401 else None, detail)
            return None
        return body  # type: ignore[no-any-return]

    def _refusal(self, content_type: str | None, body: Any) -> tuple[int, str, str] | None:
        """Why a call is refused before its payload is checked (status, error, echo detail), if it is."""
        if (content_type or "").split(";")[0].strip().lower() != "application/json":
            return 415, "content type must be application/json", "not JSON"
        if body is _BAD_JSON:
            return 400, "body is not valid JSON", "bad JSON"
        if not isinstance(body, dict):
            return 400, "body must be a JSON object", "not an object"
        token = check_token(body.get("token"))
        if token is None or (self.tokens is not None and token not in self.tokens):
            return 401, "invalid token", "invalid token"
        return None

    def _single(self, path: str, body: dict[str, Any], answer: Callable[..., None]) -> None:
        """A ``/track`` or ``/identify`` call that passed :meth:`_admit`."""
        problems = validate_identify(body) if path == "/identify" else validate_track(body, now_ms=self.now_ms())
        detail = f"event={_printable(body.get('event', '$identify'))} distinctId={_printable(body.get('distinctId'))}"
        if problems:
            answer(400, {"success": False, "error": "; ".join(problems[:5])}, body, f"{detail} {problems[0]}")
            return
        if path == "/identify":
            with self._lock:
                self._identified.append({k: v for k, v in body.items() if k != "token"})
        else:
            self._accept(body)
        answer(200, {"success": True}, body, detail)

    def _inject_fault(self, path: str, body: Any, answer: Callable[..., None]) -> bool:
        """Apply the next injected fault for this call, if any: True when it answered (or dropped) the call."""
        fault = self._take_fault(body)
        if fault is None:
            return False
        if fault.kind == "drop":
            self._record(path, 0, body, f"ours {path} dropped (injected fault)")
            raise HangUp
        if fault.kind == "slow":
            self._stopping.wait(fault.delay)
            return False
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        answer(fault.status, {"success": False, "error": fault.error}, body, "(injected fault)", headers)
        return True

    def _batch(self, body: dict[str, Any], answer: Callable[..., None]) -> None:
        events = body.get("events")
        refusal = self._batch_refusal(body, events)
        if refusal is not None:
            status, payload, detail = refusal
            answer(status, payload, body, detail)
            return
        assert isinstance(events, list)
        results, worst = self._batch_rows(events)
        failed = len(results)
        accepted = len(events) - failed
        payload = {"success": failed == 0, "accepted": accepted, "failed": failed, "results": results}
        status = 200 if failed == 0 else 207
        headers = None
        if worst is not None and worst.status >= 500:
            status = worst.status
        if worst is not None and worst.retry_after is not None:
            headers = {"Retry-After": worst.retry_after}
        answer(status, payload, body, f"rows={len(events)} accepted={accepted} failed={failed}", headers)

    def _batch_refusal(self, body: dict[str, Any], events: Any) -> tuple[int, dict[str, Any], str] | None:
        """Why a whole ``/batch`` call is refused (status, payload, echo detail), if it is."""
        if set(body) - BATCH_KEYS:
            return 400, {"success": False, "error": "unknown top-level key"}, "unknown key"
        if not isinstance(events, list) or not events:
            return 400, {"success": False, "error": "events: must be a non-empty array"}, "no events"
        if len(events) > self.max_batch_rows:
            payload = {"success": False, "error": "too many events in one batch", "limit": self.max_batch_rows}
            return 413, payload, f"rows={len(events)} over the limit"
        return None

    def _batch_rows(self, events: list[Any]) -> tuple[list[dict[str, Any]], Fault | None]:
        """Each row accepted, or a failed ``results`` row (its rule, or a row fault); the worst row fault."""
        now_ms = self.now_ms()
        results: list[dict[str, Any]] = []
        worst: Fault | None = None
        for index, row in enumerate(events):
            problems = validate_track(row, now_ms=now_ms, in_batch=True)
            fault = None if problems else self._row_fault(row)
            if problems:
                message = "; ".join(problems[:5])
                results.append({"index": index, "success": False, "code": "invalid_event", "message": message})
            elif fault is not None:
                transient = fault.status >= 500 or fault.status in (408, 409, 429)
                code = "queue_failed" if transient else "invalid_event"
                results.append({"index": index, "success": False, "code": code, "message": fault.error})
                worst = fault if worst is None or fault.status > worst.status else worst
            else:
                self._accept(row)
        return results, worst

    def control_routes(self) -> dict[tuple[str, str], ControlRoute]:
        return super().control_routes() | {
            ("GET", "/_control/accepted"): lambda raw: Answer(200, self.accepted),
            ("DELETE", "/_control/accepted"): self._delete_accepted,
            ("GET", "/_control/deliveries"): self._get_deliveries,
        }

    def _delete_accepted(self, raw: bytes) -> Answer:
        self.reset()
        return Answer(200, {"ok": True})

    def _get_deliveries(self, raw: bytes) -> Answer:
        with self._lock:
            return Answer(200, dict(self._deliveries))


def _printable(value: Any, limit: int = 80) -> str:
    """An event name or distinctId for the echo line (never a personal field), quoted and cut."""
    if value is None:
        return "-"
    text = str(value) if not isinstance(value, str) else value
    text = "".join(ch if ch.isprintable() else "?" for ch in text)
    return json.dumps(text if len(text) <= limit else text[: limit - 1] + "…", ensure_ascii=False)
