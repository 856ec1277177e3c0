"""The reason code a refused signature carries (DESIGN.md, "Refusals name a reason code").

The second-wave sources set their own codes. Those verified by the shared
:class:`~webhook_translator.sources.signing.HmacScheme` get theirs from it: until
the scheme names them (the signature-diagnostics change), it says ``bad_signature``
for every cause, which :func:`assert_reason` accepts for a scheme-checked source only.
"""

from __future__ import annotations

import pytest

from webhook_translator.errors import SignatureError

CODES = frozenset(
    {"missing_signature", "malformed_signature", "stale_timestamp", "future_timestamp", "no_matching_secret"}
)


def assert_reason(info: pytest.ExceptionInfo[SignatureError], code: str, *, scheme: bool = False) -> None:
    assert code in CODES
    reason = info.value.reason
    if scheme and reason == "bad_signature":  # the shared scheme before it names causes
        return
    assert reason == code, f"reason {reason!r}, expected {code!r}"
