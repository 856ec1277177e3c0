"""The pipeline against moto (SQS + DLQ + Secrets Manager) and the real local Ours over loopback.

The receiver queues Stripe webhooks signed by the ``stripe`` library; a small
stand-in for Lambda's SQS event source mapping (``poll_once``) feeds the
forwarder, deleting only what it did not report as failed.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import stripe
from moto import mock_aws

from support.apigw import http_event, sample
from support.aws import Queues, hidden_for, make_queues, make_visible, poll_once
from webhook_translator.config import Settings
from webhook_translator.envelope import Envelope
from webhook_translator.forwarder import Forwarder
from webhook_translator.ours.client import OursClient
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import SecretStore, StaticSecrets
from webhook_translator_tools.local.ours_server import Fault, LocalOurs

NOW = 1_795_000_000
SIGNING = "whsec_pipeline_0123456789"
TOKEN = "ours-token-current-0123456789"
ROTATED = "ours-token-rotated-9876543210"


class Pipeline:
    def __init__(self, queues: Queues, ours: LocalOurs, secret_id: str, **settings: Any) -> None:
        self.queues, self.ours = queues, ours
        self.receiver = Receiver(
            Settings(QUEUE_URL=queues.queue_url),
            StaticSecrets({"sources": {"stripe": {"signing_secrets": [SIGNING]}}}),
            sqs=queues.sqs,
            clock=lambda: datetime.fromtimestamp(NOW, UTC),
        )
        self.store = SecretStore(secret_id, max_age=300)
        self.config = Settings(QUEUE_URL=queues.queue_url, DLQ_URL=queues.dlq_url, SECRET_ID=secret_id, **settings)
        client = OursClient(ours.url, self.store, connect_timeout=1, read_timeout=1)
        self.forwarder = Forwarder(self.config, client, sqs=queues.sqs, clock=lambda: NOW + 5)

    def send(self, body: dict[str, Any]) -> str:
        text = json.dumps(body)
        header = stripe.WebhookSignature.generate_signature_header(text, SIGNING, NOW)
        event = http_event("stripe", text, {"Content-Type": "application/json", "Stripe-Signature": header})
        response = self.receiver.handle(event)
        assert response["statusCode"] == 200, response["body"]
        return str(json.loads(response["body"])["id"])

    def poll(self) -> dict[str, Any]:
        return poll_once(self.queues, self.forwarder.handle)[1]

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.queues.drain(self.queues.dlq_url)


@pytest.fixture
def ours() -> Iterator[LocalOurs]:
    with LocalOurs(tokens={TOKEN}, clock=lambda: NOW + 10) as server:
        yield server


@pytest.fixture
def pipeline(aws_env: None, ours: LocalOurs) -> Iterator[Pipeline]:
    with mock_aws():
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="webhook-translator", SecretString=json.dumps({"ours_token": TOKEN}))
        yield Pipeline(make_queues(boto3.client("sqs", region_name="us-east-1")), ours, "webhook-translator")


def stripe_event(name: str = "checkout-session-completed", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(sample(f"stripe/{name}.json")["body"])
    body.update(changes)
    return body


def without_identity() -> dict[str, Any]:
    body = stripe_event("charge-refunded", id="evt_no_identity")
    obj = body["data"]["object"]
    obj["billing_details"]["email"] = None
    obj["receipt_email"] = None
    return body


def test_a_queued_webhook_is_delivered_once(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given a genuine checkout.session.completed on the queue
    pipeline.send(stripe_event())
    # When the forwarder takes the batch
    result = pipeline.poll()
    # Then Ours accepted exactly one event, keyed on Stripe's event id, timed by `created`, and the queue is empty
    assert result == {"batchItemFailures": []}
    [event] = ours.accepted
    assert event["event"] == "Checkout Completed"
    assert event["distinctId"] == "stripe:evt_1SampleCheckoutCompleted"
    assert event["time"] == 1794990000 * 1000
    assert event["externalId"] == "user_8431"
    assert pipeline.queues.count() == 0
    assert pipeline.dead_letters() == []


def test_an_unmapped_event_type_is_acknowledged_and_skipped(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given a customer.created (not an event the translator maps)
    pipeline.send(stripe_event("customer-created-ignored"))
    # When it is forwarded
    result = pipeline.poll()
    # Then it is done with: not sent, not retried, not dead-lettered
    assert result == {"batchItemFailures": []}
    assert ours.accepted == []
    assert pipeline.queues.count() == 0
    assert pipeline.dead_letters() == []


def test_a_batch_fails_only_the_records_that_failed(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given three webhooks, and Ours failing (503) for one of them only
    for n in range(3):
        pipeline.send(stripe_event(id=f"evt_batch_{n}"))
    ours.inject(Fault(kind="status", status=503, distinct_id="stripe:evt_batch_1"))
    # When the forwarder takes the batch
    messages, result = poll_once(pipeline.queues, pipeline.forwarder.handle)
    # Then only that record is reported, left on the queue with a backoff (2 s doubling + 1–5 s jitter)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert len(messages) == 3
    assert len(failed) == 1
    assert sorted(e["distinctId"] for e in ours.accepted) == ["stripe:evt_batch_0", "stripe:evt_batch_2"]
    [delay] = hidden_for(pipeline.queues)
    assert 2 <= delay <= 8


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault(kind="status", status=503, times=2), "5xx"),
        (Fault(kind="status", status=500, times=1), "5xx"),
        (Fault(kind="status", status=429, retry_after="7", times=1), "429 with Retry-After"),
        (Fault(kind="status", status=429, times=1), "429 without Retry-After"),
        (Fault(kind="drop", times=1), "dropped connection"),
        (Fault(kind="slow", delay=1.5, times=1), "timeout"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_transient_failures_are_retried_to_delivery_with_the_same_distinct_id(
    pipeline: Pipeline, ours: LocalOurs, fault: Fault, reason: str
) -> None:
    # Given Ours failing transiently
    pipeline.send(stripe_event())
    ours.inject(fault)
    # When the forwarder is given the message until it goes through
    for _ in range(4):
        result = pipeline.poll()
        if not result["batchItemFailures"]:
            break
        if fault.retry_after:
            # Retry-After is honoured as the message's visibility timeout
            assert 6 <= max(hidden_for(pipeline.queues)) <= 7.5
        make_visible()
    # Then it is delivered exactly once with the same distinctId, nothing dead-lettered
    assert ours.deliveries("stripe:evt_1SampleCheckoutCompleted") == 1
    assert pipeline.queues.count() == 0
    assert pipeline.dead_letters() == []


def dlq_attributes(message: dict[str, Any]) -> dict[str, str]:
    return {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}


@pytest.mark.parametrize("status", [400, 404, 413, 415, 422])
def test_a_payload_ours_refuses_goes_to_the_dlq_at_once_with_its_reason(
    pipeline: Pipeline, ours: LocalOurs, status: int
) -> None:
    # Given Ours refusing this payload
    body = stripe_event()
    webhook_id = pipeline.send(body)
    ours.inject(Fault(kind="status", status=status, error="event is invalid"))
    # When it is forwarded once
    result = pipeline.poll()
    # Then it is not retried but sits in the DLQ, body intact, with the reason and Ours's text
    assert result == {"batchItemFailures": []}
    assert pipeline.queues.count() == 0
    [dead] = pipeline.dead_letters()
    assert Envelope.from_message(dead["Body"]).raw_body == json.dumps(body).encode()
    attributes = dlq_attributes(dead)
    assert attributes["failure_reason"] == "ours_rejected"
    assert attributes["ours_status"] == str(status)
    assert "event is invalid" in attributes["failure_detail"]
    assert attributes["webhook_id"] == webhook_id
    assert attributes["attempts"] == "1"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (without_identity(), "no_identity"),
        (stripe_event(created=NOW - 8 * 86400), "stale_event"),
        (stripe_event(data="not an object"), "invalid_payload"),
    ],
    ids=["no identity", "older than 7 days", "malformed event"],
)
def test_events_that_cannot_be_mapped_go_to_the_dlq_with_their_reason(
    pipeline: Pipeline, ours: LocalOurs, body: dict[str, Any], reason: str
) -> None:
    # Given a webhook that cannot become a valid /track event
    pipeline.send(body)
    # When it is forwarded
    result = pipeline.poll()
    # Then nothing reaches Ours and the DLQ holds it with its reason
    assert result == {"batchItemFailures": []}
    assert ours.requests == []
    [dead] = pipeline.dead_letters()
    assert dlq_attributes(dead)["failure_reason"] == reason


def test_a_stale_event_can_be_sent_without_time_by_setting(aws_env: None, ours: LocalOurs) -> None:
    with mock_aws():
        # Given the documented setting STALE_EVENT_POLICY=send_without_time
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="s", SecretString=json.dumps({"ours_token": TOKEN}))
        queues = make_queues(boto3.client("sqs", region_name="us-east-1"))
        pipeline = Pipeline(queues, ours, "s", STALE_EVENT_POLICY="send_without_time")
        pipeline.send(stripe_event(created=NOW - 8 * 86400))
        # When it is forwarded
        pipeline.poll()
        # Then Ours gets it without `time` (Ours stamps it on arrival)
        [event] = ours.accepted
        assert "time" not in event


def test_unknown_sources_and_foreign_messages_are_dead_lettered(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given a message that is no envelope, and an envelope naming a source that is not registered
    sqs, url = pipeline.queues.sqs, pipeline.queues.queue_url
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    envelope = {
        "version": 1,
        "source": "gone",
        "webhook_id": "x1",
        "received_at": "2026-11-18T10:00:00Z",
        "body": "{}",
    }
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(envelope))
    # When they are forwarded
    pipeline.poll()
    # Then both are in the DLQ with their reasons
    reasons = sorted(dlq_attributes(m)["failure_reason"] for m in pipeline.dead_letters())
    assert reasons == ["invalid_envelope", "unknown_source"]


def test_a_message_that_keeps_failing_is_redriven_by_max_receive_count(aws_env: None, ours: LocalOurs) -> None:
    with mock_aws():
        # Given a queue with maxReceiveCount 3 and a forwarder that would keep retrying (a crash, say)
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="s", SecretString=json.dumps({"ours_token": TOKEN}))
        queues = make_queues(boto3.client("sqs", region_name="us-east-1"), max_receive_count=3)
        pipeline = Pipeline(queues, ours, "s", MAX_RECEIVE_COUNT=100, OUTAGE_BUDGET_SECONDS=3600)
        pipeline.send(stripe_event())
        ours.inject(Fault(kind="status", status=503))
        # When it fails three receives in a row
        for _ in range(4):
            pipeline.poll()
            make_visible()
        # Then SQS moved it to the DLQ, and it was never delivered
        assert queues.count() == 0
        assert len(pipeline.dead_letters()) == 1
        assert ours.accepted == []


def test_the_last_allowed_receive_dead_letters_with_the_retry_reason(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given Ours down for longer than MAX_RECEIVE_COUNT (3 here) attempts
    pipeline.forwarder = Forwarder(
        Settings(
            QUEUE_URL=pipeline.queues.queue_url,
            DLQ_URL=pipeline.queues.dlq_url,
            SECRET_ID="webhook-translator",
            MAX_RECEIVE_COUNT=3,
            OUTAGE_BUDGET_SECONDS=1800,
        ),
        OursClient(ours.url, pipeline.store),
        sqs=pipeline.queues.sqs,
        clock=lambda: NOW + 5,
    )
    pipeline.send(stripe_event())
    ours.inject(Fault(kind="status", status=503))
    # When it is received three times
    for _ in range(3):
        pipeline.poll()
        make_visible()
    # Then the forwarder itself dead-lettered it, recording why and how often it was tried
    [dead] = pipeline.dead_letters()
    attributes = dlq_attributes(dead)
    assert (attributes["failure_reason"], attributes["attempts"]) == ("ours_unavailable", "3")
    assert pipeline.queues.count() == 0


def test_a_rotated_ours_token_is_re_read_once_on_401(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given the forwarder has cached the current token, then the secret is rotated and Ours accepts only the new one
    pipeline.send(stripe_event(id="evt_before"))
    pipeline.poll()
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    sm.put_secret_value(SecretId="webhook-translator", SecretString=json.dumps({"ours_token": ROTATED}))
    ours.tokens = {ROTATED}
    pipeline.send(stripe_event(id="evt_after"))
    # When the next webhook is forwarded
    result = pipeline.poll()
    # Then Ours's 401 made the forwarder re-read the secret once, and the event was delivered
    assert result == {"batchItemFailures": []}
    assert ours.deliveries("stripe:evt_after") == 1
    assert pipeline.dead_letters() == []


def test_a_token_ours_keeps_refusing_is_dead_lettered_as_auth(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given Ours refusing every token (a revoked token, not rotated in the secret), and no grace period
    ours.tokens = {"something-else-entirely"}
    config = pipeline.config.model_copy(update={"auth_grace_seconds": 0})
    pipeline.forwarder = Forwarder(
        config, OursClient(ours.url, pipeline.store), sqs=pipeline.queues.sqs, clock=lambda: NOW + 5
    )
    pipeline.send(stripe_event())
    # When it is forwarded
    result = pipeline.poll()
    # Then there is no hot loop: one re-read, then the DLQ with reason auth
    assert result == {"batchItemFailures": []}
    [dead] = pipeline.dead_letters()
    assert dlq_attributes(dead)["failure_reason"] == "auth"
    assert len([r for r in ours.requests if r.path.endswith("/track")]) == 2


class BrokenTokens:
    """A secret store whose secret cannot be read (deleted, throttled, no permission)."""

    def ours_token(self, source: str, *, force: bool = False) -> str:
        from webhook_translator.errors import ConfigurationError

        raise ConfigurationError("the secret 'wt' could not be read (ResourceNotFoundException)")


class GoodTokens:
    def ours_token(self, source: str, *, force: bool = False) -> str:
        return TOKEN


class ExplodingClient(OursClient):
    def track(self, event: Any, *, source: str, attempt: int = 1) -> None:
        raise KeyError("jane.doe@example.com")


@pytest.mark.parametrize(
    ("client", "reason"),
    [
        (lambda url: OursClient(url, BrokenTokens()), "configuration"),
        (lambda url: ExplodingClient(url, GoodTokens()), "internal_error"),
    ],
    ids=["unreadable secret", "unexpected error"],
)
def test_infrastructure_failures_are_retried_then_dead_lettered_never_crash_the_batch(
    pipeline: Pipeline, ours: LocalOurs, client: Any, reason: str
) -> None:
    # Given a forwarder that cannot read its secret (or hits a bug), with 2 receives allowed
    config = Settings(
        QUEUE_URL=pipeline.queues.queue_url,
        DLQ_URL=pipeline.queues.dlq_url,
        MAX_RECEIVE_COUNT=2,
        OUTAGE_BUDGET_SECONDS=1200,
    )
    pipeline.forwarder = Forwarder(config, client(ours.url), sqs=pipeline.queues.sqs, clock=lambda: NOW + 5)
    pipeline.send(stripe_event())
    # When the batch is handled twice
    first = pipeline.poll()
    make_visible()
    second = pipeline.poll()
    # Then the first receive leaves it for a retry, the last one dead-letters it with the reason
    assert len(first["batchItemFailures"]) == 1
    assert second == {"batchItemFailures": []}
    [dead] = pipeline.dead_letters()
    attributes = dlq_attributes(dead)
    assert attributes["failure_reason"] == reason
    assert "jane" not in json.dumps(attributes)


def test_no_retry_is_planned_past_the_outage_budget_or_the_queue_retention(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given a message that has been on the queue longer than its outage budget, almost as long as the queue keeps it
    config = Settings(
        QUEUE_URL=pipeline.queues.queue_url,
        DLQ_URL=pipeline.queues.dlq_url,
        QUEUE_RETENTION_SECONDS=3600,
        OUTAGE_BUDGET_SECONDS=1800,
    )
    pipeline.send(stripe_event(created=int(time.time())))
    later = time.time() + 3600 - 300  # 55 minutes after it was sent
    pipeline.forwarder = Forwarder(
        config, OursClient(ours.url, pipeline.store), sqs=pipeline.queues.sqs, clock=lambda: later
    )
    ours.inject(Fault(kind="status", status=503))
    # When Ours fails once more
    result = pipeline.poll()
    # Then it is dead-lettered now, with its reason, instead of being left for SQS to drop
    assert result == {"batchItemFailures": []}
    [dead] = pipeline.dead_letters()
    assert dlq_attributes(dead)["failure_reason"] == "ours_unavailable"


def test_a_bad_translator_config_stops_the_forwarder_at_start(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given a configuration with a misspelt source and a misspelt option
    config = Settings(
        DLQ_URL=pipeline.queues.dlq_url,
        TRANSLATOR_CONFIG='{"sources": {"strpe": {}, "stripe": {"options": {"external_id_metadata": "u"}}}}',
    )
    # Then the forwarder refuses to start, naming both (rather than dead-lettering every webhook)
    with pytest.raises(RuntimeError) as caught:
        Forwarder(config, OursClient(ours.url, pipeline.store), sqs=pipeline.queues.sqs)
    assert "sources.strpe: unknown source" in str(caught.value)
    assert "sources.stripe.options: invalid (external_id_metadata)" in str(caught.value)


def test_dlq_attributes_are_printable_and_bounded(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given an event whose type is long and holds control characters, and Ours refusing it
    body = stripe_event(type="checkout.session.completed")
    pipeline.send(body)
    ours.inject(Fault(kind="status", status=400, error="bad\u0000thing " + "y" * 1000))
    pipeline.poll()
    [dead] = pipeline.dead_letters()
    for value in dlq_attributes(dead).values():
        assert value.isprintable()
        assert len(value) <= 256


def test_no_ours_call_starts_without_the_time_to_finish_it(pipeline: Pipeline, ours: LocalOurs) -> None:
    # Given an invocation with 3 s left (the client needs its connect + read timeouts, plus a margin)
    pipeline.send(stripe_event())
    # When the forwarder handles the batch
    messages, result = poll_once(pipeline.queues, lambda event: pipeline.forwarder.handle(event, lambda: 3_000))
    # Then nothing was sent; the record is left for a quick retry instead of risking a timed-out batch
    assert ours.requests == []
    assert [f["itemIdentifier"] for f in result["batchItemFailures"]] == [messages[0]["MessageId"]]
    assert pipeline.dead_letters() == []


def test_a_2xx_with_success_false_is_delivered_but_logged(
    pipeline: Pipeline, ours: LocalOurs, caplog: pytest.LogCaptureFixture
) -> None:
    # Given Ours answering 200 {"success": false}
    ours.inject(Fault(kind="status", status=200, error="odd"))
    pipeline.send(stripe_event())
    # When it is forwarded
    result = pipeline.poll()
    # Then it counts as delivered (Ours took it) and an operator is told
    assert result == {"batchItemFailures": []}
    assert "success=false" in caplog.text
