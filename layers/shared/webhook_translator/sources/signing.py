"""The table-driven HMAC verifier most providers fit: header, prefix, algorithm, encoding,
signed-bytes template, timestamp, tolerance, list splitting, secret decoding."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from webhook_translator.errors import (
    BODY_MODIFIED,
    FUTURE_TIMESTAMP,
    MALFORMED_SIGNATURE,
    MISSING_SIGNATURE,
    NO_MATCHING_SECRET,
    STALE_TIMESTAMP,
    SignatureError,
)
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.rewrites import undo_rewrites


@dataclass(frozen=True)
class HmacScheme:
    """One provider's HMAC signature scheme, as data.

    ``signed`` is a template of the signed bytes over ``{body}`` (the raw bytes),
    ``{t}`` (the timestamp as sent), ``{id}`` (the ``id_header`` value), ``{method}`` (``POST``)
    and ``{url}`` (the public URL the provider called, query included).
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
        """Raise :class:`SignatureError` unless one of ``secrets`` signed ``request.body``.

        The error's ``reason`` is a code of :data:`~webhook_translator.errors.SIGNATURE_REASONS`; when no
        secret signs the body as received but one signs it as it was before a common proxy rewrite
        (:mod:`.rewrites`), the reason is ``body_modified``. Messages name the rule, never a value.
        """
        if not secrets:
            raise SignatureError(f"no signing secret configured for source {request.source!r}")
        timestamp, ident, candidates = self._read(request)
        if "{t}" in self.signed:
            self._check_window(timestamp, request.received_at.timestamp())
        if not candidates:
            raise SignatureError(f"no {self.version} signature in the {self.label} header", reason=MALFORMED_SIGNATURE)
        keys = [key for key in (self._key(secret) for secret in secrets) if key is not None]
        if self._signed_by(keys, request.body, timestamp or "", ident, candidates, request.url):
            return
        for rewrite, original in undo_rewrites(request.body):  # the refusal path only
            if self._signed_by(keys, original, timestamp or "", ident, candidates, request.url):
                raise SignatureError(
                    f"the signature matches the body only as it was before a change on the way ({rewrite}): "
                    "pass the raw request body through unchanged",
                    reason=BODY_MODIFIED,
                )
        raise SignatureError("signature does not match any configured secret", reason=NO_MATCHING_SECRET)

    def _read(self, request: InboundRequest) -> tuple[str | None, str, list[bytes]]:
        """(timestamp, id, candidate signatures) from the headers; :class:`SignatureError` when one is missing."""
        value = request.header(self.header)
        if value is None or not value.strip():
            raise SignatureError(f"missing {self.label} header", reason=MISSING_SIGNATURE)
        timestamp, candidates = self._parse(value.strip())
        if self.timestamp_header is not None:
            timestamp = request.header(self.timestamp_header)
            if timestamp is None or not timestamp.strip():
                raise SignatureError(f"missing {self.timestamp_header} header", reason=MISSING_SIGNATURE)
            timestamp = timestamp.strip()
        ident = ""
        if self.id_header is not None:
            ident = (request.header(self.id_header) or "").strip()
            if not ident:
                raise SignatureError(f"missing {self.id_header} header", reason=MISSING_SIGNATURE)
        return timestamp, ident, candidates

    def _signed_by(
        self,
        keys: Sequence[bytes],
        body: bytes,
        timestamp: str,
        ident: str,
        candidates: Sequence[bytes],
        url: str = "",
    ) -> bool:
        message = self._signed_bytes(body, timestamp, ident, url)
        for key in keys:
            expected = hmac.new(key, message, self.digest).digest()
            if any(hmac.compare_digest(expected, candidate) for candidate in candidates):
                return True
        return False

    # -- parts

    def _parse(self, value: str) -> tuple[str | None, list[bytes]]:
        timestamp: str | None = None
        raw: list[str] = []
        if self.layout == "plain":
            if self.prefix:
                if not value.startswith(self.prefix):
                    raise SignatureError(f"malformed {self.label} header", reason=MALFORMED_SIGNATURE)
                value = value[len(self.prefix) :]
            raw = [value]
        elif self.layout == "kv":
            for part in value.split(","):
                key, sep, item = part.strip().partition("=")
                if not sep:
                    raise SignatureError(f"malformed {self.label} header", reason=MALFORMED_SIGNATURE)
                if key == "t":
                    timestamp = item
                elif key == self.version:
                    raw.append(item)
            if timestamp is None and self.timestamp_header is None:
                raise SignatureError(f"malformed {self.label} header: no timestamp", reason=MALFORMED_SIGNATURE)
        else:
            for part in value.split():
                version, sep, item = part.partition(",")
                if not sep:
                    raise SignatureError(f"malformed {self.label} header", reason=MALFORMED_SIGNATURE)
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
            raise SignatureError(f"missing timestamp in the {self.label} header", reason=MISSING_SIGNATURE)
        try:
            value = float(timestamp)
        except ValueError:
            raise SignatureError("malformed signature timestamp", reason=MALFORMED_SIGNATURE) from None
        if value != value:
            raise SignatureError("malformed signature timestamp", reason=MALFORMED_SIGNATURE)
        seconds = value / 1000 if self.timestamp_unit == "ms" else value
        if self.tolerance is None:
            return
        ahead = self.future_tolerance if self.future_tolerance is not None else self.tolerance
        if now - seconds > self.tolerance:
            raise SignatureError(f"signature timestamp is more than {self.tolerance:g} s old", reason=STALE_TIMESTAMP)
        if seconds - now > ahead:
            raise SignatureError(
                f"signature timestamp is more than {ahead:g} s ahead of the receiver's clock", reason=FUTURE_TIMESTAMP
            )

    def _signed_bytes(self, body: bytes, timestamp: str, ident: str, url: str = "") -> bytes:
        before, _, after = self.signed.partition("{body}")
        parts = {"t": timestamp, "id": ident, "method": "POST", "url": url}
        return before.format(**parts).encode("utf-8") + body + after.format(**parts).encode("utf-8")

    def sign(self, body: bytes, secret: str, *, timestamp: str = "", ident: str = "", url: str = "") -> str:
        """The signature value this scheme expects (for the CLI's ``sign`` and for tests)."""
        key = self._key(secret)
        if key is None:
            raise ValueError("secret is not valid for this scheme")
        digest = hmac.new(key, self._signed_bytes(body, timestamp, ident, url), self.digest).digest()
        sig = digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode("ascii")
        if self.layout == "kv":
            return f"t={timestamp},{self.version}={sig}"
        if self.layout == "versioned":
            return f"{self.version},{sig}"
        return f"{self.prefix}{sig}"
