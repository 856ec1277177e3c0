"""HubSpot's request signatures (v1, v2, v3) and the API-key header, checked against the public URL.

* ``X-HubSpot-Signature-v3`` + ``X-HubSpot-Request-Timestamp`` (ms): base64 HMAC-SHA256, keyed with
  the app's client secret, of ``METHOD + URI + body + timestamp``; the URI with HubSpot's list of
  percent-escapes decoded; refused 5 minutes away from our clock.
* ``X-HubSpot-Signature`` + ``X-HubSpot-Signature-Version: v2``: hex SHA-256 of
  ``client_secret + METHOD + URI + body`` (``v1``: of ``client_secret + body``). No timestamp.
* ``X-Webhook-Token``: a workflow's "API key" authentication (key name ``X-Webhook-Token``),
  compared in constant time.

The URI is the one HubSpot posted to. API Gateway hands over ``domainName``, ``rawPath`` (which
carries a named stage as its first segment, also behind a custom domain) and ``rawQueryString``:
:func:`public_urls` rebuilds the few URLs that request can have had — the execute-api URL with
its stage, the custom-domain URL without it, the ``Host`` header's (a local stack) — and a
signature that matches any one of them is genuine (each still needs the secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import urlsplit

from webhook_translator.errors import SignatureError
from webhook_translator.sources.request import InboundRequest

V3_HEADER = "x-hubspot-signature-v3"
V3_TIMESTAMP = "x-hubspot-request-timestamp"
V2_HEADER = "x-hubspot-signature"
VERSION_HEADER = "x-hubspot-signature-version"
TOKEN_HEADER = "x-webhook-token"
#: HubSpot's 5-minute replay window for v3
TOLERANCE_S = 300
METHOD = "POST"  # the receiver admits nothing else
#: the escapes HubSpot decodes in the URI before it signs v3
_V3_DECODE = (
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
)


def public_urls(request: InboundRequest) -> list[str]:
    """The URLs HubSpot may have posted to, most likely first (no duplicates)."""
    parts = urlsplit(request.url)
    paths = [parts.path]
    stage = request.stage
    if stage and stage != "$default" and parts.path.startswith(f"/{stage}/"):
        paths.append(parts.path[len(stage) + 1 :])  # a custom domain mapped to a named stage
    bases = [f"https://{parts.netloc}"] if parts.netloc else []
    host = (request.header("host") or "").strip()
    if host:
        proto = (request.header("x-forwarded-proto") or "").strip().lower()
        bases += [f"{p}://{host}" for p in ([proto] if proto in ("http", "https") else ["https", "http"])]
    suffix = f"?{parts.query}" if parts.query else ""
    urls: list[str] = []
    for base in bases:
        for path in paths:
            if (url := base + path + suffix) not in urls:
                urls.append(url)
    return urls


def v3_uri(url: str) -> str:
    for escaped, char in _V3_DECODE:
        url = url.replace(escaped, char).replace(escaped.lower(), char)
    return url


def v3_signature(secret: str, url: str, body: bytes, timestamp: str) -> str:
    message = (METHOD + v3_uri(url)).encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def v2_signature(secret: str, url: str, body: bytes, version: str = "v2") -> str:
    prefix = secret if version == "v1" else secret + METHOD + url
    return hashlib.sha256(prefix.encode() + body).hexdigest()


def verify(request: InboundRequest, secrets: Sequence[str]) -> None:
    """Raise :class:`SignatureError` (with its reason code) unless the request is HubSpot's."""
    if not secrets:
        raise SignatureError("no signing secret configured for source 'hubspot'", reason="no_matching_secret")
    if (v3 := (request.header(V3_HEADER) or "").strip()) != "":
        _verify_v3(request, secrets, v3)
    elif (v2 := (request.header(V2_HEADER) or "").strip()) != "":
        _verify_v2(request, secrets, v2)
    elif (token := (request.header(TOKEN_HEADER) or "").strip()) != "":
        if not any(hmac.compare_digest(token.encode(), s.encode()) for s in secrets):
            raise SignatureError("the X-Webhook-Token does not match", reason="no_matching_secret")
    else:
        raise SignatureError(
            "missing X-HubSpot-Signature-v3, X-HubSpot-Signature or X-Webhook-Token header", reason="missing_signature"
        )


def _verify_v3(request: InboundRequest, secrets: Sequence[str], signature: str) -> None:
    timestamp = (request.header(V3_TIMESTAMP) or "").strip()
    if not timestamp:
        raise SignatureError("missing X-HubSpot-Request-Timestamp header", reason="missing_signature")
    if not timestamp.isdigit():
        raise SignatureError("malformed X-HubSpot-Request-Timestamp header", reason="malformed_signature")
    age = request.received_at.timestamp() - int(timestamp) / 1000
    if age > TOLERANCE_S:
        raise SignatureError("signature timestamp is too old", reason="stale_timestamp")
    if -age > TOLERANCE_S:
        raise SignatureError("signature timestamp is in the future", reason="future_timestamp")
    urls = public_urls(request)
    for secret in secrets:
        for url in urls:
            expected = v3_signature(secret, url, request.body, timestamp)
            if hmac.compare_digest(expected.encode(), signature.encode()):
                return
    raise SignatureError("signature does not match", reason="no_matching_secret")


def _verify_v2(request: InboundRequest, secrets: Sequence[str], signature: str) -> None:
    version = (request.header(VERSION_HEADER) or "v1").strip().lower()
    if version not in ("v1", "v2"):
        raise SignatureError("unsupported X-HubSpot-Signature-Version", reason="malformed_signature")
    if len(signature) != 64 or any(c not in "0123456789abcdefABCDEF" for c in signature):
        raise SignatureError("malformed X-HubSpot-Signature header", reason="malformed_signature")
    urls = public_urls(request) if version == "v2" else [""]
    for secret in secrets:
        for url in urls:
            expected = v2_signature(secret, url, request.body, version)
            if hmac.compare_digest(expected, signature.lower()):
                return
    raise SignatureError("signature does not match", reason="no_matching_secret")
