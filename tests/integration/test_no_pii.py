"""No personal data or secrets in logs, metrics, answers or DLQ attributes — at any log level.

The whole path runs at DEBUG: genuine and forged webhooks, a mapping failure,
Ours refusing a payload (echoing the e-mail in its error text), a retry and a
token refusal. Every line written anywhere is then searched for the e-mail,
names, phone, token, signing secret and signature.

Then every sample in ``events/`` and every payload of the corpus (``tests/corpus/``)
goes the same way, signed as its provider signs it, half of them refused by Ours with
their e-mail quoted: no address, free text, phone, mapped identity value or signature
of any of them is written anywhere.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import stripe
from moto import mock_aws

import corpus
from support.apigw import http_event
from support.aws import Queues, make_queues, make_visible, poll_once
from webhook_translator.config import Settings
from webhook_translator.forwarder import Forwarder
from webhook_translator.observability import logger, metrics
from webhook_translator.ours.client import OursClient
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import SecretStore, StaticSecrets
from webhook_translator.sources.jotform import parse_form
from webhook_translator.sources.registry import REGISTRY
from webhook_translator_tools.local.ours_server import Fault, LocalOurs
from webhook_translator_tools.local.samples import Sample, is_sample, iter_samples
from webhook_translator_tools.local.stack import DEV_SECRETS

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
    metrics.documents()  # forget what earlier tests recorded
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
    emitted = json.dumps(metrics.documents())  # the EMF metric documents the handlers would print
    haystack = "\n".join([written.out, written.err, caplog.text, *answers, attributes, emitted])
    assert "webhook queued" in haystack  # the logs were captured
    assert "WebhooksDeadLettered" in emitted  # and the metrics
    assert "dead-lettered" in haystack
    for needle in [EMAIL, "secret.person", PHONE, "5125550199", FIRST, LAST, TOKEN, SIGNING, *signatures]:
        assert needle not in haystack, f"leaked: {needle[:6]}…"


# --- every sample in events/ and the whole corpus ---------------------------------------------------

EVENTS = Path(__file__).resolve().parents[2] / "events"
PERSONAL_KEYS = {"first_name", "last_name", "phone_number", "city", "state", "zip", "company_name", "date_of_birth"}
ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def every_payload() -> list[tuple[str, Sample, dict[str, Any]]]:
    """(name, sample, its source's TRANSLATOR_CONFIG entry) for each sample in events/ and each corpus payload."""
    found: list[tuple[str, Sample, dict[str, Any]]] = []
    for path in iter_samples(EVENTS):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            continue
        if is_sample(document):
            found.append((f"events/{path.parent.name}/{path.stem}", Sample.from_json(document, path), {}))
    for path in corpus.payload_paths():
        smp, config, _ = corpus.load(path)
        found.append((f"corpus/{path.parent.name}/{path.stem}", smp, config))
    return found


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
        with contextlib.suppress(ValueError):  # a JSON string inside (Jotform's rawRequest)
            yield from _strings(json.loads(node)) if node.lstrip().startswith("{") else ()
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _document(smp: Sample) -> Any:
    """The payload's values: its JSON (a body, or a body text that is JSON, as Stripe's pretty-printed
    events), else its form fields."""
    if not smp.is_text:
        return smp.body
    if "json" in smp.content_type:
        return json.loads(smp.raw_body())
    return parse_form(smp.content_type, smp.raw_body())


def personal_values(smp: Sample, bodies: list[dict[str, Any]], harmless: set[str]) -> set[str]:
    """What in a payload is personal: addresses, free text, phone numbers, and every identity value mapped."""
    leaves = list(_strings(_document(smp)))
    needles = {s.strip() for s in leaves if "@" in s or " " in s.strip() or s.strip().startswith("+")}
    for body in bodies:
        needles |= {body.get("email") or ""}
        people = body.get("userProperties") or {}
        needles |= {v for k, v in people.items() if k in PERSONAL_KEYS and isinstance(v, str)}
    return {
        n
        for n in needles
        if len(n) >= 4 and not ISO_TIME.match(n) and not any(n in h for h in harmless) and not n.startswith("http")
    }


def test_no_sample_and_no_corpus_payload_leaks_anything_personal(
    world: tuple[Queues, LocalOurs], capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    queues, ours = world
    caplog.set_level(logging.DEBUG, logger="webhook_translator")
    caplog.set_level(logging.DEBUG, logger="webhook-translator")
    logger.setLevel("DEBUG")
    # the development secrets serve uses: one per source, each in its provider's format
    secrets = json.loads(DEV_SECRETS.read_text(encoding="utf-8"))["sources"]
    receiver = Receiver(
        Settings(QUEUE_URL=queues.queue_url),
        StaticSecrets({"sources": secrets}),
        sqs=queues.sqs,
        clock=lambda: datetime.fromtimestamp(corpus.NOW_MS / 1000, UTC),
    )
    payloads = every_payload()
    needles: dict[str, set[str]] = {}
    written: list[str] = []
    try:
        for index, (name, smp, config) in enumerate(payloads):
            # Given each sample and corpus payload, signed as its provider signs it
            source = REGISTRY[smp.source]
            body = smp.raw_body()
            secret = secrets[smp.source]["signing_secrets"][0]
            signed = source.sign_headers(body, secret, now=corpus.NOW_MS / 1000)
            outcome = corpus.outcome_of(smp, config)
            bodies = outcome if isinstance(outcome, list) else []
            answer = receiver.handle(http_event(smp.source, body, {**smp.request_headers({}), **signed}))
            harmless = {json.loads(answer["body"]).get("id", ""), *source.events, *source.events.values()}
            harmless |= {b["event"] for b in bodies} | {b["distinctId"] for b in bodies}
            signatures = {v for k, v in signed.items() if k.lower() != "content-type" and v not in harmless}
            needles[name] = personal_values(smp, bodies, harmless) | signatures
            written.append(answer["body"])
            # …every other one refused by Ours with an error quoting its e-mail
            if index % 2 and bodies:
                ours.inject(Fault(kind="status", status=400, times=1, error=f"bad email {bodies[0].get('email')}"))
            # When the forwarder (with the payload's configuration, at DEBUG) takes it
            forwarder = Forwarder(
                Settings(
                    QUEUE_URL=queues.queue_url,
                    DLQ_URL=queues.dlq_url,
                    SECRET_ID="wt",
                    TRANSLATOR_CONFIG=json.dumps({"sources": {smp.source: config}}),
                ),
                OursClient(ours.url, SecretStore("wt"), connect_timeout=1, read_timeout=1),
                sqs=queues.sqs,
                clock=lambda: corpus.NOW_MS / 1000,
            )
            poll_once(queues, forwarder.handle)
            ours.clear_faults()
        dead = queues.drain(queues.dlq_url)
    finally:
        logger.setLevel("INFO")
    # Then the logs were written…
    out = capsys.readouterr()
    haystack = "\n".join([out.out, out.err, caplog.text, *written, json.dumps([m["MessageAttributes"] for m in dead])])
    assert haystack.count("webhook queued") >= len(payloads)
    assert dead  # no_identity payloads and Ours's refusals reached the DLQ
    # …and none of them, no answer and no DLQ attribute holds a payload's personal values or a signature
    leaks = sorted(name for name, found in needles.items() if any(n in haystack for n in found))
    assert not leaks, f"personal data written for: {leaks[:10]}"
    assert sum(len(found) for found in needles.values()) > 3 * len(payloads)  # the needles are real
