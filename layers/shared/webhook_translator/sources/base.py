"""What a source is: a verifier, an id for dedupe, and a mapper — plus the shared parts.

* :class:`InboundRequest` — one webhook as the receiver saw it (raw bytes, lower-cased headers).
* :class:`HmacScheme` — the table-driven HMAC verifier most providers fit
  (header, prefix, algorithm, encoding, signed-bytes template, timestamp, tolerance,
  list splitting, secret decoding).
* :class:`Source` — the base class of every source module.
* :class:`MapContext` — what a mapper gets besides the envelope: the clock, the
  per-source configuration, and :meth:`MapContext.track` to build a valid TrackEvent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from webhook_translator.config import SourceConfig
from webhook_translator.envelope import Envelope
from webhook_translator.errors import BadRequest, MappingError, SignatureError
from webhook_translator.ours.models import WINDOW_MS, InvalidTrackEvent, TrackEvent

OptionsT = TypeVar("OptionsT", bound=BaseModel)

# --- the request --------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundRequest:
    """One webhook delivery, exactly as received: raw body bytes, lower-cased header names."""

    source: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    received_at: datetime = field(default_factory=lambda: datetime.now().astimezone())

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters ('' when absent)."""
        raw = self.header("content-type") or ""
        return raw.split(";", 1)[0].strip().lower()

    @property
    def content_type_params(self) -> dict[str, str]:
        msg = Message()
        msg["content-type"] = self.header("content-type") or ""
        return {k.lower(): v for k, v in msg.get_params(failobj=[])[1:]}

    def json(self) -> Any:
        """The body as JSON; :class:`BadRequest` if it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("body is not valid JSON") from None
        except RecursionError:
            raise BadRequest("body is nested too deeply") from None


# --- the table-driven HMAC verifier --------------------------------------------------------------


@dataclass(frozen=True)
class HmacScheme:
    """One provider's HMAC signature scheme, as data.

    ``signed`` is a template of the signed bytes over ``{body}`` (the raw bytes),
    ``{t}`` (the timestamp as sent) and ``{id}`` (the ``id_header`` value).
    ``layout`` says how the signature header holds its signatures:

    * ``plain`` — the whole value (after ``prefix``) is one signature;
    * ``kv`` — ``t=<ts>,v1=<sig>[,v1=<sig>][,v0=…]`` (Stripe, Calendly): every ``version`` entry is a candidate;
    * ``versioned`` — ``v1,<sig> v1,<sig> v1a,<…>`` (Standard Webhooks): unknown versions are skipped.
    """

    header: str
    signed: str = "{body}"
    digest: Literal["sha256", "sha1", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    layout: Literal["plain", "kv", "versioned"] = "plain"
    prefix: str = ""
    version: str = "v1"
    timestamp_header: str | None = None
    timestamp_unit: Literal["s", "ms"] = "s"
    #: seconds a timestamp may be old (None: no replay window)
    tolerance: float | None = None
    #: seconds a timestamp may be ahead of our clock (defaults to ``tolerance``)
    future_tolerance: float | None = None
    id_header: str | None = None
    secret_encoding: Literal["utf8", "whsec_base64"] = "utf8"
    display_header: str = ""

    @property
    def label(self) -> str:
        return self.display_header or self.header

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        """Raise :class:`SignatureError` unless one of ``secrets`` signed ``request.body``."""
        if not secrets:
            raise SignatureError(f"no signing secret configured for source {request.source!r}")
        value = request.header(self.header)
        if value is None or not value.strip():
            raise SignatureError(f"missing {self.label} header")
        timestamp, candidates = self._parse(value.strip())
        if self.timestamp_header is not None:
            timestamp = request.header(self.timestamp_header)
            if timestamp is None or not timestamp.strip():
                raise SignatureError(f"missing {self.timestamp_header} header")
            timestamp = timestamp.strip()
        ident = ""
        if self.id_header is not None:
            ident = (request.header(self.id_header) or "").strip()
            if not ident:
                raise SignatureError(f"missing {self.id_header} header")
        if "{t}" in self.signed:
            self._check_window(timestamp, request.received_at.timestamp())
        if not candidates:
            raise SignatureError(f"no {self.version} signature in the {self.label} header")
        message = self._signed_bytes(request.body, timestamp or "", ident)
        for secret in secrets:
            key = self._key(secret)
            if key is None:
                continue
            expected = hmac.new(key, message, self.digest).digest()
            for candidate in candidates:
                if hmac.compare_digest(expected, candidate):
                    return
        raise SignatureError("signature does not match")

    # -- parts

    def _parse(self, value: str) -> tuple[str | None, list[bytes]]:
        timestamp: str | None = None
        raw: list[str] = []
        if self.layout == "plain":
            if self.prefix:
                if not value.startswith(self.prefix):
                    raise SignatureError(f"malformed {self.label} header")
                value = value[len(self.prefix) :]
            raw = [value]
        elif self.layout == "kv":
            for part in value.split(","):
                key, sep, item = part.strip().partition("=")
                if not sep:
                    raise SignatureError(f"malformed {self.label} header")
                if key == "t":
                    timestamp = item
                elif key == self.version:
                    raw.append(item)
            if timestamp is None and self.timestamp_header is None:
                raise SignatureError(f"malformed {self.label} header: no timestamp")
        else:
            for part in value.split():
                version, sep, item = part.partition(",")
                if not sep:
                    raise SignatureError(f"malformed {self.label} header")
                if version == self.version:
                    raw.append(item)
        return timestamp, [sig for sig in (self._decode(r) for r in raw) if sig is not None]

    def _decode(self, text: str) -> bytes | None:
        try:
            if self.encoding == "hex":
                return bytes.fromhex(text)
            return base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error):
            return None

    def _key(self, secret: str) -> bytes | None:
        if self.secret_encoding == "whsec_base64":
            encoded = secret.strip().removeprefix("whsec_")
            encoded += "=" * (-len(encoded) % 4)  # senders may hand out unpadded base64
            try:
                return base64.b64decode(encoded, validate=True) or None
            except (ValueError, binascii.Error):
                return None
        return secret.encode("utf-8")

    def _check_window(self, timestamp: str | None, now: float) -> None:
        if timestamp is None:
            raise SignatureError(f"missing timestamp in the {self.label} header")
        try:
            value = float(timestamp)
        except ValueError:
            raise SignatureError("malformed signature timestamp") from None
        if value != value:
            raise SignatureError("malformed signature timestamp")
        seconds = value / 1000 if self.timestamp_unit == "ms" else value
        if self.tolerance is None:
            return
        ahead = self.future_tolerance if self.future_tolerance is not None else self.tolerance
        if now - seconds > self.tolerance:
            raise SignatureError("signature timestamp is too old")
        if seconds - now > ahead:
            raise SignatureError("signature timestamp is in the future")

    def _signed_bytes(self, body: bytes, timestamp: str, ident: str) -> bytes:
        before, _, after = self.signed.partition("{body}")
        return (
            before.format(t=timestamp, id=ident).encode("utf-8")
            + body
            + after.format(t=timestamp, id=ident).encode("utf-8")
        )

    def sign(self, body: bytes, secret: str, *, timestamp: str = "", ident: str = "") -> str:
        """The signature value this scheme expects (for the CLI's ``sign`` and for tests)."""
        key = self._key(secret)
        if key is None:
            raise ValueError("secret is not valid for this scheme")
        digest = hmac.new(key, self._signed_bytes(body, timestamp, ident), self.digest).digest()
        sig = digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode("ascii")
        if self.layout == "kv":
            return f"t={timestamp},{self.version}={sig}"
        if self.layout == "versioned":
            return f"{self.version},{sig}"
        return f"{self.prefix}{sig}"


# --- mapping ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MapResult:
    """What a mapper made of one webhook: 0..n TrackEvents, or a reason it was skipped."""

    event_type: str
    events: tuple[TrackEvent, ...] = ()
    skipped: str | None = None


#: how far ahead of our clock a provider's timestamp may be before it is an error (clock skew)
FUTURE_SKEW_MS = 5 * 60 * 1000


@dataclass(frozen=True)
class MapContext:
    """The mapper's world: a clock, this source's configuration and the stale-event policy."""

    source: Source
    now_ms: int
    config: SourceConfig = field(default_factory=SourceConfig)
    stale_policy: Literal["dlq", "send_without_time"] = "dlq"

    def event_name(self, event_type: str) -> str:
        """The Ours event name for a provider event type (renames from the configuration apply)."""
        default = self.source.events.get(event_type, event_type)
        return self.config.rename.get(event_type) or self.config.rename.get(default) or default

    def dropped(self, event_type: str) -> bool:
        return event_type in self.config.drop

    def skip(self, event_type: str, reason: str = "ignored_type") -> MapResult:
        return MapResult(event_type=event_type, skipped=reason)

    def unmapped(self, event_type: str) -> MapResult | None:
        """The skip for a type this source does not map, or that the configuration drops; None to map it."""
        if self.dropped(event_type):
            return self.skip(event_type, "dropped_by_config")
        if event_type not in self.source.events:
            return self.skip(event_type, "ignored_type")
        return None

    def options(self, model: type[OptionsT]) -> OptionsT:
        try:
            return model.model_validate(self.config.options)
        except ValidationError as exc:
            fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))
            raise MappingError(f"invalid options for source {self.source.name!r}: {fields}") from None

    def track(self, event_type: str, **fields: Any) -> TrackEvent:
        """Build the TrackEvent for ``event_type``; ``None`` fields are unknown and omitted.

        A provider time slightly ahead of our clock (skew) is clamped to now; a
        time older than Ours's window is a ``stale_event`` unless the policy is
        ``send_without_time``.
        """
        fields = {k: v for k, v in fields.items() if v is not None}
        if not fields.get("distinct_id"):
            raise MappingError(f"the {self.source.name} mapper set no distinctId", reason="mapper_error")
        when = fields.get("time")
        if isinstance(when, int | float) and not isinstance(when, bool):
            when = int(when)
            if self.now_ms < when <= self.now_ms + FUTURE_SKEW_MS:
                when = self.now_ms
            if when < self.now_ms - WINDOW_MS and self.stale_policy == "send_without_time":
                fields.pop("time")
            else:
                fields["time"] = when
        return TrackEvent.build(now_ms=self.now_ms, event=self.event_name(event_type), **fields)


class NoOptions(BaseModel):
    """A source without options: any key is a mistake."""

    model_config = ConfigDict(extra="forbid")


# --- the source ------------------------------------------------------------------------------------


class Source(ABC):
    """One provider: how to verify it, which id it carries, and how its webhooks map to Ours."""

    #: the registry key and the path segment: ``POST /webhooks/{name}``
    name: ClassVar[str]
    title: ClassVar[str]
    #: media types accepted (415 otherwise)
    content_types: ClassVar[tuple[str, ...]] = ("application/json",)
    #: provider event type → default Ours event name (what ``sources`` lists for the allowlist)
    events: ClassVar[Mapping[str, str]] = {}
    #: lower-cased request headers the mapper needs, copied into the envelope (never a signature)
    forwarded_headers: ClassVar[tuple[str, ...]] = ()
    #: the model of this source's ``options`` in TRANSLATOR_CONFIG (checked when the forwarder starts)
    options_model: ClassVar[type[BaseModel]] = NoOptions

    @abstractmethod
    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        """Raise :class:`SignatureError` unless the request is genuine."""

    def webhook_id(self, request: InboundRequest) -> str | None:
        """The provider's own id for this delivery, or None (the receiver then hashes the body).

        Raises :class:`BadRequest` when the body is malformed for this source.
        """
        return None

    def handshake(self, request: InboundRequest) -> dict[str, Any] | None:
        """An answer to a URL-verification challenge, or None for an ordinary webhook."""
        return None

    @abstractmethod
    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        """Turn a queued webhook into TrackEvents (or a skip). Raise :class:`MappingError` subclasses."""

    # -- helpers for the CLI's ``sign``

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        """The headers a real provider would send with ``body``."""
        raise NotImplementedError(f"{self.name} has no signing scheme")


class HmacSource(Source):
    """A source verified by one :class:`HmacScheme`."""

    scheme: ClassVar[HmacScheme]

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        self.scheme.verify(request, secrets)

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        s = self.scheme
        ts = str(int(now * 1000) if s.timestamp_unit == "ms" else int(now))
        ident = webhook_id or ("msg_" + hashlib.sha256(body).hexdigest()[:24])
        headers = {"Content-Type": self.content_types[0]}
        headers[s.display_header or s.header] = s.sign(body, secret, timestamp=ts, ident=ident)
        if s.timestamp_header:
            headers[s.timestamp_header] = ts
        if s.id_header:
            headers[s.id_header] = ident
        return headers


def require(condition: object, message: str) -> None:
    """Raise :class:`BadRequest` (at the receiver) when a body lacks what the source needs."""
    if not condition:
        raise BadRequest(message)


def require_id(value: object, message: str, *, max_length: int = 200) -> str:
    """A provider id: a non-empty string (numbers accepted) of at most ``max_length``; else :class:`BadRequest`."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    require(0 < len(text) <= max_length, message)
    require(text.isprintable(), f"{message} (unprintable characters)")
    return text


def mapped_part(
    source: Source, request: InboundRequest, *, type_key: str, part: str
) -> tuple[str, dict[str, Any]] | None:
    """``(type, body[part])`` of a JSON webhook whose ``type_key`` the source maps; None for any other
    type (acknowledged, then skipped by the mapper); :class:`BadRequest` when the body lacks them."""
    data = request.json()
    require(isinstance(data, dict), f"not a {source.title} webhook: expected a JSON object")
    kind = data.get(type_key)
    if kind not in source.events:
        return None
    inner = data.get(part)
    require(isinstance(inner, dict), f"not a {source.title} webhook: missing {part}")
    return str(kind), inner


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def parse_model(model: type[OptionsT], data: Any, what: str) -> OptionsT:
    """Validate a provider payload; :class:`MappingError` naming the fields (never values)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})[:8])
        raise MappingError(f"{what} does not match the expected shape ({fields})") from None


__all__ = [
    "HmacScheme",
    "HmacSource",
    "InboundRequest",
    "InvalidTrackEvent",
    "MapContext",
    "MapResult",
    "Source",
    "body_hash",
    "parse_model",
    "require",
    "require_id",
]
