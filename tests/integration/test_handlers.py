"""The Lambda entry points (functions/*/app.py) as Lambda calls them, and the sample events in events/apigw, events/sqs.

The handlers are loaded by path, configured only through the environment, and
talk to moto's SQS and Secrets Manager and to the local Ours — the same wiring
as on AWS, minus AWS.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import pytest
import stripe
from moto import mock_aws

from support.apigw import EVENTS, http_event, sqs_event
from support.aws import Queues, make_queues
from webhook_translator import config, forwarder, receiver
from webhook_translator.ours.client import OursClient
from webhook_translator.secrets import StaticSecrets
from webhook_translator_tools.local.lambda_events import signed_at
from webhook_translator_tools.local.ours_server import LocalOurs

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "handler-test-token-0123456789"
SIGNING = "whsec_handler_test_0123456789"
SAMPLE_SECRET = "whsec_sample_events_not_a_real_secret"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_app", ROOT / "functions" / name / "app.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def context(name: str) -> Any:
    return SimpleNamespace(
        function_name=f"webhook-translator-{name}",
        function_version="$LATEST",
        invoked_function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:webhook-translator-{name}",
        memory_limit_in_mb=256,
        aws_request_id="9f1c0d4e-0000-4000-8000-000000000000",
        log_group_name=f"/aws/lambda/webhook-translator-{name}",
        log_stream_name="2026/11/26/[$LATEST]0",
        get_remaining_time_in_millis=lambda: 30_000,
    )


def reset_caches() -> None:
    config.settings.cache_clear()
    receiver.default_receiver.cache_clear()
    forwarder.default_forwarder.cache_clear()


@pytest.fixture
def deployed(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Queues, LocalOurs]]:
    """The stack's wiring: queues, the secret, the functions' environment."""
    with mock_aws(), LocalOurs(tokens={TOKEN}) as ours:
        queues = make_queues(boto3.client("sqs", region_name="us-east-1"))
        document = {"ours_token": TOKEN, "sources": {"stripe": {"signing_secrets": [SIGNING]}}}
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="webhook-translator", SecretString=json.dumps(document)
        )
        for key, value in {
            "QUEUE_URL": queues.queue_url,
            "DLQ_URL": queues.dlq_url,
            "SECRET_ID": "webhook-translator",
            "OURS_API_URL": ours.url,
            "POWERTOOLS_TRACE_DISABLED": "true",
        }.items():
            monkeypatch.setenv(key, value)
        reset_caches()
        yield queues, ours
        reset_caches()


def test_a_webhook_goes_through_both_entry_points_to_ours(deployed: tuple[Queues, LocalOurs]) -> None:
    queues, ours = deployed
    # Given a Stripe webhook signed just now
    now = int(time.time())
    body = json.loads((EVENTS / "stripe" / "invoice-paid.json").read_text())["body"]
    body["created"] = now - 2
    text = json.dumps(body)
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(text, SIGNING, now),
    }
    # When API Gateway invokes the receiver, and the SQS event source mapping invokes the forwarder
    answer = load("receiver").lambda_handler(http_event("stripe", text, headers), context("receiver"))
    messages = queues.sqs.receive_message(
        QueueUrl=queues.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    result = load("forwarder").lambda_handler(sqs_event(messages), context("forwarder"))
    # Then the provider got its 200, and Ours got the event
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"received": True, "id": body["id"]}
    assert result == {"batchItemFailures": []}
    [event] = ours.accepted
    assert (event["event"], event["distinctId"]) == ("Invoice Paid", f"stripe:{body['id']}")


def test_a_misconfigured_function_fails_loudly_at_its_first_invocation(
    aws_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a receiver deployed without SECRET_ID
    monkeypatch.setenv("QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/123456789012/q")
    monkeypatch.delenv("SECRET_ID", raising=False)
    reset_caches()
    try:
        # Then the first invocation says what is missing (Lambda reports the error; nothing is acknowledged)
        with pytest.raises(RuntimeError, match="SECRET_ID is not set"):
            load("receiver").lambda_handler(http_event("stripe", "{}", {}), context("receiver"))
    finally:
        reset_caches()


@pytest.mark.parametrize("path", sorted(p.name for p in (EVENTS / "apigw").glob("*.json")))
def test_the_api_gateway_samples_are_genuine_at_their_signing_time(aws_env: None, path: str) -> None:
    # Given a sample event and the secret and time it was signed with (`webhook-translator samples refresh`)
    event = json.loads((EVENTS / "apigw" / path).read_text())
    sample_time = signed_at(event)
    with mock_aws():
        queues = make_queues(boto3.client("sqs", region_name="us-east-1"))
        handler = receiver.Receiver(
            config.Settings(QUEUE_URL=queues.queue_url),
            StaticSecrets({"sources": {"stripe": {"signing_secrets": [SAMPLE_SECRET]}}}),
            sqs=queues.sqs,
            clock=lambda: datetime.fromtimestamp(sample_time, UTC),
        )
        # When the receiver handles it
        answer = handler.handle(event)
        # Then it is accepted and queued
        assert answer["statusCode"] == 200, answer["body"]
        assert queues.count() == 1


def test_the_sqs_sample_batch_is_delivered_and_skipped_as_it_says(aws_env: None) -> None:
    # Given the sample batch (two mapped Stripe events and one unmapped type) at its time
    event = json.loads((EVENTS / "sqs" / "stripe-batch.json").read_text())
    sample_time = signed_at(event)
    with mock_aws(), LocalOurs(tokens={TOKEN}, clock=lambda: sample_time + 60) as ours:
        queues = make_queues(boto3.client("sqs", region_name="us-east-1"))
        handler = forwarder.Forwarder(
            config.Settings(QUEUE_URL=queues.queue_url, DLQ_URL=queues.dlq_url),
            OursClient(ours.url, StaticSecrets({"ours_token": TOKEN})),
            sqs=queues.sqs,
            clock=lambda: sample_time + 30,
        )
        # When the forwarder handles it
        result = handler.handle(event)
        # Then two events reach Ours, the third is acknowledged, nothing fails
        assert result == {"batchItemFailures": []}
        assert sorted(e["event"] for e in ours.accepted) == ["Checkout Completed", "Invoice Paid"]
        assert queues.count(queues.dlq_url) == 0
