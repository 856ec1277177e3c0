"""The queue message between the receiver and the forwarder: a versioned envelope.

It holds exactly what the provider sent (the raw body, as text or base64) and
the few headers a mapper needs — never a signature or a secret — so that a
message in the DLQ can be re-driven after a mapper fix.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

from webhook_translator.envelope_fields import ENCODINGS, KEY_SET, KEYS, bad_fields, json_parser, parse_time, text_map
from webhook_translator.errors import InvalidEnvelope, PayloadTooLarge

ENVELOPE_VERSION: Final = 1
#: SQS's limit for one message (body and attributes together): 1 MiB since January 2026.
SQS_MAX_MESSAGE_BYTES: Final = 1_048_576
#: room kept for the message attributes the receiver, the forwarder and a redrive add
ATTRIBUTE_ALLOWANCE: Final = 6_144
#: the most bytes a compressed body may expand to (a queued body is never larger than this)
MAX_RAW_BYTES: Final = 2 * SQS_MAX_MESSAGE_BYTES

BodyEncoding = Literal["text", "base64", "gzip+base64"]


class Envelope:
    """One queued webhook (immutable): the provider's body as received, and what the mapper needs."""

    __slots__ = KEYS

    version: Literal[1]
    source: str
    webhook_id: str
    received_at: datetime
    content_type: str
    #: lower-cased names; only those the source lists as needed by its mapper
    headers: dict[str, str]
    #: query parameters the mapper needs (never a URL token)
    query: dict[str, str]
    body: str
    #: ``gzip+base64`` only when neither of the others fits in one SQS message
    body_encoding: BodyEncoding

    def __init__(
        self,
        *,
        source: str,
        webhook_id: str,
        received_at: datetime,
        body: str,
        content_type: str = "",
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        body_encoding: BodyEncoding = "text",
        version: Literal[1] = ENVELOPE_VERSION,
    ) -> None:
        """An envelope of values already known to be valid (:meth:`from_message` checks a message's)."""
        if received_at.tzinfo is None:
            received_at = received_at.replace(tzinfo=UTC)
        _fill(self, version, source, webhook_id, received_at, content_type, headers, query, body, body_encoding)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"an Envelope is immutable ({name})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Envelope):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in KEYS)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Envelope(source={self.source!r}, webhook_id={self.webhook_id!r}, body_encoding={self.body_encoding!r})"

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Envelope:
        """A copy with some fields changed (unchecked, as pydantic's ``model_copy``)."""
        values = {k: getattr(self, k) for k in KEYS} | dict(update or {})
        return Envelope(**values)

    def model_dump(self) -> dict[str, Any]:
        """The message's fields as JSON data (``received_at`` as ISO 8601, ``Z`` for UTC)."""
        return {
            "version": self.version,
            "source": self.source,
            "webhook_id": self.webhook_id,
            "received_at": _iso(self.received_at),
            "content_type": self.content_type,
            "headers": self.headers,
            "query": self.query,
            "body": self.body,
            "body_encoding": self.body_encoding,
        }

    def model_dump_json(self) -> str:
        return self._dump()

    @classmethod
    def wrap(
        cls,
        *,
        source: str,
        webhook_id: str,
        received_at: datetime,
        content_type: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Envelope:
        encoding: BodyEncoding
        try:
            text, encoding = body.decode("utf-8"), "text"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(body).decode("ascii"), "base64"
        return cls(
            source=source,
            webhook_id=webhook_id,
            received_at=received_at,
            content_type=content_type,
            headers=headers or {},
            query=query or {},
            body=text,
            body_encoding=encoding,
        )

    @property
    def raw_body(self) -> bytes:
        if self.body_encoding == "base64":
            return base64.b64decode(self.body)
        if self.body_encoding == "gzip+base64":
            import zlib

            from webhook_translator.errors import MappingError

            try:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                raw = inflater.decompress(base64.b64decode(self.body), MAX_RAW_BYTES)
            except (zlib.error, binascii.Error, ValueError):
                raise MappingError("the compressed body is corrupt", reason="invalid_envelope") from None
            if inflater.unconsumed_tail or not inflater.eof:
                raise MappingError("the compressed body is larger than allowed", reason="invalid_envelope")
            return raw
        return self.body.encode("utf-8")

    @property
    def received_at_ms(self) -> int:
        return int(self.received_at.timestamp() * 1000)

    def json_text(self) -> str | None:
        """The body as the JSON text to parse, when it is one as queued (UTF-8 text without a BOM);
        None for a body to parse from its bytes (base64 or compressed, a BOM, UTF-16/32)."""
        text = self.body
        if self.body_encoding == "text" and not text.startswith("\ufeff") and "\x00" not in text[:4]:
            return text
        return None

    def json_body(self) -> Any:
        """The body parsed as JSON (mappers of JSON sources use this)."""
        from webhook_translator.errors import MappingError

        text = self.json_text()
        try:
            if text is not None:
                return json.loads(text)  # as json.loads(raw_body), without the round trip through bytes
            return json.loads(self.raw_body)  # a BOM or UTF-16/32 JSON: json.loads detects it in the bytes
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise MappingError("body is not valid JSON") from None

    def to_message(self) -> str:
        """The SQS message body, pure ASCII; raises :class:`PayloadTooLarge` if it would not fit.

        ASCII because SQS refuses (or replaces) some code points such as U+FFFF, and the
        body must arrive exactly as sent. A body that JSON escaping would inflate beyond
        base64's 4/3 is queued as base64 instead; one that fits neither way (a large JSON
        body: its quotes are escaped) is queued compressed (gzip, then base64), and the
        forwarder gets back the very same bytes.
        """
        text = self._dump()
        limit = SQS_MAX_MESSAGE_BYTES - ATTRIBUTE_ALLOWANCE
        if len(text) > limit and self.body_encoding == "text":
            encoded = base64.b64encode(self.raw_body).decode("ascii")
            text = self.model_copy(update={"body": encoded, "body_encoding": "base64"})._dump()
        if len(text) > limit and self.body_encoding != "gzip+base64":
            import gzip  # only for the rare large body: not at the receiver's cold start

            packed = base64.b64encode(gzip.compress(self.raw_body, compresslevel=6, mtime=0)).decode("ascii")
            text = self.model_copy(update={"body": packed, "body_encoding": "gzip+base64"})._dump()
        if len(text) > limit:
            raise PayloadTooLarge(f"webhook too large to queue (over {limit} bytes even compressed)")
        return text

    def _dump(self) -> str:
        return json.dumps(self.model_dump(), ensure_ascii=True, separators=(",", ":"))

    @classmethod
    def from_message(cls, text: str | bytes) -> Envelope:
        """The envelope in a queue message; :class:`InvalidEnvelope` names the fields that are wrong."""
        try:
            data = json_parser()(text)
        except (ValueError, RecursionError):
            data = None
        if type(data) is not dict:
            raise InvalidEnvelope("not a webhook envelope (fields: message)")
        # each field read once, checked in one expression (the forwarder's hot path); the details on failure
        get = data.get
        source, webhook_id, body, headers, query = (
            get("source"),
            get("webhook_id"),
            get("body"),
            get("headers"),
            get("query"),
        )
        content_type, encoding, version = get("content_type", ""), get("body_encoding", "text"), get("version", 1)
        when = parse_time(get("received_at"))
        if not (
            type(source) is str
            and 0 < len(source) <= 64
            and type(webhook_id) is str
            and 0 < len(webhook_id) <= 256
            and type(body) is str
            and type(content_type) is str
            and encoding in ENCODINGS
            and ((headers is None and "headers" not in data) or (type(headers) is dict and text_map(headers)))
            and ((query is None and "query" not in data) or (type(query) is dict and text_map(query)))
            and when is not None
            and version == 1
            and type(version) is int
            and data.keys() <= KEY_SET
        ):
            raise InvalidEnvelope(f"not a webhook envelope (fields: {', '.join(bad_fields(data, when))})")
        envelope = object.__new__(cls)
        _fill(envelope, 1, source, webhook_id, when, content_type, headers, query, body, encoding)
        return envelope


(
    _set_version,
    _set_source,
    _set_webhook_id,
    _set_received_at,
    _set_content_type,
    _set_headers,
    _set_query,
    _set_body,
    _set_body_encoding,
) = (getattr(Envelope, key).__set__ for key in KEYS)


def _fill(
    envelope: Envelope,
    version: Literal[1],
    source: str,
    webhook_id: str,
    received_at: datetime,
    content_type: str,
    headers: dict[str, str] | None,
    query: dict[str, str] | None,
    body: str,
    body_encoding: BodyEncoding,
) -> None:
    _set_version(envelope, version)
    _set_source(envelope, source)
    _set_webhook_id(envelope, webhook_id)
    _set_received_at(envelope, received_at)
    _set_content_type(envelope, content_type)
    _set_headers(envelope, headers if headers is not None else {})
    _set_query(envelope, query if query is not None else {})
    _set_body(envelope, body)
    _set_body_encoding(envelope, body_encoding)


def _iso(when: datetime) -> str:
    text = when.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
