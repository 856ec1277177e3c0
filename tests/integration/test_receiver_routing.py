"""Which source a request is for: the route's ``{source}`` exactly, ``rawPath`` when an event lacks it,
and only the sources ``ENABLED_SOURCES`` names when it is set — through the receiver, against moto's SQS.
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
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets

NOW = 1_795_000_000
SECRET = "whsec_routing_0123456789abcdef"


@pytest.fixture
def queues(aws_env: None) -> Iterator[Queues]:
    with mock_aws():
        yield make_queues(boto3.client("sqs", region_name="us-east-1"))


def receiver(queues: Queues, document: dict[str, Any] | None = None, **env: str) -> Receiver:
    document = document or {"ours_token": "t", "sources": {"stripe": {"signing_secrets": [SECRET]}}}
    return Receiver(
        Settings.from_env({"QUEUE_URL": queues.queue_url, **env}),
        StaticSecrets(document),
        sqs=queues.sqs,
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )


def stripe_webhook() -> tuple[str, dict[str, str]]:
    body = sample_body(sample("stripe/checkout-session-completed.json")).decode()
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET, NOW)
    return body, {"Content-Type": "application/json", "Stripe-Signature": header}


def answer(response: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return response["statusCode"], json.loads(response["body"])


def sam_generated_event(path: str, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """The shape of `sam local generate-event apigateway http-api-proxy --path PATH`: route ``$default``,
    ``rawPath`` "/PATH", and its placeholder ``pathParameters`` (no ``source``)."""
    event = http_event("stripe", body, headers)
    event.update(routeKey="$default", rawPath=f"/{path}", pathParameters={"parameter1": "value1"})
    event["requestContext"].update(routeKey="$default")
    event["requestContext"]["http"]["path"] = f"/{path}"
    return event


def test_an_event_without_the_source_parameter_takes_it_from_raw_path(queues: Queues) -> None:
    # Given a genuine Stripe webhook in a `sam local generate-event … --path webhooks/stripe` event
    body, headers = stripe_webhook()
    event = sam_generated_event("webhooks/stripe", body, headers)
    # When the receiver handles it
    status, payload = answer(receiver(queues).handle(event))
    # Then it is the stripe source's: verified and queued
    assert (status, payload) == (200, {"received": True, "id": "evt_1SampleCheckoutCompleted"})
    assert queues.count() == 1


@pytest.mark.parametrize("path", ["webhooks/stripe/extra", "hooks/stripe", "webhooks/"])
def test_a_raw_path_that_is_no_webhook_route_is_still_not_found(queues: Queues, path: str) -> None:
    body, headers = stripe_webhook()
    status, _ = answer(receiver(queues).handle(sam_generated_event(path, body, headers)))
    assert status == 404
    assert queues.count() == 0


@pytest.mark.parametrize(
    "name", ["stripe ", " stripe", "stripe\t", "Stripe"], ids=["trailing", "leading", "tab", "case"]
)
def test_a_source_name_is_matched_exactly(queues: Queues, name: str) -> None:
    # Given a genuine Stripe webhook posted to /webhooks/stripe%20 (API Gateway decodes the parameter)
    body, headers = stripe_webhook()
    event = http_event("stripe", body, headers)
    event["pathParameters"] = {"source": name}
    # When the receiver handles it / Then it is an unknown source, nothing queued
    status, payload = answer(receiver(queues).handle(event))
    assert status == 404
    assert "unknown source" in payload["error"]
    assert queues.count() == 0


def test_the_raw_path_fallback_is_exact_too(queues: Queues) -> None:
    body, headers = stripe_webhook()
    status, _ = answer(receiver(queues).handle(sam_generated_event("webhooks/stripe%20", body, headers)))
    assert status == 404
    assert queues.count() == 0


# --- ENABLED_SOURCES -------------------------------------------------------------------------------


def test_by_default_a_registered_source_without_a_secret_answers_503(queues: Queues) -> None:
    # Given no ENABLED_SOURCES, and a secret document without typeform
    # When typeform is probed / Then it is a configuration gap: 503 (the provider would retry)
    event = http_event("typeform", "{}", {"Content-Type": "application/json"})
    status, _ = answer(receiver(queues).handle(event))
    assert status == 503


@pytest.mark.parametrize("enabled", ["stripe", "stripe,tally", " stripe , tally "])
def test_a_source_left_out_of_enabled_sources_answers_404_without_reading_the_secret(
    queues: Queues, enabled: str
) -> None:
    # Given ENABLED_SOURCES naming stripe, and a secret that must not be read for anything else
    reads: list[str] = []

    class CountingSecrets(StaticSecrets):
        def signing_secrets(self, source: str) -> list[str]:
            reads.append(source)
            return super().signing_secrets(source)

    handler = Receiver(
        Settings.from_env({"QUEUE_URL": queues.queue_url, "ENABLED_SOURCES": enabled}),
        CountingSecrets({"ours_token": "t", "sources": {"stripe": {"signing_secrets": [SECRET]}}}),
        sqs=queues.sqs,
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )
    # When a scanner probes typeform (registered, no secret)
    status, payload = answer(handler.handle(http_event("typeform", "{}", {"Content-Type": "application/json"})))
    # Then it answers 404 unknown source (no 5xx for the alarm), the secret unread, nothing queued
    assert status == 404
    assert "unknown source 'typeform'" in payload["error"]
    assert "typeform" not in payload["error"].split("known:")[1]
    assert reads == []
    # and stripe still works
    body, headers = stripe_webhook()
    assert answer(handler.handle(http_event("stripe", body, headers)))[0] == 200
    assert queues.count() == 1


def test_an_enabled_source_without_a_secret_still_answers_503(queues: Queues) -> None:
    handler = receiver(queues, {"ours_token": "t", "sources": {}}, ENABLED_SOURCES="stripe")
    body, headers = stripe_webhook()
    assert answer(handler.handle(http_event("stripe", body, headers)))[0] == 503


def test_enabled_sources_naming_no_source_fails_the_init_in_one_line(queues: Queues) -> None:
    with pytest.raises(RuntimeError, match=r"^ENABLED_SOURCES names no registered source: strpie; known: ") as info:
        receiver(queues, ENABLED_SOURCES="stripe,strpie")
    assert "\n" not in str(info.value)
