"""Text from outside (Ours's error messages) is scrubbed before it is logged or stored in the DLQ."""

from __future__ import annotations

import pytest

from webhook_translator.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("invalid email jane.doe@example.com", "jane.doe@example.com"),
        ("bad phone +1 (512) 555-0199 given", "555-0199"),
        ("token whsec_abcdefghijklmnop is wrong", "whsec_abcdefghijklmnop"),
        ("name 'Jane Doe' is not allowed", "Jane Doe"),
        ('field "1 Main St, Austin" too long', "Main St"),
        ("key A1b2C3d4E5f6G7h8I9j0K1l2M3 leaked", "A1b2C3d4E5f6G7h8I9j0K1l2M3"),
    ],
)
def test_personal_data_and_secrets_are_masked(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_the_rule_that_broke_survives_and_the_text_is_bounded() -> None:
    assert redact("eventProperties: too many keys") == "eventProperties: too many keys"
    assert len(redact("x " * 500, limit=50)) == 50
