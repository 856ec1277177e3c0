"""End to end through ``webhook-translator serve``: HubSpot (a v2 workflow delivery signed by
``hubspot-api-client`` over the URL as posted, and a v3 batch with a bad item among good ones),
CallRail, Cal.com and Zoom's URL-validation challenge — posted over HTTP like the providers do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hubspot.utils.signature import Signature
from test_serve import EVENTS, Serve, eventually, secret, start_serve, stop, wait_until_ready

from webhook_translator_tools.local.samples import Sample

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[Serve]:
    serve = start_serve()
    try:
        wait_until_ready(serve)
        yield serve
    finally:
        stop(serve)


def url(stack: Serve, source: str) -> str:
    return f"{stack.url}/webhooks/{source}"


def body_of(name: str) -> Any:
    return Sample.load(EVENTS / name).retimed(time.time()).body


def dlq_row(stack: Serve, webhook_id: str) -> dict[str, Any] | None:
    result = stack.cli("dlq", "list", "--json")
    assert result.returncode == 0, result.stderr
    rows = [row for row in json.loads(result.stdout) if row["webhook_id"] == webhook_id]
    return rows[0] if rows else None


# --- HubSpot ---------------------------------------------------------------------------------------


def test_a_hubspot_workflow_delivery_signed_v2_over_the_posted_url_reaches_ours(stack: Serve) -> None:
    # Given a contact record, signed v2 by hubspot-api-client over the exact URL it is posted to
    record = body_of("hubspot/workflow_contact_lead.json")
    record["vid"] = object_id = int(uuid.uuid4().int % 10**9)
    body = json.dumps(record)
    target = url(stack, "hubspot")
    signature = Signature.get_signature(secret("hubspot"), body, "v2", http_uri=target, http_method="POST")
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature": signature,
        "X-HubSpot-Signature-Version": "v2",
    }

    # When HubSpot posts it
    answer = requests.post(target, data=body.encode(), headers=headers, timeout=10)

    # Then it is queued under the object id and a body hash, and Ours gets one Lead Created
    assert answer.status_code == 200, answer.text
    webhook_id = answer.json()["id"]
    assert webhook_id == f"{object_id}:{hashlib.sha256(body.encode()).hexdigest()[:16]}"
    eventually(lambda: stack.deliveries(f"hubspot:{webhook_id}") == 1)
    [event] = [row for row in stack.accepted() if row["distinctId"] == f"hubspot:{webhook_id}"]
    assert (event["event"], event["email"]) == ("Lead Created", "morgan.lee@example.com")


def test_a_hubspot_v2_signature_over_another_url_is_refused(stack: Serve) -> None:
    body = json.dumps(body_of("hubspot/workflow_contact_lead.json"))
    other = "https://hooks.example.com/webhooks/hubspot"
    signature = Signature.get_signature(secret("hubspot"), body, "v2", http_uri=other, http_method="POST")
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature": signature,
        "X-HubSpot-Signature-Version": "v2",
    }
    answer = requests.post(url(stack, "hubspot"), data=body.encode(), headers=headers, timeout=10)
    assert answer.status_code == 401
    assert signature not in answer.text


def test_a_hubspot_batch_delivers_its_good_events_and_dead_letters_the_bad_one(stack: Serve) -> None:
    # Given a v3-signed batch: two good subscription events and, between them, one without an objectId
    events = body_of("hubspot/subscription_batch.json")[:2]
    base = uuid.uuid4().int % 10**12
    events[0]["eventId"], events[1]["eventId"] = base, base + 1
    bad = {"eventId": base + 2, "subscriptionType": "contact.creation", "occurredAt": events[0]["occurredAt"]}
    body = json.dumps([events[0], bad, events[1]])
    target = url(stack, "hubspot")
    ts = str(int(time.time() * 1000))
    signature = Signature.get_signature(secret("hubspot"), body, "v3", http_uri=target, timestamp=ts)
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature,
        "X-HubSpot-Request-Timestamp": ts,
    }

    # When HubSpot posts it
    answer = requests.post(target, data=body.encode(), headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    webhook_id = answer.json()["id"]

    # Then both good events reach Ours, each once, under its own eventId
    eventually(lambda: stack.deliveries(f"hubspot:{base}") == 1 and stack.deliveries(f"hubspot:{base + 1}") == 1)
    # And the webhook waits in the DLQ with the bad item's reason, for a redrive after a fix
    row = eventually(lambda: dlq_row(stack, webhook_id))
    assert (row["source"], row["reason"], row["attempts"]) == ("hubspot", "invalid_payload", 1)
    assert stack.deliveries(f"hubspot:{base + 2}") == 0


# --- CallRail and Cal.com --------------------------------------------------------------------------


def test_a_callrail_post_call_webhook_reaches_ours_with_the_callers_phone_only(stack: Serve) -> None:
    call = body_of("callrail/post_call_answered.json")
    call["resource_id"] = call_id = f"CAL{uuid.uuid4().hex}"
    body = json.dumps(call).encode()
    signature = base64.b64encode(hmac.new(secret("callrail").encode(), body, hashlib.sha1).digest()).decode()
    answer = requests.post(
        url(stack, "callrail"),
        data=body,
        headers={"Content-Type": "application/json", "Signature": signature},
        timeout=10,
    )
    assert (answer.status_code, answer.json().get("id")) == (200, call_id)
    eventually(lambda: stack.deliveries(f"callrail:{call_id}") == 1)
    [event] = [row for row in stack.accepted() if row["distinctId"] == f"callrail:{call_id}"]
    assert event["event"] == "Call Completed"
    assert event["userProperties"]["phone_number"] == "+14045550147"
    assert "transcription" not in json.dumps(event)
    assert "recording" not in json.dumps(event)


def test_a_calcom_booking_reaches_ours_and_no_secret_provided_is_refused(stack: Serve) -> None:
    booking = body_of("calcom/booking_created.json")
    booking["payload"]["uid"] = uid = uuid.uuid4().hex
    body = json.dumps(booking).encode()
    signature = hmac.new(secret("calcom").encode(), body, hashlib.sha256).hexdigest()
    answer = requests.post(
        url(stack, "calcom"),
        data=body,
        headers={"Content-Type": "application/json", "X-Cal-Signature-256": signature},
        timeout=10,
    )
    assert (answer.status_code, answer.json().get("id")) == (200, f"BOOKING_CREATED:{uid}")
    eventually(lambda: stack.deliveries(f"calcom:BOOKING_CREATED:{uid}") == 1)

    refused = requests.post(
        url(stack, "calcom"),
        data=body,
        headers={"Content-Type": "application/json", "X-Cal-Signature-256": "no-secret-provided"},
        timeout=10,
    )
    assert refused.status_code == 401
    assert "no-secret-provided" in refused.json()["error"]


# --- Zoom ------------------------------------------------------------------------------------------


def test_zooms_url_validation_is_answered_at_once_and_nothing_reaches_ours(stack: Serve) -> None:
    # Given Zoom's signed endpoint.url_validation (sent on save and every 72 hours)
    plain = uuid.uuid4().hex
    body = json.dumps(
        {"payload": {"plainToken": plain}, "event_ts": int(time.time() * 1000), "event": "endpoint.url_validation"}
    )
    ts = str(int(time.time()))
    key = secret("zoom").encode()
    headers = {
        "Content-Type": "application/json",
        "x-zm-request-timestamp": ts,
        "x-zm-signature": "v0=" + hmac.new(key, f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest(),
    }
    before = len(stack.accepted())

    # When it is posted (twice: the re-validation is the same exchange)
    answers = [requests.post(url(stack, "zoom"), data=body.encode(), headers=headers, timeout=10) for _ in range(2)]

    # Then each is answered with the plain token and its HMAC, and nothing is queued for Ours
    expected = {"plainToken": plain, "encryptedToken": hmac.new(key, plain.encode(), hashlib.sha256).hexdigest()}
    assert [(a.status_code, a.json()) for a in answers] == [(200, expected), (200, expected)]
    stack.wait_for_line(r"zoom → handshake answered", timeout=5)
    time.sleep(1.0)
    assert len(stack.accepted()) == before

    # And an unsigned challenge gets no answer
    unsigned = requests.post(
        url(stack, "zoom"), data=body.encode(), headers={"Content-Type": "application/json"}, timeout=10
    )
    assert unsigned.status_code == 401
    assert "encryptedToken" not in unsigned.text
