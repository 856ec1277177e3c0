"""`dlq list` names the provider event type of a stale event, which the forwarder dead-letters mid-mapping."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from support.apigw import sample, sqs_event
from support.aws import Queues, make_queues
from webhook_translator.config import Settings
from webhook_translator.envelope import Envelope
from webhook_translator.forwarder import Forwarder
from webhook_translator.ours.client import OursClient
from webhook_translator.secrets import StaticSecrets
from webhook_translator_tools.dlq import DeadLetterQueue
from webhook_translator_tools.local.ours_server import LocalOurs

TOKEN = "dlq-stale-token-0123456789"
DAY = 86_400


@pytest.fixture
def queues(aws_env: None) -> Iterator[Queues]:
    with mock_aws():
        yield make_queues(boto3.client("sqs", region_name="us-east-1"))


def queue_webhook(queues: Queues, name: str, created: int) -> None:
    body = sample(f"stripe/{name}.json")["body"]
    body["created"] = created
    message = Envelope.wrap(
        source="stripe",
        webhook_id=body["id"],
        received_at=datetime.fromtimestamp(created, UTC),
        content_type="application/json",
        body=json.dumps(body).encode(),
    ).to_message()
    queues.sqs.send_message(QueueUrl=queues.queue_url, MessageBody=message)


def test_a_stale_event_is_listed_with_its_event_type(queues: Queues) -> None:
    # Given a Stripe checkout.session.completed and an invoice.paid from 8 days ago, forwarded as Lambda does
    now = time.time()
    queue_webhook(queues, "checkout-session-completed", int(now - 8 * DAY))
    queue_webhook(queues, "invoice-paid", int(now - 8 * DAY))
    messages = queues.sqs.receive_message(
        QueueUrl=queues.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    with LocalOurs(tokens={TOKEN}) as ours:
        forwarder = Forwarder(
            Settings(QUEUE_URL=queues.queue_url, DLQ_URL=queues.dlq_url),
            OursClient(ours.url, StaticSecrets({"ours_token": TOKEN})),
            sqs=queues.sqs,
            clock=lambda: now,
        )
        forwarder.handle(sqs_event(messages))
        assert ours.accepted == []

    # When the DLQ is listed
    letters = DeadLetterQueue(queues.sqs, queues.dlq_url, wait_seconds=0).list_messages()

    # Then each is a stale_event with the provider's event type, not "-", and nothing of the body
    rows = sorted((letter.reason, letter.event_type) for letter in letters)
    assert rows == [("stale_event", "checkout.session.completed"), ("stale_event", "invoice.paid")]
    listed = json.dumps([letter.to_json(now) for letter in letters])
    assert "jane" not in listed.lower()
    assert "@" not in listed
