"""The reason code a refused signature carries (DESIGN.md, "Refusals name a reason code").

The second-wave sources set their own codes; those verified by the shared
:class:`~webhook_translator.sources.signing.HmacScheme` get theirs from it.
"""

from __future__ import annotations

import pytest

from webhook_translator.errors import SignatureError

CODES = frozenset(
    {
        "missing_signature",
        "malformed_signature",
        "stale_timestamp",
        "future_timestamp",
        "no_matching_secret",
        "body_modified",
    }
)


def assert_reason(info: pytest.ExceptionInfo[SignatureError], code: str, *, scheme: bool = False) -> None:
    assert code in CODES
    reason = info.value.reason
    assert reason == code, f"reason {reason!r}, expected {code!r}"
