"""One HTTP exchange with Ours: the pooled session, what came back, and Ours's error text made safe to log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from webhook_translator.redact import redact

__all__ = ["AUTH_STATUSES", "RETRYABLE_STATUSES", "Answer", "Call", "default_session", "ours_text", "scrub"]

AUTH_STATUSES: Final = frozenset({401, 403})
RETRYABLE_STATUSES: Final = frozenset({408, 409, 429})
#: the most bytes of an error answer ever looked at
MAX_ERROR_BYTES: Final = 4096


def default_session(pool_size: int = 10) -> requests.Session:
    """A session whose connection pool holds ``pool_size`` connections per host, and never retries by itself.

    ``trust_env`` is off: requests would otherwise re-read the proxy variables, ``.netrc`` and
    ``REQUESTS_CA_BUNDLE`` on every call (a third of a call's CPU). The functions need none of them:
    Ours is reached directly, with the certificates ``certifi`` ships.
    """
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass
class Call:
    """One public call's token state: the token in use and whether the one re-read was spent."""

    source: str
    token: str | None = None
    reread: bool = False


@dataclass
class Answer:
    status: int
    headers: CaseInsensitiveDict[str]
    body: Any = None
    text: str = ""
    tokens: list[str] = field(default_factory=list)


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Remove known secrets verbatim (before the pattern-based redaction)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    return text


def ours_text(answer: Answer) -> str:
    """Ours's own error text (``{"success": false, "error": ...}``), redacted and cut to ~200 characters."""
    text: str | None = None
    if isinstance(answer.body, dict):
        for key in ("error", "message"):
            value = answer.body.get(key)
            if isinstance(value, str) and value.strip():
                text = value
                break
    if text is None:
        text = answer.text if answer.text.strip() and answer.body is None else ""
    if not text.strip():
        return "no error text"
    return redact(scrub(text[:2000], answer.tokens))
