"""Bodies up to what SQS takes: a 900 KiB webhook end to end (receiver → moto SQS → forwarder → Ours), 413 above.

The shape is Stripe's ``invoice.paid`` (events/stripe/invoice-paid.json) with a long ``lines.data``
list, as a large invoice of usage-based line items has (Stripe's invoice object documents
``lines`` as a list of invoice line items; a webhook carries the first page of it).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import stripe
from moto import mock_aws

from support.apigw import http_event, sample
from support.aws import Queues, make_queues, poll_once
from webhook_translator.config import DEFAULT_MAX_BODY_BYTES, Settings
from webhook_translator.forwarder import Forwarder
from webhook_translator.ours.client import OursClient
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets
from webhook_translator_tools.local.ours_server import LocalOurs

NOW = 1_795_000_000
SIGNING = "whsec_large_0123456789"
TOKEN = "ours-token-large-0123456789"


def large_invoice(size: int) -> str:
    body: dict[str, Any] = copy.deepcopy(sample("stripe/invoice-paid.json")["body"])
    body.update(id="evt_large_invoice", created=NOW - 60)
    line = body["data"]["object"]["lines"]["data"][0]
    lines = body["data"]["object"]["lines"]["data"]

    def item(i: int) -> dict[str, Any]:
        return dict(copy.deepcopy(line), id=f"il_{i:06d}", description="Usage")

    lines[:] = [item(0)]
    one = len(json.dumps(body, indent=2))
    lines.append(item(1))
    per_line = len(json.dumps(body, indent=2)) - one
    lines[:] = [item(i) for i in range(1 + (size - one) // per_line)]
    text = json.dumps(body, indent=2)
    while len(text) > size:
        lines.pop()
        text = json.dumps(body, indent=2)
    return text + " " * (size - len(text))  # exactly ``size`` bytes (trailing whitespace is valid JSON)


@pytest.fixture
def rig(aws_env: None) -> Iterator[tuple[Receiver, Forwarder, Queues, LocalOurs]]:
    with mock_aws(), LocalOurs(tokens={TOKEN}, clock=lambda: NOW + 10) as ours:
        queues = make_queues(boto3.client("sqs", region_name="us-east-1"))
        receiver = Receiver(
            Settings(QUEUE_URL=queues.queue_url),
            StaticSecrets({"sources": {"stripe": {"signing_secrets": [SIGNING]}}}),
            sqs=queues.sqs,
            clock=lambda: datetime.fromtimestamp(NOW, UTC),
        )
        forwarder = Forwarder(
            Settings(QUEUE_URL=queues.queue_url, DLQ_URL=queues.dlq_url),
            OursClient(ours.url, StaticSecrets({"ours_token": TOKEN})),
            sqs=queues.sqs,
            clock=lambda: NOW + 5,
        )
        yield receiver, forwarder, queues, ours


def signed(text: str, *, base64_body: bool = False) -> dict[str, Any]:
    header = stripe.WebhookSignature.generate_signature_header(text, SIGNING, NOW)
    return http_event(
        "stripe", text, {"Content-Type": "application/json", "Stripe-Signature": header}, base64_body=base64_body
    )


@pytest.mark.parametrize("base64_body", [False, True], ids=["text", "API Gateway base64"])
def test_a_900_kib_body_is_accepted_end_to_end(
    rig: tuple[Receiver, Forwarder, Queues, LocalOurs], base64_body: bool
) -> None:
    receiver, forwarder, queues, ours = rig
    # Given a signed 900 KiB invoice.paid webhook (sent as text, or base64 by API Gateway)
    text = large_invoice(900 * 1024)
    assert len(text.encode()) == 900 * 1024
    # When the receiver takes it and the forwarder delivers it
    response = receiver.handle(signed(text, base64_body=base64_body))
    assert response["statusCode"] == 200, response["body"]
    _, result = poll_once(queues, forwarder.handle)
    # Then it reached Ours, once, and nothing is left on the queue or in the DLQ
    assert result == {"batchItemFailures": []}
    assert ours.deliveries("stripe:evt_large_invoice") == 1
    assert queues.count() == 0
    assert queues.count(queues.dlq_url) == 0


def test_a_body_over_max_body_bytes_gets_413(rig: tuple[Receiver, Forwarder, Queues, LocalOurs]) -> None:
    receiver, _, queues, _ = rig
    text = large_invoice(DEFAULT_MAX_BODY_BYTES + 1)
    response = receiver.handle(signed(text))
    assert response["statusCode"] == 413
    assert queues.count() == 0


def test_max_body_bytes_allows_about_1_mib() -> None:
    assert 1_000_000 < DEFAULT_MAX_BODY_BYTES <= 1_048_576 - 8_192
