"""The queue envelope: exactly the provider's bytes, in a message SQS will carry."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from webhook_translator.envelope import SQS_MAX_MESSAGE_BYTES, Envelope
from webhook_translator.errors import InvalidEnvelope, PayloadTooLarge

WHEN = datetime(2026, 11, 18, 9, 40, tzinfo=UTC)


def wrap(body: bytes) -> Envelope:
    return Envelope.wrap(
        source="typeform", webhook_id="tok", received_at=WHEN, content_type="application/json", body=body
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "plain"}',
        '{"answer": "caf\u00e9 \u65e5\u672c \U0001f600 \uffff"}'.encode(),
        b"\xff\xfe not utf-8",
        b"",
    ],
    ids=["ascii", "unicode incl. U+FFFF", "not UTF-8", "empty"],
)
def test_the_message_is_ascii_and_gives_back_the_exact_bytes(body: bytes) -> None:
    # Given any body
    message = wrap(body).to_message()
    # Then the message is ASCII (SQS refuses or rewrites some code points), and decodes to the same bytes
    assert message.isascii()
    assert Envelope.from_message(message).raw_body == body


def test_a_body_that_escaping_would_inflate_is_queued_as_base64() -> None:
    # Given a 180 KiB body made of characters JSON must escape (so as text it would double)
    body = b'"' * 184_320
    # When it is made into a message
    message = wrap(body).to_message()
    # Then it fits SQS, as base64, and still gives back the exact bytes
    assert len(message) < SQS_MAX_MESSAGE_BYTES
    assert json.loads(message)["body_encoding"] == "base64"
    assert Envelope.from_message(message).raw_body == body


def test_a_body_too_large_even_as_base64_is_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        wrap(b"x" * 262_144).to_message()


@pytest.mark.parametrize("text", ["hello", "{}", '{"version": 2}', json.dumps({"version": 1, "source": "x"})])
def test_anything_else_on_the_queue_is_an_invalid_envelope(text: str) -> None:
    with pytest.raises(InvalidEnvelope):
        Envelope.from_message(text)
