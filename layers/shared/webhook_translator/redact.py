"""Scrub text that came from outside (Ours's error messages, exception texts) before it is logged or stored."""

from __future__ import annotations

import re

_PATTERNS = (
    # quoted values: error texts quote what they refuse ("name 'Jane Doe' is invalid")
    (re.compile(r"'[^']{1,200}'|\"[^\"]{1,200}\""), "<value>"),
    # e-mail addresses
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    # long secrets and tokens: whsec_…, sk_…, bearer-like runs of 20+ token characters
    (re.compile(r"\b(?:whsec|sk|rk|pk)_[A-Za-z0-9+/=_-]+"), "<secret>"),
    (re.compile(r"[A-Za-z0-9+/=_-]{24,}"), "<redacted>"),
    # phone numbers: 7+ digits with optional separators
    (re.compile(r"\+?\d[\d ().-]{6,}\d"), "<number>"),
)


def redact(text: str, limit: int = 200) -> str:
    """``text`` with e-mails, phone-like numbers and token-like strings masked, cut to ``limit``."""
    for pattern, mask in _PATTERNS:
        text = pattern.sub(mask, text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
