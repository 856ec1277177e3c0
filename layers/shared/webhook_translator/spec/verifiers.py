"""A spec's verifier, made from the schemes the built-in sources use (never a copy of them).

* ``hmac`` → an :class:`~webhook_translator.sources.signing.HmacScheme` built from the spec's fields;
* ``standard-webhooks`` → the built-in Standard Webhooks source's own verification (``svix-*`` aliases);
* ``token`` → a shared token in a header or the query, compared in constant time with the secrets.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from webhook_translator.errors import MISSING_SIGNATURE, SignatureError
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme
from webhook_translator.spec.model import HmacVerifier, StandardWebhooksVerifier, TokenVerifier


class SpecVerifier(Protocol):
    def delivery_id(self, request: InboundRequest) -> str | None:
        """The provider's delivery id from the scheme's own header, if it has one (the default webhook id)."""

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None: ...

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None) -> dict[str, str]: ...


def _ident(body: bytes, webhook_id: str | None) -> str:
    return webhook_id or ("msg_" + hashlib.sha256(body).hexdigest()[:24])


@dataclass(frozen=True)
class HmacVerify:
    scheme: HmacScheme

    def delivery_id(self, request: InboundRequest) -> str | None:
        return request.header(self.scheme.id_header) if self.scheme.id_header else None

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        self.scheme.verify(request, secrets)

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None) -> dict[str, str]:
        s = self.scheme
        if "{url}" in s.signed:
            raise NotImplementedError("this scheme signs the public URL the provider calls: sign with its own tools")
        ts = str(int(now * 1000) if s.timestamp_unit == "ms" else int(now))
        ident = _ident(body, webhook_id)
        headers = {s.header: s.sign(body, secret, timestamp=ts, ident=ident)}
        if s.timestamp_header:
            headers[s.timestamp_header] = ts
        if s.id_header:
            headers[s.id_header] = ident
        return headers


@dataclass(frozen=True)
class StandardWebhooksVerify:
    prefix: str = "webhook"

    def delivery_id(self, request: InboundRequest) -> str | None:
        return request.header("webhook-id") or request.header("svix-id")

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        from webhook_translator.sources.standard_webhooks import StandardWebhooksSource

        StandardWebhooksSource().verify(request, secrets)

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None) -> dict[str, str]:
        from webhook_translator.sources.standard_webhooks import StandardWebhooksSource

        headers = StandardWebhooksSource().sign_headers(body, secret, now=now, webhook_id=_ident(body, webhook_id))
        headers.pop("Content-Type", None)
        return {name.replace("webhook-", f"{self.prefix}-", 1): value for name, value in headers.items()}


@dataclass(frozen=True)
class TokenVerify:
    header: str | None
    query: str | None

    def delivery_id(self, request: InboundRequest) -> str | None:
        return None

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        if not secrets:
            raise SignatureError(f"no webhook token configured for source {request.source!r}")
        token = (request.query.get(self.query) if self.query else None) or (
            request.header(self.header) if self.header else None
        )
        if not token:
            where = f"?{self.query}=<token> in the webhook URL" if self.query else f"the {self.header} header"
            raise SignatureError(f"missing webhook token: send {where}", reason=MISSING_SIGNATURE)
        given = token.encode("utf-8")
        if not any(hmac.compare_digest(given, secret.encode("utf-8")) for secret in secrets if secret):
            raise SignatureError("webhook token does not match")

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None) -> dict[str, str]:
        if self.header is None:
            raise NotImplementedError(f"this source takes its token in the URL: add ?{self.query}=<token>")
        return {self.header: secret}


def make_verifier(spec: HmacVerifier | StandardWebhooksVerifier | TokenVerifier) -> SpecVerifier:
    """The verifier a spec names (the model has already refused a spec without one)."""
    if isinstance(spec, HmacVerifier):
        return HmacVerify(HmacScheme(**spec.model_dump(exclude={"type"})))
    if isinstance(spec, StandardWebhooksVerifier):
        return StandardWebhooksVerify(prefix=spec.headers)
    return TokenVerify(header=spec.header, query=spec.query)
