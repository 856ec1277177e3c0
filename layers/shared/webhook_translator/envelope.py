"""The queue message between the receiver and the forwarder: a versioned envelope.

It holds exactly what the provider sent (the raw body, as text or base64) and
the few headers a mapper needs — never a signature or a secret — so that a
message in the DLQ can be re-driven after a mapper fix.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from webhook_translator.errors import InvalidEnvelope, PayloadTooLarge

ENVELOPE_VERSION: Final = 1
#: SQS's limit for one message (body and attributes together): 1 MiB since January 2026.
SQS_MAX_MESSAGE_BYTES: Final = 1_048_576
#: room kept for the message attributes the receiver, the forwarder and a redrive add
ATTRIBUTE_ALLOWANCE: Final = 6_144
#: the most bytes a compressed body may expand to (a queued body is never larger than this)
MAX_RAW_BYTES: Final = 2 * SQS_MAX_MESSAGE_BYTES


class Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = ENVELOPE_VERSION
    source: str = Field(min_length=1, max_length=64)
    webhook_id: str = Field(min_length=1, max_length=256)
    received_at: datetime
    content_type: str = ""
    #: lower-cased names; only those the source lists as needed by its mapper
    headers: dict[str, str] = Field(default_factory=dict)
    #: query parameters the mapper needs (never a URL token)
    query: dict[str, str] = Field(default_factory=dict)
    body: str
    #: ``gzip+base64`` only when neither of the others fits in one SQS message
    body_encoding: Literal["text", "base64", "gzip+base64"] = "text"

    @field_validator("received_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

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

    def json_body(self) -> Any:
        """The body parsed as JSON (mappers of JSON sources use this)."""
        from webhook_translator.errors import MappingError

        text = self.body
        try:
            if self.body_encoding == "text" and not text.startswith("\ufeff") and "\x00" not in text[:4]:
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
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=True, separators=(",", ":"))

    @classmethod
    def from_message(cls, text: str) -> Envelope:
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in e["loc"]) or "message" for e in exc.errors()})
            raise InvalidEnvelope(f"not a webhook envelope (fields: {', '.join(fields)})") from None
        except (ValueError, binascii.Error):
            raise InvalidEnvelope("not a webhook envelope") from None
