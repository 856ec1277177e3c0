"""A webhook holding several events (HubSpot's app-subscription batches) against moto and the local Ours:
each event maps on its own; a bad one never costs the good ones their delivery, and the webhook then waits
in the DLQ with that item's reason — a redrive re-sends the good ones under the same distinctIds."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hubspot.utils.signature import Signature
from moto import mock_aws

from support.apigw import http_event
from support.aws import Queues, make_queues, poll_once
from webhook_translator.config import Settings
from webhook_translator.forwarder import Forwarder
from webhook_translator.ours.client import OursClient
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import SecretStore, StaticSecrets
from webhook_translator_tools.local.ours_server import Fault, LocalOurs

NOW = 1_795_000_000
CLIENT_SECRET = "hubspot-app-client-secret-0123"
TOKEN = "ours-token-batches-0123456789"
URL = "https://api1234567.execute-api.us-east-1.amazonaws.com/webhooks/hubspot"


def item(event_id: int, **changes: Any) -> dict[str, Any]:
    base = {"eventId": event_id, "subscriptionType": "contact.creation", "objectId": 9000 + event_id}
    return {**base, "portalId": 62515, "occurredAt": (NOW - 60) * 1000, **changes}


class Stack:
    def __init__(self, queues: Queues, ours: LocalOurs) -> None:
        self.queues, self.ours = queues, ours
        self.receiver = Receiver(
            Settings(QUEUE_URL=queues.queue_url),
            StaticSecrets({"sources": {"hubspot": {"signing_secrets": [CLIENT_SECRET]}}}),
            sqs=queues.sqs,
            clock=lambda: datetime.fromtimestamp(NOW, UTC),
        )
        config = Settings(QUEUE_URL=queues.queue_url, DLQ_URL=queues.dlq_url, SECRET_ID="webhook-translator")
        client = OursClient(ours.url, SecretStore("webhook-translator"), connect_timeout=1, read_timeout=1)
        self.forwarder = Forwarder(config, client, sqs=queues.sqs, clock=lambda: NOW + 5)

    def send(self, items: list[dict[str, Any]]) -> str:
        body = json.dumps(items)
        ts = str(NOW * 1000)
        signature = Signature.get_signature(CLIENT_SECRET, body, "v3", http_uri=URL, timestamp=ts)
        headers = {"Content-Type": "application/json", "X-HubSpot-Signature-v3": signature}
        event = http_event("hubspot", body, {**headers, "X-HubSpot-Request-Timestamp": ts})
        answer = self.receiver.handle(event)
        assert answer["statusCode"] == 200, answer["body"]
        return str(json.loads(answer["body"])["id"])


@pytest.fixture
def stack(aws_env: None) -> Iterator[Stack]:
    with LocalOurs(tokens={TOKEN}, clock=lambda: NOW + 10) as ours, mock_aws():
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="webhook-translator", SecretString=json.dumps({"ours_token": TOKEN})
        )
        yield Stack(make_queues(boto3.client("sqs", region_name="us-east-1")), ours)


def failure_reason(message: dict[str, Any]) -> str:
    return str(message["MessageAttributes"]["failure_reason"]["StringValue"])


def test_a_bad_item_dead_letters_the_webhook_after_the_good_ones_are_delivered(stack: Stack) -> None:
    # Given a batch: a good event, one without an objectId, another good one
    webhook_id = stack.send([item(1), item(2, objectId=None), item(3)])
    # When it is forwarded
    result = poll_once(stack.queues, stack.forwarder.handle)[1]
    # Then both good events reached Ours, once each, and the webhook is in the DLQ with the bad item's reason
    assert result == {"batchItemFailures": []}
    assert sorted(e["distinctId"] for e in stack.ours.accepted) == ["hubspot:1", "hubspot:3"]
    [dead] = stack.queues.drain(stack.queues.dlq_url)
    assert failure_reason(dead) == "invalid_payload"
    assert dead["MessageAttributes"]["webhook_id"]["StringValue"] == webhook_id
    assert "item 2 of 3" in dead["MessageAttributes"]["failure_detail"]["StringValue"]


def test_a_redrive_resends_the_good_ones_under_the_same_distinct_ids(stack: Stack) -> None:
    # Given the dead-lettered batch sent back to the queue (as `dlq redrive` does)
    stack.send([item(1), item(2, objectId=None)])
    poll_once(stack.queues, stack.forwarder.handle)
    [dead] = stack.queues.drain(stack.queues.dlq_url)
    stack.queues.sqs.send_message(QueueUrl=stack.queues.queue_url, MessageBody=dead["Body"])
    # When it is forwarded again
    poll_once(stack.queues, stack.forwarder.handle)
    # Then Ours received the good event's distinctId twice — the one it keeps, as its contract says
    assert [e["distinctId"] for e in stack.ours.accepted] == ["hubspot:1", "hubspot:1"]


def test_a_batch_ours_refuses_one_event_of_is_dead_lettered_with_ours_reason(stack: Stack) -> None:
    # Given Ours refusing the second event only
    stack.ours.inject(Fault(kind="status", status=400, distinct_id="hubspot:2", error="not allowed"))
    stack.send([item(1), item(2), item(3)])
    # When it is forwarded
    poll_once(stack.queues, stack.forwarder.handle)
    # Then the others are delivered (one /batch call: each row has its own outcome) and the webhook waits
    # in the DLQ (a redrive sends all three again; Ours keeps one of each distinctId)
    assert [e["distinctId"] for e in stack.ours.accepted] == ["hubspot:1", "hubspot:3"]
    [dead] = stack.queues.drain(stack.queues.dlq_url)
    assert failure_reason(dead) == "ours_rejected"


def test_a_batch_of_good_events_is_delivered_and_deleted(stack: Stack) -> None:
    stack.send([item(1), item(2)])
    result = poll_once(stack.queues, stack.forwarder.handle)[1]
    assert result == {"batchItemFailures": []}
    assert stack.queues.count() == 0
    assert stack.queues.count(stack.queues.dlq_url) == 0
    assert [e["distinctId"] for e in stack.ours.accepted] == ["hubspot:1", "hubspot:2"]
