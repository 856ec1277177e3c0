"""Every signature reason code through the receiver: in the answer, the log line and the metrics.

``body_modified``: the providers' own libraries (``stripe``, ``standardwebhooks``) sign a body,
then the body is rewritten the way proxies do (re-serialised JSON, CRLF/LF, an extra base64 layer)
before it reaches the receiver. No answer, log line or metric holds a computed signature, a
secret or any part of the body.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import stripe
from moto import mock_aws
from standardwebhooks.webhooks import Webhook

from support.apigw import http_event
from support.aws import Queues, make_queues
from webhook_translator import observability
from webhook_translator.config import Settings
from webhook_translator.errors import SIGNATURE_REASONS
from webhook_translator.observability import SERVICE, logger, metrics
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets

NOW = 1_795_000_000
STRIPE_SECRET = "whsec_stripe_reason_test_0123456789"
SW_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-reason-test-32").decode()
TYPEFORM_SECRET = "typeform-reason-test-secret"
JOTFORM_TOKEN = "jotform-reason-test-token-0123456789"
EMAIL = "jenny.rosen@example.com"
#: a Stripe event as Stripe sends it (indented by 2, https://docs.stripe.com/api/events/object)
STRIPE_EVENT = {
    "id": "evt_1ReasonTest",
    "object": "event",
    "type": "checkout.session.completed",
    "created": NOW,
    "data": {"object": {"id": "cs_test_1", "object": "checkout.session", "customer_details": {"email": EMAIL}}},
}
STRIPE_BODY = json.dumps(STRIPE_EVENT, indent=2)
SW_BODY = json.dumps({"type": "Lead Created", "data": {"email": EMAIL, "properties": {"plan": "pro"}}})


@pytest.fixture
def queues(aws_env: None) -> Iterator[Queues]:
    with mock_aws():
        yield make_queues(boto3.client("sqs", region_name="us-east-1"))


@pytest.fixture
def receiver(queues: Queues) -> Receiver:
    document = {
        "ours_token": "t",
        "sources": {
            "stripe": {"signing_secrets": [STRIPE_SECRET]},
            "standard-webhooks": {"signing_secrets": [SW_SECRET]},
            "typeform": {"signing_secrets": [TYPEFORM_SECRET]},
            "jotform": {"signing_secrets": [JOTFORM_TOKEN]},
        },
    }
    metrics.documents()  # forget what earlier tests recorded
    return Receiver(
        Settings(QUEUE_URL=queues.queue_url),
        StaticSecrets(document),
        sqs=queues.sqs,
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )


def stripe_headers(body: str, *, timestamp: int = NOW, secret: str = STRIPE_SECRET) -> dict[str, str]:
    header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp)
    return {"Content-Type": "application/json", "Stripe-Signature": header}


def sw_headers(body: str, *, prefix: str = "webhook", secret: str = SW_SECRET) -> dict[str, str]:
    signature = Webhook(secret).sign("msg_reason_1", datetime.fromtimestamp(NOW, UTC), body)
    return {
        "Content-Type": "application/json",
        f"{prefix}-id": "msg_reason_1",
        f"{prefix}-timestamp": str(NOW),
        f"{prefix}-signature": signature,
    }


def typeform_headers(body: str) -> dict[str, str]:
    digest = hmac.new(TYPEFORM_SECRET.encode(), body.encode(), hashlib.sha256).digest()
    return {"Content-Type": "application/json", "Typeform-Signature": "sha256=" + base64.b64encode(digest).decode()}


def reindented(body: str, **layout: Any) -> str:
    return json.dumps(json.loads(body), **layout)


TYPEFORM_BODY = json.dumps({"event_id": "01J", "event_type": "form_response", "form_response": {"token": "tok-1"}})

Case = tuple[str, Callable[[], dict[str, Any]], str]


def cases() -> list[Any]:
    sb, wb, tb = STRIPE_BODY, SW_BODY, TYPEFORM_BODY
    rows: list[Case] = [
        (
            "stripe: no header",
            lambda: http_event("stripe", sb, {"Content-Type": "application/json"}),
            "missing_signature",
        ),
        (
            "standard-webhooks: no webhook-id",
            lambda: http_event("standard-webhooks", wb, {k: v for k, v in sw_headers(wb).items() if k != "webhook-id"}),
            "missing_signature",
        ),
        ("jotform: no token", lambda: http_event("jotform", "a=1", {"Content-Type": URLENC}), "missing_signature"),
        (
            "stripe: garbage header",
            lambda: http_event("stripe", sb, {"Content-Type": "application/json", "Stripe-Signature": "garbage"}),
            "malformed_signature",
        ),
        (
            "typeform: no sha256= prefix",
            lambda: http_event("typeform", tb, {"Content-Type": "application/json", "Typeform-Signature": "abc"}),
            "malformed_signature",
        ),
        ("stripe: stale", lambda: http_event("stripe", sb, stripe_headers(sb, timestamp=NOW - 301)), "stale_timestamp"),
        (
            "stripe: ahead of the clock",
            lambda: http_event("stripe", sb, stripe_headers(sb, timestamp=NOW + 301)),
            "future_timestamp",
        ),
        (
            "stripe: another secret",
            lambda: http_event("stripe", sb, stripe_headers(sb, secret="whsec_other")),
            "no_matching_secret",
        ),
        (
            "stripe: body tampered",
            lambda: http_event("stripe", sb.replace("cs_test_1", "cs_test_2"), stripe_headers(sb)),
            "no_matching_secret",
        ),
        (
            "jotform: wrong token",
            lambda: http_event("jotform", "a=1", {"Content-Type": URLENC}, query="key=wrong"),
            "no_matching_secret",
        ),
        # --- body_modified: signed by the provider's library, rewritten on the way
        (
            "stripe: JSON compacted by a proxy",
            lambda: http_event("stripe", reindented(sb, separators=(",", ":")), stripe_headers(sb)),
            "body_modified",
        ),
        (
            "stripe: CRLF line endings",
            lambda: http_event("stripe", sb.replace("\n", "\r\n"), stripe_headers(sb)),
            "body_modified",
        ),
        (
            "stripe: an extra base64 layer",
            lambda: http_event("stripe", base64.b64encode(sb.encode()).decode(), stripe_headers(sb)),
            "body_modified",
        ),
        (
            "standard-webhooks: JSON indented by a proxy",
            lambda: http_event("standard-webhooks", reindented(wb, indent=2), sw_headers(wb)),
            "body_modified",
        ),
        (
            "svix headers: JSON indented by a proxy",
            lambda: http_event("standard-webhooks", reindented(wb, indent=4), sw_headers(wb, prefix="svix")),
            "body_modified",
        ),
        (
            "typeform: JSON compacted by a proxy",
            lambda: http_event("typeform", reindented(tb, separators=(",", ":")), typeform_headers(tb)),
            "body_modified",
        ),
    ]
    return [pytest.param(make, code, id=name) for name, make, code in rows]


URLENC = "application/x-www-form-urlencoded"


def handled(receiver: Receiver, event: dict[str, Any], caplog: pytest.LogCaptureFixture) -> tuple[int, Any, str]:
    """(status, answer, the JSON log lines the receiver wrote, formatted as Powertools writes them)."""
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger=SERVICE)
    response = receiver.handle(event)
    lines = "\n".join(logger.registered_formatter.format(record) for record in caplog.records)
    return response["statusCode"], json.loads(response["body"]), lines


def secrets_and_signatures(event: dict[str, Any]) -> list[str]:
    """What must never be shown: the secrets, the signatures sent and the ones computed over the bodies."""
    headers = event["headers"]
    sent = [v for k, v in headers.items() if "signature" in k]
    tokens = [token for header in sent for token in header.replace(" ", ",").split(",")]
    pieces = [re.sub(r"^(v\d+=|sha256=)", "", token) for token in tokens]
    pieces = [piece for piece in pieces if len(piece) > 20]
    computed = [
        hmac.new(STRIPE_SECRET.encode(), f"{NOW}.{STRIPE_BODY}".encode(), hashlib.sha256).hexdigest(),
        base64.b64encode(hmac.new(TYPEFORM_SECRET.encode(), TYPEFORM_BODY.encode(), hashlib.sha256).digest()).decode(),
        Webhook(SW_SECRET).sign("msg_reason_1", datetime.fromtimestamp(NOW, UTC), SW_BODY).split(",", 1)[1],
    ]
    return [STRIPE_SECRET, SW_SECRET, TYPEFORM_SECRET, JOTFORM_TOKEN, *pieces, *computed]


@pytest.mark.parametrize(("make", "code"), cases())
def test_each_signature_failure_is_a_401_with_its_code_in_the_answer_the_log_and_the_metrics(
    receiver: Receiver, queues: Queues, caplog: pytest.LogCaptureFixture, make: Any, code: str
) -> None:
    # Given a delivery whose signature is missing, malformed, stale, wrong — or right for a rewritten body
    event = make()
    source = event["pathParameters"]["source"]
    # When the receiver handles it
    status, payload, out = handled(receiver, event, caplog)
    # Then it answers 401 {"error": <sentence>, "reason": <code>} and queues nothing
    assert status == 401
    assert set(payload) == {"error", "reason"}
    assert payload["reason"] == code
    assert queues.count() == 0
    # and the log line names the same code
    [line] = [json.loads(raw) for raw in out.splitlines() if '"webhook refused"' in raw]
    assert (line["source"], line["status"], line["reason"]) == (source, 401, code)
    # and it is counted by source and reason, and as a failed verification of that source
    documents = metrics.documents()
    assert counted(documents, observability.REFUSED) == {(source, code): 1}
    assert counted(documents, observability.VERIFICATION_FAILED) == {(source, None): 1}
    # and nothing shown holds a secret, a signature or the body
    shown = json.dumps(payload) + out + json.dumps(documents)
    for value in secrets_and_signatures(event):
        assert value not in shown
    for fragment in (EMAIL, "cs_test_1", "Lead Created", "tok-1", event["body"][:40]):
        assert fragment not in shown


def counted(documents: list[dict[str, Any]], name: str) -> dict[tuple[str, str | None], float]:
    totals: dict[tuple[str, str | None], float] = {}
    for doc in documents:
        if name in doc:
            key = (doc["Source"], doc.get("Reason"))
            totals[key] = totals.get(key, 0) + sum(doc[name])
    return totals


def test_the_codes_tested_are_all_the_signature_codes() -> None:
    assert {param.values[1] for param in cases()} == set(SIGNATURE_REASONS)


def test_a_genuine_webhook_is_counted_as_received_verified_and_queued(
    receiver: Receiver, queues: Queues, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a genuine Stripe delivery
    status, payload, _ = handled(receiver, http_event("stripe", STRIPE_BODY, stripe_headers(STRIPE_BODY)), caplog)
    # Then it is queued, and counted received, verified (0 failures) and queued for stripe
    assert (status, payload["id"]) == (200, "evt_1ReasonTest")
    documents = metrics.documents()
    assert counted(documents, observability.RECEIVED) == {("stripe", None): 1}
    assert counted(documents, observability.VERIFICATION_FAILED) == {("stripe", None): 0}
    assert counted(documents, observability.QUEUED) == {("stripe", None): 1}
    assert counted(documents, observability.REFUSED) == {}


def test_a_path_naming_no_registered_source_is_counted_under_a_bounded_dimension(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a scanner posting to a made-up source
    status, payload, _ = handled(
        receiver, http_event("wp-login.php", "{}", {"Content-Type": "application/json"}), caplog
    )
    # Then it is a 404 with its code, counted under Source "-" (never the path itself)
    assert (status, payload["reason"]) == (404, "unknown_source")
    documents = metrics.documents()
    assert counted(documents, observability.REFUSED) == {("-", "unknown_source"): 1}
    assert "wp-login" not in json.dumps(documents)
