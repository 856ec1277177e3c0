"""Shopify: ``X-Shopify-Hmac-Sha256`` (base64), the unsigned topic held to the signed body, ids from the body,
``X-Shopify-Triggered-At`` as the time (a stale retry is a ``stale_event``), orders, customers and checkouts."""

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

SECRET = "shpss_0123456789abcdef0123456789abcdef"
OTHER = "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"
BODY = b'{"id":1,"email":"a@example.com","line_items":[],"order_number":1001}'


def b64(body: bytes, key: str = SECRET) -> str:
    """Computed here independently: base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("shopify")


def headers_of(h: Any, name: str) -> dict[str, str]:
    return dict(h.sample(name)["headers"])


def test_the_scheme_matches_the_rfc_4231_vector() -> None:
    assert b64(b"what do ya want for nothing?", "Jefe") == "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="


def test_a_genuine_signature_verifies_and_sign_headers_agree(h: Any) -> None:
    h.source.verify(h.request(BODY, {"X-Shopify-Hmac-Sha256": b64(BODY)}), [SECRET])
    h.source.verify(h.request(BODY, {"X-Shopify-Hmac-Sha256": b64(BODY, OTHER)}), [SECRET, OTHER])
    signed = h.source.sign_headers(BODY, SECRET, now=h.now_s)
    assert signed["X-Shopify-Hmac-Sha256"] == b64(BODY)
    assert signed["X-Shopify-Triggered-At"].startswith("2026-11-18T11:06:40")


@pytest.mark.parametrize(
    ("case", "body", "headers", "code"),
    [
        ("tampered", BODY.replace(b"1001", b"1002"), {"X-Shopify-Hmac-Sha256": b64(BODY)}, "no_matching_secret"),
        ("wrong secret", BODY, {"X-Shopify-Hmac-Sha256": b64(BODY, "shpss_wrong")}, "no_matching_secret"),
        (
            "hex instead of base64",
            BODY,
            {"X-Shopify-Hmac-Sha256": hmac.new(SECRET.encode(), BODY, "sha256").hexdigest()},
            "no_matching_secret",
        ),
        ("missing", BODY, {}, "missing_signature"),
        ("garbage", BODY, {"X-Shopify-Hmac-Sha256": "***"}, "malformed_signature"),
    ],
    ids=["tampered", "wrong secret", "hex", "missing", "garbage"],
)
def test_a_bad_signature_is_refused(h: Any, case: str, body: bytes, headers: dict[str, str], code: str) -> None:
    with pytest.raises(SignatureError) as info:
        h.source.verify(h.request(body, headers), [SECRET])
    assert_reason(info, code, scheme=True)


def test_through_the_receiver_the_webhook_id_is_x_shopify_webhook_id(h: Any) -> None:
    body = h.raw(h.body("orders_create"))
    headers = {**headers_of(h, "orders_create"), "Content-Type": "application/json", "X-Shopify-Hmac-Sha256": b64(body)}
    status, answer, queued = h.receive(body, headers, secrets=[SECRET])
    assert (status, answer["id"]) == (200, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    assert queued is not None
    assert queued.headers["x-shopify-topic"] == "orders/create"
    assert "x-shopify-hmac-sha256" not in queued.headers


def test_a_webhook_without_a_topic_is_a_bad_request(h: Any) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(BODY, {}))


# --- mapping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "event", "email", "distinct"),
    [
        ("orders_create", "Order Placed", "jamie.fox@example.com", "shopify:orders/create:820982911946154508"),
        ("orders_paid", "Order Paid", "jamie.fox@example.com", "shopify:orders/paid:820982911946154508"),
        (
            "customers_create",
            "Customer Created",
            "lee.morgan@example.org",
            "shopify:customers/create:706405506930370084",
        ),
        (
            "checkouts_create",
            "Checkout Started",
            "sky.patel@example.net",
            "shopify:checkouts/create:b1946ac92492d2347c6235b4d2611184",
        ),
    ],
    ids=["orders_create", "orders_paid", "customers_create", "checkouts_create"],
)
def test_each_topic_gets_its_event_email_and_body_derived_distinct_id(
    h: Any, sample: str, event: str, email: str, distinct: str
) -> None:
    out = h.one(h.body(sample), headers_of(h, sample))
    assert (out["event"], out["email"], out["distinctId"]) == (event, email, distinct)


def test_a_redelivery_under_another_webhook_id_is_the_same_event(h: Any) -> None:
    headers = headers_of(h, "orders_create")
    again = {**headers, "X-Shopify-Webhook-Id": "another", "X-Shopify-Event-Id": "another"}
    assert h.one(h.body("orders_create"), again)["distinctId"] == h.one(h.body("orders_create"), headers)["distinctId"]


def test_the_time_is_when_shopify_triggered_it_and_a_stale_retry_is_a_stale_event(h: Any) -> None:
    headers = {**headers_of(h, "orders_create"), "X-Shopify-Triggered-At": "2026-11-18T09:12:34.123456789Z"}
    assert h.one(h.body("orders_create"), headers)["time"] == 1794993154123  # 09:12:34.123Z
    # without the header (a translate of a raw body), the body's updated_at
    assert h.one(h.body("orders_create"), headers_of(h, "orders_create"))["time"] == 1794993154000
    stale = {**headers, "X-Shopify-Triggered-At": "2026-11-10T09:12:34Z"}
    with pytest.raises(MappingError) as info:
        h.map(h.body("orders_create"), stale)
    assert info.value.reason == "stale_event"


@pytest.mark.parametrize(
    ("case", "sample", "topic"),
    [
        ("a customer body under an order topic", "customers_create", "orders/create"),
        ("an unpaid order under orders/paid", "orders_create", "orders/paid"),
        ("an order under a customer topic", "orders_create", "customers/create"),
        ("an order under the checkout topic", "orders_create", "checkouts/create"),
    ],
    ids=["customer as order", "unpaid as paid", "order as customer", "order as checkout"],
)
def test_a_topic_that_does_not_fit_the_signed_body_is_refused(h: Any, case: str, sample: str, topic: str) -> None:
    with pytest.raises(MappingError) as info:
        h.map(h.body(sample), {**headers_of(h, sample), "X-Shopify-Topic": topic})
    assert info.value.reason == "invalid_payload"


def test_identity_and_attribution_without_notes_titles_or_links(h: Any) -> None:
    out = h.one(h.body("orders_create"), headers_of(h, "orders_create"))
    assert out["userProperties"]["gclid"] == "Cj0KCQ-example"
    assert out["userProperties"]["state"] == "OR"
    text = json.dumps(out).lower()
    for private in ("fertility", "prenatal vitamins", "ovulation", "orchard street", "prenatal-vitamins", "203.0.113"):
        assert private not in text, private
    checkout = json.dumps(h.one(h.body("checkouts_create"), headers_of(h, "checkouts_create")))
    assert "recover?key" not in checkout
    assert "Sleep gummies" not in checkout


def test_other_topics_are_skipped(h: Any) -> None:
    assert h.map(h.body("orders_updated_ignored"), headers_of(h, "orders_updated_ignored")).skipped == "ignored_type"
