"""End to end, thin webhooks: ``serve`` runs the fetch sources with no network, against its local fakes of
the Graph API, Acuity, HubSpot's CRM API and Stripe's API (fault injection over their control endpoints);
Meta's GET handshake; ``--config`` pointing ``api_base_url`` elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from test_serve import DEV_SECRETS, Serve, eventually, start_serve, stop, wait_until_ready

pytestmark = pytest.mark.e2e

META = DEV_SECRETS["sources"]["facebook-leads"]
ACUITY = DEV_SECRETS["sources"]["acuity"]
LEADS = ("2120387161554301", "2120387161554302", "2120387161554303")


def fetch_url(serve: Serve, source: str) -> str:
    return serve.wait_for_line(rf"^\s+fetch\s+{source}\s+(http://\S+)").group(1)


def control(base_url: str) -> str:
    """The control endpoints of a local fake, from its API base URL (``http://H:P/v21.0``, ``…/api/v1``)."""
    scheme, _, rest = base_url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/_control"


@pytest.fixture(scope="module")
def stack() -> Iterator[Serve]:
    serve = start_serve()
    try:
        wait_until_ready(serve)
        yield serve
    finally:
        stop(serve)


def send_leads(serve: Serve, *lead_ids: str) -> requests.Response:
    now = int(time.time())
    changes = [
        {"field": "leadgen", "value": {"leadgen_id": i, "page_id": "104512345678901", "created_time": now}}
        for i in lead_ids
    ]
    body = json.dumps(
        {"object": "page", "entry": [{"id": "104512345678901", "time": now, "changes": changes}]}
    ).encode()
    signature = "sha256=" + hmac.new(META["signing_secrets"][0].encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
    return requests.post(f"{serve.url}/webhooks/facebook-leads", data=body, headers=headers, timeout=10)


def test_the_get_handshake_is_answered_through_serve(stack: Serve) -> None:
    # Given Meta's subscription GET with the development verify token
    params = {"hub.mode": "subscribe", "hub.verify_token": META["verify_token"], "hub.challenge": "827193"}
    answer = requests.get(f"{stack.url}/webhooks/facebook-leads", params=params, timeout=10)
    # Then the challenge comes back as plain text; a wrong token is 403; another source's GET is 405
    assert (answer.status_code, answer.headers["content-type"], answer.text) == (200, "text/plain", "827193")
    wrong = requests.get(f"{stack.url}/webhooks/facebook-leads", params={**params, "hub.verify_token": "x"}, timeout=10)
    assert wrong.status_code == 403
    assert requests.get(f"{stack.url}/webhooks/stripe", timeout=10).status_code == 405


def test_leads_are_fetched_from_the_local_graph_one_failing_on_its_own(stack: Serve) -> None:
    graph = control(fetch_url(stack, "facebook-leads"))
    # Given the local Graph API rate-limiting one lead once
    requests.post(
        f"{graph}/faults",
        json={"kind": "status", "status": 429, "retry_after": "1", "times": 1, "match": LEADS[1]},
        timeout=5,
    ).raise_for_status()
    # When Meta posts three leads
    assert send_leads(stack, *LEADS).status_code == 200

    # Then all three reach Ours, the rate-limited one after its retry
    def delivered() -> bool:
        ids = {row.get("distinctId") for row in stack.accepted()}
        return {f"facebook-leads:{i}" for i in LEADS} <= ids

    eventually(delivered, timeout=30)
    calls = requests.get(f"{graph}/requests", timeout=5).json()
    assert [c["status"] for c in calls if LEADS[1] in c["path"]][:2] == [429, 200]


def test_an_acuity_booking_is_fetched_from_the_local_acuity(stack: Serve) -> None:
    body = b"action=scheduled&id=1203456789&calendarID=6032114&appointmentTypeID=18733412"
    signature = base64.b64encode(
        hmac.new(ACUITY["signing_secrets"][0].encode(), body, hashlib.sha256).digest()
    ).decode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Acuity-Signature": signature}
    answer = requests.post(f"{stack.url}/webhooks/acuity", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    [event] = eventually(lambda: [r for r in stack.accepted() if r.get("distinctId") == "acuity:scheduled:1203456789"])
    assert event["event"] == "Meeting Scheduled"
    assert "Asthma" not in json.dumps(event)


def test_serve_config_points_api_base_url_elsewhere(tmp_path: Path) -> None:
    # Given a configuration that sends the Graph fetch to a closed port
    config = tmp_path / "translator.json"
    config.write_text(
        json.dumps({"sources": {"facebook-leads": {"options": {"api_base_url": "http://127.0.0.1:9/v21.0"}}}})
    )
    serve = start_serve("--config", str(config))
    try:
        wait_until_ready(serve)
        # Then serve uses it (and still fakes Acuity)
        assert fetch_url(serve, "facebook-leads") == "http://127.0.0.1:9/v21.0"
        assert "--config api_base_url" in serve.text
        assert fetch_url(serve, "acuity").endswith("/api/v1")
    finally:
        stop(serve)


def test_hubspot_contacts_are_fetched_from_the_local_crm_one_failing_on_its_own(stack: Serve) -> None:
    crm = control(fetch_url(stack, "hubspot"))
    # Given the local HubSpot CRM API answering 503 once for one contact
    requests.post(f"{crm}/faults", json={"kind": "status", "status": 503, "times": 1, "match": "/9102"}, timeout=5)
    now_ms = int(time.time() * 1000)
    items = [
        {"eventId": 7701 + n, "portalId": 62515, "occurredAt": now_ms - 1000, "subscriptionType": "contact.creation",
         "objectId": ident}
        for n, ident in enumerate((9101, 9102, 9103))
    ]  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "X-Webhook-Token": DEV_SECRETS["sources"]["hubspot"]["signing_secrets"][0],
    }
    answer = requests.post(f"{stack.url}/webhooks/hubspot", data=json.dumps(items), headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text

    # Then all three reach Ours with the fetched e-mail, the failing one after its retry
    def delivered() -> dict[str, str]:
        found = {str(r.get("distinctId")): str(r.get("email")) for r in stack.accepted()}
        return found if {"hubspot:7701", "hubspot:7702", "hubspot:7703"} <= set(found) else {}

    found = eventually(delivered, timeout=30)
    assert found["hubspot:7702"] == "lee.chen@example.com"
    calls = requests.get(f"{crm}/requests", timeout=5).json()
    assert [c["status"] for c in calls if c["path"].endswith("/9102")][:2] == [503, 200]


def test_a_stripe_thin_event_is_fetched_from_the_local_stripe_api(stack: Serve) -> None:
    import stripe

    body = json.dumps(
        {
            "id": "evt_test_65RServeThin0001",
            "object": "v2.core.event",
            "type": "v1.invoice.paid",
            "created": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "related_object": {"id": "in_SampleFirst01", "type": "invoice", "url": "/v1/invoices/in_SampleFirst01"},
        }
    )
    secret = DEV_SECRETS["sources"]["stripe"]["signing_secrets"][0]
    headers = {
        "Content-Type": "application/json",
        "Stripe-Signature": stripe.WebhookSignature.generate_signature_header(body, secret),
    }
    answer = requests.post(f"{stack.url}/webhooks/stripe", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    [event] = eventually(
        lambda: [r for r in stack.accepted() if r.get("distinctId") == "stripe:evt_test_65RServeThin0001"]
    )
    assert event["event"] == "Invoice Paid"
