"""The queue envelope: exactly the provider's bytes, in a message SQS will carry."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from webhook_translator.envelope import SQS_MAX_MESSAGE_BYTES, Envelope
from webhook_translator.errors import InvalidEnvelope, MappingError, PayloadTooLarge

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
    # Given a 600 KB body made of characters JSON must escape (so as text it would double)
    body = b'"' * 600_000
    # When it is made into a message
    message = wrap(body).to_message()
    # Then it fits SQS, as base64, and still gives back the exact bytes
    assert len(message) < SQS_MAX_MESSAGE_BYTES
    assert json.loads(message)["body_encoding"] == "base64"
    assert Envelope.from_message(message).raw_body == body


def test_a_900_kib_json_body_fits_one_sqs_message_compressed() -> None:
    # Given a 900 KiB JSON body (a large order: escaped as text and as base64 it would not fit 1 MiB)
    item = {"id": 1234567, "title": "Line item", "sku": "SKU-1", "quantity": 1, "price": "19.99"}
    body = json.dumps({"line_items": [dict(item, id=i) for i in range(20_000)]}).encode()[: 900 * 1024 - 2] + b"]}"
    # When it is made into a message
    message = wrap(body).to_message()
    # Then it fits SQS, compressed, and gives back the exact bytes
    assert len(message) < SQS_MAX_MESSAGE_BYTES
    assert json.loads(message)["body_encoding"] == "gzip+base64"
    assert Envelope.from_message(message).raw_body == body


def test_a_body_too_large_even_compressed_is_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        wrap(os.urandom(SQS_MAX_MESSAGE_BYTES)).to_message()


def test_a_corrupt_compressed_body_is_an_invalid_envelope() -> None:
    envelope = wrap(b"{}").model_copy(update={"body": "bm90IGd6aXA=", "body_encoding": "gzip+base64"})
    with pytest.raises(MappingError) as caught:
        _ = envelope.raw_body
    assert caught.value.reason == "invalid_envelope"


@pytest.mark.parametrize("text", ["hello", "{}", '{"version": 2}', json.dumps({"version": 1, "source": "x"})])
def test_anything_else_on_the_queue_is_an_invalid_envelope(text: str) -> None:
    with pytest.raises(InvalidEnvelope):
        Envelope.from_message(text)


def test_a_lowercase_z_is_utc_as_rfc_3339_allows() -> None:
    # Given a message (re-driven or written by hand) whose time ends in a lowercase "z"
    message = json.dumps({"source": "s", "webhook_id": "w", "received_at": "2026-01-02T03:04:05z", "body": "x"})
    # When it is read / Then it is the same UTC time as with "Z"
    assert Envelope.from_message(message).received_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
