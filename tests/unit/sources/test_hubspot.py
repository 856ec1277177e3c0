"""HubSpot: v1/v2/v3 signatures against ``hubspot-api-client``'s ``Signature`` (the oracle), the public URL
as API Gateway received it, the API-key header, workflow records and subscription batches."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from hubspot.utils.signature import Signature
from reasons import assert_reason

from webhook_translator.errors import BadRequest, SignatureError
from webhook_translator.receiver import request_from_apigw
from webhook_translator.sources.hubspot_signing import public_urls

SECRET = "hubspot-client-secret-0f9e8d7c"
OTHER = "hubspot-client-secret-other-1a2b"
URL = "https://hooks.example.com/webhooks/hubspot"
BODY = b'{"vid":251,"properties":{"email":{"value":"a@example.com"}}}'


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("hubspot")


def apigw_request(
    h: Any,
    headers: dict[str, str],
    *,
    body: bytes = BODY,
    domain: str = "hooks.example.com",
    raw_path: str = "/webhooks/hubspot",
    query: str = "",
    stage: str = "$default",
    received_at: datetime | None = None,
) -> Any:
    """The InboundRequest the receiver makes of an API Gateway payload-2.0 event."""
    event = {
        "version": "2.0",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", **{k.lower(): v for k, v in headers.items()}},
        "requestContext": {"domainName": domain, "stage": stage, "http": {"method": "POST"}},
        "pathParameters": {"source": "hubspot"},
        "body": body.decode(),
        "isBase64Encoded": False,
    }
    return request_from_apigw(event, received_at or h.at(0))[2]


def v2(url: str = URL, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    sig = Signature.get_signature(secret, body.decode(), "v2", http_uri=url, http_method="POST")
    return {"X-HubSpot-Signature": sig, "X-HubSpot-Signature-Version": "v2"}


def v3(h: Any, url: str = URL, secret: str = SECRET, age_s: float = 5, body: bytes = BODY) -> dict[str, str]:
    ts = str(int((h.now_s - age_s) * 1000))
    sig = Signature.get_signature(secret, body.decode(), "v3", http_uri=url, http_method="POST", timestamp=ts)
    return {"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": ts}


# --- signature: known answers from the oracle --------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        ("v2", lambda h: v2()),
        ("v3", lambda h: v3(h)),
        ("v1", lambda h: {"X-HubSpot-Signature": Signature.get_signature(SECRET, BODY.decode(), "v1")}),
        ("api key", lambda h: {"X-Webhook-Token": SECRET}),
        ("rotation", lambda h: v2(secret=OTHER)),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_a_genuine_request_verifies(h: Any, case: str, headers: Callable[[Any], dict[str, str]]) -> None:
    # Given a request signed as HubSpot signs it (hubspot-api-client computes the signature)
    request = apigw_request(h, headers(h))
    # Then it verifies, with the secret among the configured ones
    h.source.verify(request, [SECRET, OTHER] if case == "rotation" else [SECRET])
    # And the oracle agrees it is valid
    if case == "v2":
        assert Signature.is_valid(headers(h)["X-HubSpot-Signature"], SECRET, BODY.decode(), URL, "POST", "v2")


@pytest.mark.parametrize(
    ("case", "signed_url", "event"),
    [
        (
            "execute-api, named stage",
            "https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhooks/hubspot",
            {
                "domain": "abc123.execute-api.us-east-1.amazonaws.com",
                "raw_path": "/prod/webhooks/hubspot",
                "stage": "prod",
            },
        ),
        (
            "custom domain on a named stage",
            "https://hooks.example.com/webhooks/hubspot",
            {"raw_path": "/prod/webhooks/hubspot", "stage": "prod"},
        ),
        (
            "query string kept",
            "https://hooks.example.com/webhooks/hubspot?portal=62515&x=a%20b",
            {"query": "portal=62515&x=a%20b"},
        ),
    ],
    ids=["execute-api, named stage", "custom domain on a named stage", "query string kept"],
)
def test_the_public_url_is_rebuilt_as_api_gateway_received_it(
    h: Any, case: str, signed_url: str, event: dict[str, str]
) -> None:
    # Given a v2 and a v3 signature over the URL HubSpot posted to
    for headers in (v2(signed_url), v3(h, signed_url)):
        # When API Gateway hands the request over with its domainName, rawPath, stage and query
        request = apigw_request(h, headers, **event)  # type: ignore[arg-type]
        # Then the signature verifies
        h.source.verify(request, [SECRET])
    assert signed_url in public_urls(apigw_request(h, {}, **event))  # type: ignore[arg-type]


def test_v3_decodes_hubspots_escapes_in_the_uri(h: Any) -> None:
    url = "https://hooks.example.com/webhooks/hubspot?next=a%3Ab%40c"
    ts = str(h.now_s * 1000)
    decoded = "https://hooks.example.com/webhooks/hubspot?next=a:b@c"
    sig = Signature.get_signature(SECRET, BODY.decode(), "v3", http_uri=decoded, timestamp=ts)
    request = apigw_request(
        h, {"X-HubSpot-Signature-v3": sig, "X-HubSpot-Request-Timestamp": ts}, query=url.split("?", 1)[1]
    )
    h.source.verify(request, [SECRET])


@pytest.mark.parametrize(
    ("case", "body", "headers", "code"),
    [
        ("v2 tampered body", BODY.replace(b"251", b"252"), lambda h: v2(), "no_matching_secret"),
        ("v2 wrong secret", BODY, lambda h: v2(secret="wrong"), "no_matching_secret"),
        ("v2 another URL", BODY, lambda h: v2("https://evil.example.com/webhooks/hubspot"), "no_matching_secret"),
        (
            "v2 malformed",
            BODY,
            lambda h: {"X-HubSpot-Signature": "zz", "X-HubSpot-Signature-Version": "v2"},
            "malformed_signature",
        ),
        ("unknown version", BODY, lambda h: {**v2(), "X-HubSpot-Signature-Version": "v9"}, "malformed_signature"),
        ("v3 tampered body", BODY.replace(b"251", b"252"), lambda h: v3(h), "no_matching_secret"),
        ("v3 wrong secret", BODY, lambda h: v3(h, secret="wrong"), "no_matching_secret"),
        ("v3 stale: 301 s", BODY, lambda h: v3(h, age_s=301), "stale_timestamp"),
        ("v3 future: 301 s ahead", BODY, lambda h: v3(h, age_s=-301), "future_timestamp"),
        (
            "v3 no timestamp",
            BODY,
            lambda h: {"X-HubSpot-Signature-v3": v3(h)["X-HubSpot-Signature-v3"]},
            "missing_signature",
        ),
        ("v3 bad timestamp", BODY, lambda h: {**v3(h), "X-HubSpot-Request-Timestamp": "soon"}, "malformed_signature"),
        ("wrong api key", BODY, lambda h: {"X-Webhook-Token": "guess"}, "no_matching_secret"),
        ("nothing", BODY, lambda h: {}, "missing_signature"),
    ],
    ids=lambda v: v if (isinstance(v, str) and " " in v) or v == "nothing" else "",
)
def test_a_bad_request_is_refused_with_its_reason(
    h: Any, case: str, body: bytes, headers: Callable[[Any], dict[str, str]], code: str
) -> None:
    with pytest.raises(SignatureError) as info:
        h.source.verify(apigw_request(h, headers(h), body=body), [SECRET])
    assert_reason(info, code)
    assert SECRET not in info.value.message


def test_through_the_receiver_a_v2_delivery_is_queued_and_a_wrong_one_refused(h: Any) -> None:
    body = h.raw(h.body("workflow_contact_lead"))
    status, answer, envelope = h.receive(body, {"Content-Type": "application/json", **v2(body=body)}, secrets=[SECRET])
    assert status == 200, answer
    assert envelope is not None
    assert answer["id"].startswith("251:")
    wrong = {"Content-Type": "application/json", **v2(secret="wrong", body=body)}
    status, answer, envelope = h.receive(body, wrong, secrets=[SECRET])
    assert (status, envelope) == (401, None)


# --- ids -------------------------------------------------------------------------------------------


def test_a_record_is_keyed_on_its_object_id_and_body_hash(h: Any) -> None:
    body = h.body("workflow_contact_lead")
    first = h.source.webhook_id(h.request(body))
    assert first.startswith("251:")
    assert len(first) == 4 + 16
    body["properties"]["lastname"]["value"] = "Lee-Park"
    assert h.source.webhook_id(h.request(body)) != first  # another change, another id
    assert h.source.webhook_id(h.request(h.body("workflow_contact_qualified"))).startswith("9051:")


def test_a_batch_is_keyed_on_its_body_and_a_single_event_on_its_event_id(h: Any) -> None:
    batch = h.body("subscription_batch")
    assert h.source.webhook_id(h.request(batch)) is None  # the receiver hashes the body
    assert h.source.webhook_id(h.request(batch[:1])) == "1794"


@pytest.mark.parametrize("body", [b"[]", b'"x"', b'{"properties":{}}', json.dumps([{}] * 101).encode(), b"[{}]"])
def test_a_malformed_body_is_a_bad_request(h: Any, body: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body))


# --- mapping ---------------------------------------------------------------------------------------


def test_a_workflow_record_maps_identity_and_structured_fields_only(h: Any) -> None:
    out = h.one(h.body("workflow_contact_lead"))
    assert (out["event"], out["email"], out["externalId"]) == ("Lead Created", "morgan.lee@example.com", "251")
    assert out["userProperties"]["gclid"] == "Cj0KCQiA-example-gclid"
    assert out["time"] == h.now_ms - 60_000  # the receive time: a workflow delivery carries none
    # the free-text "message" property (here, health data) is never forwarded
    assert "toothache" not in json.dumps(out)


@pytest.mark.parametrize(
    ("stage", "event"),
    [("salesqualifiedlead", "Lead Qualified"), ("customer", "Customer Created"), ("subscriber", "Lead Created")],
)
def test_the_lifecycle_stage_names_the_event(h: Any, stage: str, event: str) -> None:
    body = h.body("workflow_contact_qualified")
    body["properties"]["lifecyclestage"] = stage
    assert h.one(body)["event"] == event


def test_the_distinct_id_is_stable_across_retries(h: Any) -> None:
    body = h.body("workflow_contact_lead")
    assert h.one(body)["distinctId"] == h.one(body)["distinctId"]


def test_external_id_none_leaves_the_contact_id_out(h: Any) -> None:
    out = h.one(h.body("workflow_contact_lead"), config={"options": {"external_id": "none"}})
    assert "externalId" not in out
    assert out["email"]


def test_a_batch_with_a_bad_item_keeps_the_good_ones(h: Any) -> None:
    # Given a batch: two good events, a skipped one, and a bad one (no objectId) in the middle
    batch = h.body("subscription_batch")
    batch.insert(1, {"eventId": 1799, "subscriptionType": "contact.creation", "occurredAt": batch[0]["occurredAt"]})
    # When it is mapped
    result = h.map(batch)
    # Then the good events are there, each with its own id, and the bad one is a failure naming its place
    assert [e.to_ours()["distinctId"] for e in result.events] == ["hubspot:1794", "hubspot:1795"]
    assert [e.to_ours()["event"] for e in result.events] == ["Lead Created", "Customer Created"]
    [failure] = result.failures
    assert failure.message.startswith("item 2 of 4:")
    assert failure.reason == "invalid_payload"


def test_a_stale_item_is_a_stale_event_of_its_own(h: Any) -> None:
    batch = h.body("subscription_batch")[:2]
    batch[1]["occurredAt"] = h.now_ms - 8 * 86_400_000
    result = h.map(batch)
    assert [e.to_ours()["distinctId"] for e in result.events] == ["hubspot:1794"]
    assert [f.reason for f in result.failures] == ["stale_event"]


def test_a_batch_of_ignored_events_is_skipped(h: Any) -> None:
    result = h.map(h.body("subscription_batch")[2:])
    assert result.skipped == "ignored_type"
    assert not result.failures


def test_subscription_items_without_the_contact_id_as_identity_fail_no_identity(h: Any) -> None:
    result = h.map(h.body("subscription_batch"), config={"options": {"external_id": "none"}})
    assert not result.events
    assert all(f.reason == "no_identity" for f in result.failures)
