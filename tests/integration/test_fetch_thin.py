"""HubSpot app subscriptions and Stripe v2 thin events through the pipeline: receiver → moto SQS →
forwarder → the fetch from the local HubSpot / Stripe fakes (real HTTP on loopback) → the local Ours.

Every outcome row of the fetch step (``webhook_translator.fetch``) for each: 200 delivered; 404 and
401 dead-lettered at once (``provider_not_found`` / ``provider_auth``); 429 with ``Retry-After``
retried after that delay; 5xx, a hang past the read timeout and a connection reset retried with the
backoff. A HubSpot batch where one contact's fetch fails: the others delivered, the failing one
retried (or dead-lettered) by its own outcome, with the same ``distinctId`` on every attempt.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import stripe

from support.aws import Queues, hidden_for, make_visible
from support.fetch_pipeline import FetchPipeline, running
from webhook_translator_tools.local.hubspot_server import LocalHubSpot
from webhook_translator_tools.local.ours_server import LocalOurs
from webhook_translator_tools.local.provider_server import LocalProviderApi, ProviderFault
from webhook_translator_tools.local.stripe_server import LocalStripe

NOW = 1_795_000_000
TOKEN = "ours-token-current-0123456789"
HUBSPOT_KEY, HUBSPOT_TOKEN = "hubspot-workflow-key-0123456789", "pat-na1-0123456789-abcdef"
WHSEC, RESTRICTED_KEY = "whsec_thin_destination_0123456789", "rk_test_restricted_0123456789"
CONTACTS = ("9101", "9102", "9103")
DOCUMENT = {
    "ours_token": TOKEN,
    "sources": {
        "hubspot": {"signing_secrets": [HUBSPOT_KEY], "api_token": HUBSPOT_TOKEN},
        "stripe": {"signing_secrets": [WHSEC], "api_token": RESTRICTED_KEY},
    },
}


class Pipeline(FetchPipeline):
    def __init__(self, queues: Queues, ours: LocalOurs, hubspot: LocalHubSpot, stripe_api: LocalStripe) -> None:
        self.hubspot, self.stripe = hubspot, stripe_api
        super().__init__(queues, ours, {"hubspot": hubspot, "stripe": stripe_api}, document=DOCUMENT, now=NOW)

    def send_contacts(self, *contact_ids: str) -> dict[str, Any]:
        items = [
            {
                "eventId": 1801 + n,
                "subscriptionId": 4021,
                "portalId": 62515,
                "appId": 1160452,
                "occurredAt": (NOW - 60 + n) * 1000,
                "subscriptionType": "contact.creation",
                "attemptNumber": 0,
                "objectId": int(ident),
                "changeFlag": "NEW",
                "changeSource": "FORM",
            }
            for n, ident in enumerate(contact_ids)
        ]
        headers = {"Content-Type": "application/json", "X-Webhook-Token": HUBSPOT_KEY}
        return self.send("hubspot", json.dumps(items).encode(), headers)

    def send_thin(self, object_url: str = "/v1/invoices/in_SampleFirst01") -> dict[str, Any]:
        body = json.dumps(
            {
                "id": "evt_test_65RThinInvoicePaid0001SQJi2VO4ojjn4p6Rtn",
                "object": "v2.core.event",
                "type": "v1.invoice.paid",
                "livemode": False,
                "created": datetime.fromtimestamp(NOW - 60, UTC).isoformat().replace("+00:00", "Z"),
                "related_object": {"id": object_url.rsplit("/", 1)[-1], "type": "invoice", "url": object_url},
                "context": None,
            }
        )
        header = stripe.WebhookSignature.generate_signature_header(body, WHSEC, NOW)
        return self.send("stripe", body.encode(), {"Content-Type": "application/json", "Stripe-Signature": header})


@pytest.fixture
def pipeline(aws_env: None) -> Iterator[Pipeline]:
    hubspot, stripe_api = LocalHubSpot(tokens={HUBSPOT_TOKEN}), LocalStripe(keys={RESTRICTED_KEY})
    with running(DOCUMENT, {"hubspot": hubspot, "stripe": stripe_api}, now=NOW) as (queues, ours):
        yield Pipeline(queues, ours, hubspot, stripe_api)


THIN_ID = "stripe:evt_test_65RThinInvoicePaid0001SQJi2VO4ojjn4p6Rtn"


def send_one(pipeline: Pipeline, source: str) -> tuple[LocalProviderApi, str]:
    """One webhook of ``source`` whose one item needs a fetch: (its provider fake, its distinctId)."""
    if source == "hubspot":
        pipeline.send_contacts(CONTACTS[0])
        return pipeline.hubspot, "hubspot:1801"
    pipeline.send_thin()
    return pipeline.stripe, THIN_ID


def reason(dead: dict[str, Any]) -> str:
    return str(dead["MessageAttributes"]["failure_reason"]["StringValue"])


# --- every outcome row, for each source ------------------------------------------------------------

SOURCES = ["hubspot", "stripe"]


@pytest.mark.parametrize("source", SOURCES)
def test_200_the_fetched_object_is_mapped_and_delivered(pipeline: Pipeline, source: str) -> None:
    fake, distinct_id = send_one(pipeline, source)
    assert pipeline.poll() == {"batchItemFailures": []}
    [event] = pipeline.ours.accepted
    assert event["distinctId"] == distinct_id
    assert event["email"] == ("priya.raman@example.com" if source == "hubspot" else "jane.doe@example.com")
    assert [c.status for c in fake.calls] == [200]
    assert pipeline.queues.count() == 0
    assert pipeline.dead_letters() == []


@pytest.mark.parametrize("source", SOURCES)
def test_404_an_object_that_does_not_exist_is_dead_lettered_at_once(pipeline: Pipeline, source: str) -> None:
    if source == "hubspot":
        pipeline.send_contacts("9999")
    else:
        pipeline.send_thin("/v1/invoices/in_DoesNotExist")
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.delivered() == []
    [dead] = pipeline.dead_letters()
    assert reason(dead) == "provider_not_found"
    assert dead["MessageAttributes"]["attempts"]["StringValue"] == "1"


@pytest.mark.parametrize("source", SOURCES)
def test_401_a_refused_credential_is_dead_lettered_as_provider_auth(pipeline: Pipeline, source: str) -> None:
    fake, _ = send_one(pipeline, source)
    # the fake knows another credential only: a revoked token / key, answered as the provider does
    if isinstance(fake, LocalHubSpot):
        fake.tokens = {"pat-na1-another"}
    else:
        pipeline.stripe.keys = {"rk_test_another"}
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.delivered() == []
    [dead] = pipeline.dead_letters()
    assert reason(dead) == "provider_auth"
    assert [c.status for c in fake.calls] == [401]


@pytest.mark.parametrize("source", SOURCES)
def test_429_is_retried_after_retry_after_with_the_same_distinct_id(pipeline: Pipeline, source: str) -> None:
    fake, distinct_id = send_one(pipeline, source)
    fake.inject(ProviderFault("status", status=429, retry_after="30", times=1))
    result = pipeline.poll()
    assert len(result["batchItemFailures"]) == 1
    assert pipeline.delivered() == []
    [hidden] = hidden_for(pipeline.queues)
    assert 28 <= hidden <= 32
    make_visible()
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.delivered() == [distinct_id]
    assert [c.status for c in fake.calls] == [429, 200]


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    "fault",
    [
        ProviderFault("status", status=503, times=1),
        ProviderFault("hang", delay=3, times=1),
        ProviderFault("reset", times=1),
    ],
    ids=["5xx", "timeout", "reset"],
)
def test_a_transient_failure_is_retried_then_delivered(pipeline: Pipeline, source: str, fault: ProviderFault) -> None:
    fake, distinct_id = send_one(pipeline, source)
    fake.inject(fault)
    result = pipeline.poll()
    assert len(result["batchItemFailures"]) == 1
    assert pipeline.delivered() == []
    make_visible()
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.delivered() == [distinct_id]
    assert pipeline.queues.count() == 0
    assert pipeline.dead_letters() == []


# --- a HubSpot batch where one contact's fetch fails -----------------------------------------------------


def test_a_rate_limited_contact_is_retried_and_the_others_are_delivered(pipeline: Pipeline) -> None:
    hubspot = pipeline.hubspot
    # Given three contacts created, HubSpot rate-limiting the second one's fetch once
    hubspot.inject(ProviderFault("status", status=429, retry_after="20", times=1, match="/" + CONTACTS[1]))
    pipeline.send_contacts(*CONTACTS)
    # When the forwarder takes it: the two others are delivered, the webhook waits for Retry-After
    result = pipeline.poll()
    assert sorted(pipeline.delivered()) == ["hubspot:1801", "hubspot:1803"]
    assert len(result["batchItemFailures"]) == 1
    [hidden] = hidden_for(pipeline.queues)
    assert 18 <= hidden <= 22
    # When it comes back: the second is delivered; the others went again with the very same distinctIds
    make_visible()
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.ours.deliveries("hubspot:1802") == 1
    assert pipeline.ours.deliveries("hubspot:1801") == 2
    assert set(pipeline.delivered()) == {"hubspot:1801", "hubspot:1802", "hubspot:1803"}
    by_id = {e["distinctId"]: e for e in pipeline.ours.accepted}
    assert by_id["hubspot:1802"]["email"] == "lee.chen@example.com"
    assert pipeline.queues.count() == 0
    assert pipeline.dead_letters() == []


def test_a_deleted_contact_is_dead_lettered_and_the_others_are_delivered(pipeline: Pipeline) -> None:
    pipeline.hubspot.contacts.pop(CONTACTS[1])  # deleted between the event and the fetch
    pipeline.send_contacts(*CONTACTS)
    assert pipeline.poll() == {"batchItemFailures": []}
    assert sorted(pipeline.delivered()) == ["hubspot:1801", "hubspot:1803"]
    [dead] = pipeline.dead_letters()
    assert reason(dead) == "provider_not_found"
    assert pipeline.queues.count() == 0


def test_a_contact_whose_fetch_keeps_failing_is_dead_lettered_on_the_last_receive(pipeline: Pipeline) -> None:
    hubspot = pipeline.hubspot
    hubspot.inject(ProviderFault("status", status=502, match="/" + CONTACTS[2]))
    pipeline.send_contacts(*CONTACTS)
    pipeline.use(MAX_RECEIVE_COUNT=3, OUTAGE_BUDGET_SECONDS=1800)  # the backstop below the budget
    for _ in range(3):  # maxReceiveCount 3
        pipeline.poll()
        make_visible()
    assert sorted(set(pipeline.delivered())) == ["hubspot:1801", "hubspot:1802"]
    assert pipeline.ours.deliveries("hubspot:1803") == 0
    [dead] = pipeline.dead_letters()
    assert reason(dead) == "provider_unavailable"
    assert dead["MessageAttributes"]["attempts"]["StringValue"] == "3"


def test_without_an_api_token_hubspot_keeps_the_contact_id_alone(pipeline: Pipeline, aws_env: None) -> None:
    sm = boto3.client("secretsmanager", region_name="us-east-1")
    document = {**DOCUMENT, "sources": {**DOCUMENT["sources"], "hubspot": {"signing_secrets": [HUBSPOT_KEY]}}}  # type: ignore[dict-item]
    sm.put_secret_value(SecretId="webhook-translator", SecretString=json.dumps(document))
    pipeline.send_contacts(CONTACTS[0])
    assert pipeline.poll() == {"batchItemFailures": []}
    [event] = pipeline.ours.accepted
    assert event["externalId"] == "9101"
    assert "email" not in event
    assert pipeline.hubspot.calls == []
