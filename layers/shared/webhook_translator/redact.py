"""Scrub text that came from outside (Ours's error messages, exception texts) before it is logged or stored."""

from __future__ import annotations

import re
from functools import cache

_RULES = (
    # quoted values: error texts quote what they refuse ("name 'Jane Doe' is invalid")
    (r"'[^']{1,200}'|\"[^\"]{1,200}\"", "<value>"),
    # e-mail addresses
    (r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "<email>"),
    # long secrets and tokens: whsec_…, sk_…, bearer-like runs of 20+ token characters
    (r"\b(?:whsec|sk|rk|pk)_[A-Za-z0-9+/=_-]+", "<secret>"),
    (r"[A-Za-z0-9+/=_-]{24,}", "<redacted>"),
    # phone numbers: 7+ digits with optional separators
    (r"\+?\d[\d ().-]{6,}\d", "<number>"),
)


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Compiled by the first text scrubbed (an error's), not by the functions' init."""
    return tuple((re.compile(rule), mask) for rule, mask in _RULES)


def redact(text: str, limit: int = 200) -> str:
    """``text`` with e-mails, phone-like numbers and token-like strings masked, cut to ``limit``."""
    for pattern, mask in _patterns():
        text = pattern.sub(mask, text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
