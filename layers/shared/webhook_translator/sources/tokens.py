"""The URL / header token of the sources that cannot sign (jotform, gravityforms, wpforms; formstack unsigned).

The webhook URL carries a long random token (``?key=<token>``), or the sender sets an
``X-Webhook-Token`` header; it is compared in constant time with each of the source's
``signing_secrets`` (rotation: any one may match). A missing or wrong token is a 401 with its
reason code — there is no unverified mode, and messages never hold the token.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from webhook_translator.errors import MISSING_SIGNATURE, SignatureError
from webhook_translator.sources.request import InboundRequest

TOKEN_QUERY = "key"
TOKEN_HEADER = "x-webhook-token"
DISPLAY_HEADER = "X-Webhook-Token"


def presented_token(request: InboundRequest) -> str | None:
    """The token the request carries (``?key=`` first, then the header), or None."""
    return request.query.get(TOKEN_QUERY) or request.header(TOKEN_HEADER) or None


def check_token(token: str | None, secrets: Sequence[str], source: str, *, where: str = "") -> None:
    """Raise :class:`SignatureError` unless ``token`` equals one of ``secrets`` (constant time, empty never matches)."""
    if not secrets:
        raise SignatureError(f"no webhook token configured for source {source!r}")
    if not token:
        hint = where or f"add ?{TOKEN_QUERY}=<token> to the webhook URL"
        raise SignatureError(f"missing webhook token: {hint}", reason=MISSING_SIGNATURE)
    given = token.encode("utf-8")
    if not any(hmac.compare_digest(given, secret.encode("utf-8")) for secret in secrets if secret):
        raise SignatureError("webhook token does not match")


def verify_token(request: InboundRequest, secrets: Sequence[str]) -> None:
    """Refuse ``request`` (401) unless its URL or header token is one of ``secrets``."""
    check_token(presented_token(request), secrets, request.source)
