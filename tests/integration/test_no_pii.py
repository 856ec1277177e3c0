"""No personal data or secrets in logs, metrics, answers or DLQ attributes — at any log level.

The whole path runs at DEBUG: genuine and forged webhooks, a mapping failure,
Ours refusing a payload (echoing the e-mail in its error text), a retry and a
token refusal. Every line written anywhere is then searched for the e-mail,
names, phone, token, signing secret and signature.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import stripe
from moto import mock_aws

from support.apigw import http_event
from support.aws import Queues, make_queues, make_visible, poll_once
from webhook_translator.config import Settings
from webhook_translator.forwarder import Forwarder
from webhook_translator.observability import logger
from webhook_translator.ours.client import OursClient
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import SecretStore, StaticSecrets
from webhook_translator_tools.local.ours_server import Fault, LocalOurs

NOW = 1_795_000_000
SIGNING = "whsec_pii_check_secret_0123456789"
TOKEN = "ours-token-pii-check-0123456789"
EMAIL = "secret.person@example.org"
PHONE = "+15125550199"
FIRST, LAST = "Zebediah", "Quillfeather"


def webhook(event_id: str, **extra: Any) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "checkout.session.completed",
            "created": NOW - 60,
            "data": {
                "object": {
                    "id": "cs_1",
                    "object": "checkout.session",
                    "amount_total": 100,
                    "currency": "usd",
                    "customer_details": {"email": EMAIL, "name": f"{FIRST} {LAST}", "phone": PHONE},
                    **extra,
                }
            },
        }
    )


@pytest.fixture
def world(aws_env: None) -> Iterator[tuple[Queues, LocalOurs]]:
    with mock_aws(), LocalOurs(tokens={TOKEN}, clock=lambda: NOW) as ours:
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="wt", SecretString=json.dumps({"ours_token": TOKEN}))
        yield make_queues(boto3.client("sqs", region_name="us-east-1")), ours


def test_nothing_personal_or_secret_is_ever_written(
    world: tuple[Queues, LocalOurs], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    queues, ours = world
    # our loggers at DEBUG (botocore's own DEBUG output dumps request bodies: never enable it in production)
    caplog.set_level(logging.DEBUG, logger="webhook_translator")
    caplog.set_level(logging.DEBUG, logger="webhook-translator")
    logger.setLevel("DEBUG")
    try:
        receiver = Receiver(
            Settings(QUEUE_URL=queues.queue_url),
            StaticSecrets({"sources": {"stripe": {"signing_secrets": [SIGNING]}}}),
            sqs=queues.sqs,
            clock=lambda: datetime.fromtimestamp(NOW, UTC),
        )
        store = SecretStore("wt")
        forwarder = Forwarder(
            Settings(
                QUEUE_URL=queues.queue_url,
                DLQ_URL=queues.dlq_url,
                SECRET_ID="wt",
                MAX_RECEIVE_COUNT=5,
                OUTAGE_BUDGET_SECONDS=3000,
                AUTH_GRACE_SECONDS=0,
            ),
            OursClient(ours.url, store, connect_timeout=1, read_timeout=1),
            sqs=queues.sqs,
            clock=lambda: NOW,
        )
        answers: list[str] = []
        signatures: list[str] = []

        def post(body: str, secret: str = SIGNING) -> None:
            header = stripe.WebhookSignature.generate_signature_header(body, secret, NOW)
            signatures.append(header.split("v1=")[1])
            event = http_event("stripe", body, {"Content-Type": "application/json", "Stripe-Signature": header})
            answers.append(receiver.handle(event)["body"])

        # Given: a good webhook, a forged one, one Ours refuses (quoting the e-mail), one that fails then succeeds,
        # one without identity… and a token Ours refuses
        post(webhook("evt_ok"))
        post(webhook("evt_forged"), secret="whsec_attacker")
        post(webhook("evt_refused"))
        ours.inject(Fault(kind="status", status=400, distinct_id="stripe:evt_refused", error=f"bad email {EMAIL}"))
        post(webhook("evt_flaky"))
        ours.inject(Fault(kind="status", status=503, times=1, distinct_id="stripe:evt_flaky", error=f"down {PHONE}"))
        post(webhook("evt_anon", customer_details={"name": f"{FIRST} {LAST}"}))
        # When the forwarder runs until the queue is empty
        for _ in range(3):
            poll_once(queues, forwarder.handle)
            make_visible()
        ours.tokens = {"another-token-entirely-000"}
        post(webhook("evt_auth"))
        poll_once(queues, forwarder.handle)
        dead = queues.drain(queues.dlq_url)
    finally:
        logger.setLevel("INFO")

    # Then the pipeline did its work…
    assert ours.deliveries("stripe:evt_ok") == 1
    assert ours.deliveries("stripe:evt_flaky") == 1
    reasons = sorted(m["MessageAttributes"]["failure_reason"]["StringValue"] for m in dead)
    assert reasons == ["auth", "no_identity", "ours_rejected"]
    # …and no log line, answer or DLQ attribute holds anything personal or secret
    written = capsys.readouterr()
    attributes = json.dumps([m["MessageAttributes"] for m in dead])
    haystack = "\n".join([written.out, written.err, caplog.text, *answers, attributes])
    assert "webhook queued" in haystack  # the logs were captured
    assert "dead-lettered" in haystack
    for needle in [EMAIL, "secret.person", PHONE, "5125550199", FIRST, LAST, TOKEN, SIGNING, *signatures]:
        assert needle not in haystack, f"leaked: {needle[:6]}…"
