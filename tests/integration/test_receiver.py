"""The receiver against moto's SQS: genuine Stripe webhooks are queued raw; the rest is refused, queuing nothing.

Signatures are made by the ``stripe`` library itself, the oracle for our verifier.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import stripe
from moto import mock_aws

from support.apigw import http_event, sample, sample_body
from support.aws import Queues, make_queues
from webhook_translator.config import Settings
from webhook_translator.envelope import Envelope
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets
from webhook_translator.sources.stripe import StripeSource

NOW = 1_795_000_000
OLD_SECRET = "whsec_old_0123456789abcdef"
NEW_SECRET = "whsec_new_fedcba9876543210"
HEADERS = {"Content-Type": "application/json", "User-Agent": "Stripe/1.0"}


@pytest.fixture
def queues(aws_env: None) -> Iterator[Queues]:
    with mock_aws():
        yield make_queues(boto3.client("sqs", region_name="us-east-1"))


def make_receiver(queues: Queues, *, secrets: list[str] | None = None, queue_url: str | None = None) -> Receiver:
    config = Settings(QUEUE_URL=queue_url or queues.queue_url, MAX_BODY_BYTES=4096)
    document = {"ours_token": "t", "sources": {"stripe": {"signing_secrets": secrets or [OLD_SECRET, NEW_SECRET]}}}
    return Receiver(config, StaticSecrets(document), sqs=queues.sqs, clock=lambda: datetime.fromtimestamp(NOW, UTC))


def stripe_body() -> str:
    return sample_body(sample("stripe/checkout-session-completed.json")).decode()


def signed(body: str, secret: str = NEW_SECRET, timestamp: int = NOW) -> dict[str, str]:
    return {**HEADERS, "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)}


def answer(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return response["statusCode"], json.loads(response["body"])


# --- accepted ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("secret", [OLD_SECRET, NEW_SECRET], ids=["old-secret", "new-secret"])
@pytest.mark.parametrize("base64_body", [False, True], ids=["text", "base64"])
def test_a_stripe_signed_webhook_is_queued_raw(queues: Queues, secret: str, base64_body: bool) -> None:
    # Given a body signed by the stripe library with either secret of a rotation
    body = stripe_body()
    event = http_event("stripe", body, signed(body, secret), base64_body=base64_body)
    # When the receiver handles it
    status, payload = answer(make_receiver(queues).handle(event))
    # Then it answers 200 with Stripe's event id, and the queue holds the exact bytes in an envelope
    assert (status, payload) == (200, {"received": True, "id": "evt_1SampleCheckoutCompleted"})
    [message] = queues.drain()
    envelope = Envelope.from_message(message["Body"])
    assert envelope.source == "stripe"
    assert envelope.webhook_id == "evt_1SampleCheckoutCompleted"
    assert envelope.raw_body == body.encode()
    assert envelope.content_type == "application/json"
    assert "stripe-signature" not in envelope.headers
    assert message["MessageAttributes"]["webhook_id"]["StringValue"] == "evt_1SampleCheckoutCompleted"
    # and the stripe library itself agrees the delivery was genuine
    stripe.WebhookSignature.verify_header(body, signed(body, secret)["Stripe-Signature"], secret, tolerance=None)


def test_any_v1_of_several_may_match_and_v0_is_ignored(queues: Queues) -> None:
    # Given a header with a v0, a wrong v1 and a right v1 (Stripe sends one v1 per active secret)
    body = stripe_body()
    good = signed(body)["Stripe-Signature"].split(",")[1]
    header = f"t={NOW},v0={'0' * 64},v1={'ab' * 32},{good}"
    # When it is received
    status, _ = answer(
        make_receiver(queues).handle(http_event("stripe", body, {**HEADERS, "Stripe-Signature": header}))
    )
    # Then it is accepted
    assert status == 200
    assert queues.count() == 1


def test_a_non_utf8_body_is_kept_as_base64(queues: Queues) -> None:
    # Given a signed JSON body holding a Latin-1 byte (not UTF-8)
    raw = b'{"id": "evt_latin1", "type": "customer.created", "created": 1, "data": {"object": {"name": "Jos\xe9"}}}'
    # (the stripe library signs text, not bytes: sign the exact bytes with our own scheme)
    header = StripeSource.scheme.sign(raw, NEW_SECRET, timestamp=str(NOW))
    event = http_event("stripe", raw, {**HEADERS, "Stripe-Signature": header}, base64_body=True)
    # When it is received
    status, _ = answer(make_receiver(queues).handle(event))
    # Then it is refused as malformed JSON (not UTF-8), and nothing is queued
    assert status == 400
    assert queues.count() == 0


# --- refused, nothing queued ---------------------------------------------------------------------------


def tampered(body: str) -> dict[str, Any]:
    return http_event("stripe", body.replace("4900", "1"), signed(body))


def refusals() -> list[tuple[str, Any, int, str]]:
    body = stripe_body()
    sig = signed(body)
    return [
        ("tampered body", lambda: tampered(body), 401, "signature does not match"),
        ("wrong secret", lambda: http_event("stripe", body, signed(body, "whsec_wrong")), 401, "does not match"),
        ("stale timestamp", lambda: http_event("stripe", body, signed(body, timestamp=NOW - 301)), 401, "s old"),
        ("future timestamp", lambda: http_event("stripe", body, signed(body, timestamp=NOW + 3600)), 401, "ahead of"),
        ("missing header", lambda: http_event("stripe", body, HEADERS), 401, "missing Stripe-Signature"),
        (
            "garbage header",
            lambda: http_event("stripe", body, {**HEADERS, "Stripe-Signature": "garbage"}),
            401,
            "malformed",
        ),
        (
            "no timestamp",
            lambda: http_event("stripe", body, {**HEADERS, "Stripe-Signature": "v1=" + "a" * 64}),
            401,
            "no timestamp",
        ),
        (
            "only v0",
            lambda: http_event("stripe", body, {**HEADERS, "Stripe-Signature": f"t={NOW},v0={'a' * 64}"}),
            401,
            "no v1 signature",
        ),
        (
            "non-hex v1",
            lambda: http_event("stripe", body, {**HEADERS, "Stripe-Signature": f"t={NOW},v1=zz"}),
            401,
            "no v1 signature",
        ),
        ("unknown source", lambda: http_event("nosuch", body, sig), 404, "unknown source"),
        ("oversize body", lambda: http_event("stripe", "x" * 5000, sig), 413, "limit is 4096"),
        (
            "non-JSON body",
            lambda: http_event("stripe", "not json", signed("not json")),
            400,
            "not valid JSON",
        ),
        ("JSON but not an event", lambda: http_event("stripe", "[1]", signed("[1]")), 400, "not a Stripe event"),
        (
            "event without id",
            lambda: http_event("stripe", '{"type": "x"}', signed('{"type": "x"}')),
            400,
            "missing id",
        ),
        (
            "missing content type",
            lambda: http_event("stripe", body, {"Stripe-Signature": sig["Stripe-Signature"]}),
            400,
            "missing Content-Type",
        ),
        (
            "unsupported content type",
            lambda: http_event("stripe", body, {**sig, "Content-Type": "text/plain"}),
            415,
            "text/plain",
        ),
        (
            "bad base64",
            lambda: {**http_event("stripe", body, sig), "isBase64Encoded": True, "body": "%%%"},
            400,
            "base64",
        ),
        ("GET", lambda: http_event("stripe", body, sig, method="GET"), 405, "POST"),
        (
            "no source",
            lambda: {**http_event("stripe", body, sig), "pathParameters": {}, "rawPath": "/webhooks/"},
            404,
            "no source",
        ),
    ]


#: the reason code each refusal answers with (DESIGN.md, "Refusals name a reason code")
CODES = {
    "tampered body": "no_matching_secret",
    "wrong secret": "no_matching_secret",
    "stale timestamp": "stale_timestamp",
    "future timestamp": "future_timestamp",
    "missing header": "missing_signature",
    "garbage header": "malformed_signature",
    "no timestamp": "malformed_signature",
    "only v0": "malformed_signature",
    "non-hex v1": "malformed_signature",
    "unknown source": "unknown_source",
    "oversize body": "payload_too_large",
    "non-JSON body": "bad_request",
    "JSON but not an event": "bad_request",
    "event without id": "bad_request",
    "missing content type": "bad_request",
    "unsupported content type": "unsupported_media_type",
    "bad base64": "bad_request",
    "GET": "method_not_allowed",
    "no source": "not_found",
}


@pytest.mark.parametrize(("case", "make", "status", "reason"), refusals(), ids=[r[0] for r in refusals()])
def test_bad_input_is_refused_with_its_reason_and_nothing_is_queued(
    queues: Queues, case: str, make: Any, status: int, reason: str
) -> None:
    # Given a delivery that is forged, stale, malformed or misaddressed
    event = make()
    # When the receiver handles it
    got, payload = answer(make_receiver(queues).handle(event))
    # Then it answers the status of DESIGN.md with a reason, never echoing a signature, and queues nothing
    assert got == status, payload
    assert reason in payload["error"]
    assert set(payload) == {"error", "reason"}
    assert payload["reason"] == CODES[case]
    expected = signed(stripe_body())["Stripe-Signature"].split("v1=")[1]
    assert expected not in json.dumps(payload)
    assert queues.count() == 0


def test_a_source_without_signing_secrets_answers_503(queues: Queues) -> None:
    # Given a deployment whose secret has no signing secret for stripe yet
    body = stripe_body()
    receiver = Receiver(
        Settings(QUEUE_URL=queues.queue_url),
        StaticSecrets({"ours_token": "t", "sources": {}}),
        sqs=queues.sqs,
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )
    # When a webhook arrives
    status, payload = answer(receiver.handle(http_event("stripe", body, signed(body))))
    # Then the provider is told to retry later (not 401: a genuine webhook must not be lost), nothing queued
    assert status == 503
    assert payload == {
        "error": "the receiver is not configured for this source yet; retry later",
        "reason": "configuration",
    }
    assert queues.count() == 0


def test_an_unavailable_queue_answers_503(queues: Queues) -> None:
    # Given the queue does not exist (deleted, wrong URL, SQS down)
    body = stripe_body()
    receiver = make_receiver(queues, queue_url=queues.queue_url + "-gone")
    # When a genuine webhook arrives
    status, payload = answer(receiver.handle(http_event("stripe", body, signed(body))))
    # Then it answers 503 so that Stripe retries, and nothing was acknowledged
    assert status == 503
    assert payload == {"error": "could not queue the webhook; retry later", "reason": "queue_unavailable"}
    assert queues.count() == 0


def test_an_unreadable_secret_answers_503_without_naming_it(queues: Queues) -> None:
    # Given a deployment whose secret does not exist
    from webhook_translator.secrets import SecretStore

    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:webhook-translator-AbCdEf"
    receiver = Receiver(
        Settings(QUEUE_URL=queues.queue_url),
        SecretStore(arn),
        sqs=queues.sqs,
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )
    body = stripe_body()
    # When anyone posts (signed or not)
    status, payload = answer(receiver.handle(http_event("stripe", body, signed(body))))
    # Then the answer is a retryable 503 that does not disclose the secret's name
    assert status == 503
    assert "arn:" not in payload["error"]
    assert "webhook-translator" not in payload["error"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (json.dumps({"id": "evt_" + "x" * 300, "type": "invoice.paid", "created": NOW}), "bad id"),
        (json.dumps({"id": "evt_\u0007bell", "type": "invoice.paid", "created": NOW}), "unprintable"),
        ("[" * 50_000 + "]" * 50_000, "nested too deeply"),
    ],
    ids=["id too long", "unprintable id", "deep nesting"],
)
def test_signed_but_unusable_bodies_are_a_400_not_a_crash(queues: Queues, body: str, reason: str) -> None:
    receiver = Receiver(
        Settings(QUEUE_URL=queues.queue_url, MAX_BODY_BYTES=184_320),
        StaticSecrets({"sources": {"stripe": {"signing_secrets": [NEW_SECRET]}}}),
        sqs=queues.sqs,
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )
    status, payload = answer(receiver.handle(http_event("stripe", body, signed(body))))
    assert status == 400
    assert reason in payload["error"]
    assert queues.count() == 0


def test_an_unexpected_error_answers_500_in_the_designed_shape(queues: Queues) -> None:
    # Given a source whose code fails in an unforeseen way
    class Broken(StripeSource):
        def webhook_id(self, request: Any) -> str:
            raise KeyError("jane@example.com")

    receiver = Receiver(
        Settings(QUEUE_URL=queues.queue_url),
        StaticSecrets({"sources": {"stripe": {"signing_secrets": [NEW_SECRET]}}}),
        sqs=queues.sqs,
        registry={"stripe": Broken()},
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )
    body = stripe_body()
    # Then the provider gets a 500 with an {"error"} body that says nothing of the input, and nothing is queued
    status, payload = answer(receiver.handle(http_event("stripe", body, signed(body))))
    assert (status, payload) == (500, {"error": "internal error; retry later", "reason": "internal_error"})
    assert queues.count() == 0
