"""WooCommerce: ``X-WC-Webhook-Signature`` (base64), the creation ping answered and never queued, the topic held to
the body, ``order.updated`` mapped once as the payment, ids from the delivery and the body."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from reasons import assert_reason

from webhook_translator.errors import BadRequest, MappingError, SignatureError

SECRET = "wc-webhook-secret-+A9z!x7Q"
BODY = b'{"id":727,"order_key":"wc_order_x","line_items":[],"status":"pending"}'
FORM = "application/x-www-form-urlencoded"


def b64(body: bytes, key: str = SECRET) -> str:
    """Computed here independently, as WooCommerce's WC_Webhook::generate_signature: base64(HMAC-SHA256)."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("woocommerce")


def headers_of(h: Any, name: str) -> dict[str, str]:
    return dict(h.sample(name)["headers"])


def signed(h: Any, name: str) -> tuple[bytes, dict[str, str]]:
    body = h.raw(h.body(name))
    return body, {**headers_of(h, name), "Content-Type": "application/json", "X-WC-Webhook-Signature": b64(body)}


# --- signature and the ping ------------------------------------------------------------------------


def test_a_genuine_signature_verifies_and_sign_headers_agree(h: Any) -> None:
    h.source.verify(h.request(BODY, {"X-WC-Webhook-Signature": b64(BODY)}), [SECRET])
    assert h.source.sign_headers(BODY, SECRET, now=h.now_s)["X-WC-Webhook-Signature"] == b64(BODY)


@pytest.mark.parametrize(
    ("case", "body", "headers", "code"),
    [
        ("tampered", BODY.replace(b"727", b"728"), {"X-WC-Webhook-Signature": b64(BODY)}, "no_matching_secret"),
        ("wrong secret", BODY, {"X-WC-Webhook-Signature": b64(BODY, "other")}, "no_matching_secret"),
        ("missing", BODY, {}, "missing_signature"),
        ("garbage", BODY, {"X-WC-Webhook-Signature": "%%%"}, "malformed_signature"),
    ],
    ids=["tampered", "wrong secret", "missing", "garbage"],
)
def test_a_bad_signature_is_refused(h: Any, case: str, body: bytes, headers: dict[str, str], code: str) -> None:
    with pytest.raises(SignatureError) as info:
        h.source.verify(h.request(body, headers), [SECRET])
    assert_reason(info, code, scheme=True)


def test_the_creation_ping_is_answered_and_nothing_is_queued(h: Any) -> None:
    # Given the unsigned ping WooCommerce sends when a webhook is saved
    status, answer, queued = h.receive(b"webhook_id=12", {"Content-Type": FORM}, secrets=[SECRET])
    # Then it gets its 2xx at once, and nothing is queued
    assert (status, answer, queued) == (200, {"received": True, "ping": True}, None)


@pytest.mark.parametrize(
    ("case", "body", "content_type", "status"),
    [
        ("a ping with more fields", b"webhook_id=12&x=1", FORM, 401),
        ("a ping-like JSON body", b'{"webhook_id":12}', "application/json", 401),
        ("a ping id that is not a number", b"webhook_id=abc", FORM, 401),
    ],
    ids=["more fields", "json", "not a number"],
)
def test_only_the_exact_ping_goes_unsigned(h: Any, case: str, body: bytes, content_type: str, status: int) -> None:
    got, _, queued = h.receive(body, {"Content-Type": content_type}, secrets=[SECRET])
    assert (got, queued) == (status, None)


def test_a_signed_form_body_that_is_no_ping_is_an_unsupported_media_type(h: Any) -> None:
    body = b"order=727"
    got, _, queued = h.receive(body, {"Content-Type": FORM, "X-WC-Webhook-Signature": b64(body)}, secrets=[SECRET])
    assert (got, queued) == (415, None)


def test_through_the_receiver_the_webhook_id_is_the_delivery_id(h: Any) -> None:
    body, headers = signed(h, "order_created")
    status, answer, queued = h.receive(body, headers, secrets=[SECRET])
    assert (status, answer["id"]) == (200, "8f14e45fceea167a5a36dedd4bea2543")
    assert queued is not None
    assert queued.headers["x-wc-webhook-topic"] == "order.created"


def test_a_webhook_without_a_topic_is_a_bad_request(h: Any) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(BODY, {}))


# --- mapping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "event", "distinct"),
    [
        ("order_created", "Order Placed", "woocommerce:order.created:727"),
        ("order_updated_paid", "Order Paid", "woocommerce:order.paid:727"),
        ("customer_created", "Customer Created", "woocommerce:customer.created:26"),
    ],
)
def test_each_topic_gets_its_event_and_a_body_derived_distinct_id(
    h: Any, sample: str, event: str, distinct: str
) -> None:
    out = h.one(h.body(sample), headers_of(h, sample))
    assert (out["event"], out["email"], out["distinctId"]) == (event, "robin.hale@example.com", distinct)


def test_a_later_paid_status_is_the_same_payment_event(h: Any) -> None:
    body = h.body("order_updated_paid")
    completed = {**body, "status": "completed", "date_modified_gmt": "2026-11-18T09:00:00"}
    headers = headers_of(h, "order_updated_paid")
    assert h.one(completed, headers)["distinctId"] == h.one(body, headers)["distinctId"]


def test_an_update_that_is_not_a_payment_is_skipped(h: Any) -> None:
    result = h.map(h.body("order_updated_on_hold_ignored"), headers_of(h, "order_updated_on_hold_ignored"))
    assert result.skipped == "not_paid_yet"


def test_a_topic_that_does_not_fit_the_body_is_refused(h: Any) -> None:
    with pytest.raises(MappingError) as info:
        h.map(h.body("customer_created"), {**headers_of(h, "customer_created"), "X-WC-Webhook-Topic": "order.created"})
    assert info.value.reason == "invalid_payload"


def test_attribution_in_user_properties_and_no_note_ip_agent_items_or_street(h: Any) -> None:
    out = h.one(h.body("order_created"), headers_of(h, "order_created"))
    assert (out["userProperties"]["utm_source"], out["userProperties"]["utm_campaign"]) == ("newsletter", "november")
    text = json.dumps(out).lower()
    for private in ("insulin", "198.51.100", "iphone", "glucose", "969 market"):
        assert private not in text, private
