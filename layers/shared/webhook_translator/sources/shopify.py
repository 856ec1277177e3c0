"""Shopify — ``POST /webhooks/shopify`` (orders, customers, checkouts).

Signature: ``X-Shopify-Hmac-Sha256``, base64 HMAC-SHA256 of the raw body keyed with the app's
client secret (or the store's webhook signing secret for admin-created webhooks). No timestamp.

The topic comes from ``X-Shopify-Topic``, which the signature does **not** cover: a genuine body
could be replayed under another topic. So the topic must fit the signed body — an order topic
an order (``line_items``, ``order_number``), ``orders/paid`` an order whose ``financial_status``
says it was paid, a customer topic a customer, a checkout topic a checkout — or the webhook is
dead-lettered ``invalid_payload``; and ``distinctId`` comes from the body, not from a header:
``shopify:{topic}:{id}`` (a checkout's ``token``), one per order, customer or checkout and topic.
The webhook id is ``X-Shopify-Webhook-Id`` (the same on every retry; Shopify's delivery logs show it).

Time: ``X-Shopify-Triggered-At`` (when Shopify fired it: a retry two days later keeps its first
time, and one older than Ours's 7 days is a ``stale_event``), else the body's ``updated_at`` /
``created_at``.

Identity: ``email``, ``phone`` (the order's, the customer's, the billing address's), names,
city/province/zip/country of the billing (or the customer's default) address — never the street;
``utm_*``, ``gclid``, ``fbclid`` read from the order's ``landing_site``. Properties: ids, order
number and name, totals, currency, financial and fulfillment status, item count, customer id,
``referring_site`` — never the line items' titles, the landing page's path (a product page names
the product), the order's note or the abandoned-checkout URL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.sources.base import HmacSource, require, require_id
from webhook_translator.sources.common import Person, clean, fit_properties, iso_to_ms
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

TOPIC = "x-shopify-topic"
WEBHOOK_ID = "x-shopify-webhook-id"
TRIGGERED_AT = "x-shopify-triggered-at"
SHOP = "x-shopify-shop-domain"
ORDERS_CREATE = "orders/create"
ORDERS_PAID = "orders/paid"
CUSTOMERS_CREATE = "customers/create"
CHECKOUTS_CREATE = "checkouts/create"
_PAID = frozenset({"paid", "partially_paid", "partially_refunded", "refunded"})
_ATTRIBUTION = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid", "fbclid")


def _shape(data: dict[str, Any]) -> str:
    if "line_items" in data and ("order_number" in data or "financial_status" in data):
        return "order"
    if "cart_token" in data or "abandoned_checkout_url" in data:
        return "checkout"
    if "line_items" not in data and ("orders_count" in data or "verified_email" in data or "default_address" in data):
        return "customer"
    return "unknown"


def _check_topic(topic: str, data: dict[str, Any]) -> None:
    """The unsigned topic header must fit the signed body (else it is not what Shopify sent)."""
    expected = {ORDERS_CREATE: "order", ORDERS_PAID: "order", CUSTOMERS_CREATE: "customer"}.get(topic, "checkout")
    if _shape(data) != expected:
        raise MappingError(f"the X-Shopify-Topic {topic} does not fit the signed body (a {_shape(data)})")
    if topic == ORDERS_PAID and (clean(data.get("financial_status")) or "") not in _PAID:
        raise MappingError("the X-Shopify-Topic orders/paid does not fit the order's financial_status")


def _time(envelope: Envelope, data: dict[str, Any]) -> int:
    for value in (envelope.headers.get(TRIGGERED_AT), data.get("updated_at"), data.get("created_at")):
        if isinstance(value, str) and value.strip():
            try:
                return iso_to_ms(value)
            except MappingError:
                continue
    return envelope.received_at_ms


def _customer(data: dict[str, Any], default: dict[str, Any]) -> dict[str, Any]:
    customer = data.get("customer")
    return customer if isinstance(customer, dict) else default


def _person(data: dict[str, Any]) -> Person:
    customer = _customer(data, data)
    address = data.get("billing_address") or customer.get("default_address") or {}
    address = address if isinstance(address, dict) else {}
    person = Person()
    for candidate in (data.get("email"), data.get("contact_email"), customer.get("email")):
        person.offer("email", candidate)
    for candidate in (data.get("phone"), customer.get("phone"), address.get("phone")):
        person.offer("phone_number", candidate)
    person.offer("first_name", customer.get("first_name") or address.get("first_name"))
    person.offer("last_name", customer.get("last_name") or address.get("last_name"))
    person.offer("city", address.get("city"))
    person.offer("state", address.get("province_code") or address.get("province"))
    person.offer("zip", address.get("zip"))
    person.offer("country", address.get("country_code") or address.get("country"))
    landing = urlsplit(clean(data.get("landing_site")) or "")
    query = dict(parse_qsl(landing.query))
    for key in _ATTRIBUTION:
        person.offer(key, query.get(key))
    return person


def _properties(topic: str, data: dict[str, Any], shop: str | None) -> dict[str, Any]:
    customer = _customer(data, {})
    items = data.get("line_items")
    is_customer = topic == CUSTOMERS_CREATE
    return {
        "shop_domain": shop,
        "order_id": clean(data.get("id")) if topic in (ORDERS_CREATE, ORDERS_PAID) else None,
        "checkout_token": clean(data.get("token")) if topic == CHECKOUTS_CREATE else None,
        "order_number": data.get("order_number"),
        "order_name": clean(data.get("name")),
        "customer_id": clean(data.get("id") if is_customer else customer.get("id")),
        "total_price": clean(data.get("total_price")),
        "subtotal_price": clean(data.get("subtotal_price")),
        "total_tax": clean(data.get("total_tax")),
        "total_discounts": clean(data.get("total_discounts")),
        "currency": clean(data.get("currency")),
        "financial_status": clean(data.get("financial_status")),
        "fulfillment_status": clean(data.get("fulfillment_status")),
        "item_count": sum(int(i.get("quantity") or 0) for i in items if isinstance(i, dict))
        if isinstance(items, list)
        else None,
        "referring_site": clean(data.get("referring_site")),
        "source_name": clean(data.get("source_name")),
        "customer_state": clean(data.get("state")) if is_customer else None,
    }


class ShopifySource(HmacSource):
    name: ClassVar[str] = "shopify"
    title: ClassVar[str] = "Shopify"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="x-shopify-hmac-sha256", display_header="X-Shopify-Hmac-Sha256", encoding="base64"
    )
    forwarded_headers: ClassVar[tuple[str, ...]] = (TOPIC, TRIGGERED_AT, SHOP)
    events: ClassVar[dict[str, str]] = {
        ORDERS_CREATE: "Order Placed",
        ORDERS_PAID: "Order Paid",
        CUSTOMERS_CREATE: "Customer Created",
        CHECKOUTS_CREATE: "Checkout Started",
    }

    def webhook_id(self, request: InboundRequest) -> str | None:
        require(request.header(TOPIC), "missing X-Shopify-Topic header")
        require(isinstance(request.json(), dict), "not a Shopify webhook: expected a JSON object")
        ident = request.header(WEBHOOK_ID)
        return require_id(ident, "malformed X-Shopify-Webhook-Id header") if ident is not None else None

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        headers = super().sign_headers(body, secret, now=now, webhook_id=webhook_id)
        moment = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        headers["X-Shopify-Triggered-At"] = moment
        if webhook_id:
            headers["X-Shopify-Webhook-Id"] = webhook_id
        return headers

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        topic = (envelope.headers.get(TOPIC) or "").strip()
        if not topic:
            raise MappingError("the webhook has no X-Shopify-Topic")
        if (skipped := ctx.unmapped(topic)) is not None:
            return skipped
        data = envelope.json_body()
        if not isinstance(data, dict):
            raise MappingError("Shopify webhook does not match the expected shape (body)")
        _check_topic(topic, data)
        key = data.get("token") if topic == CHECKOUTS_CREATE else data.get("id")
        resource = clean(key)
        if resource is None:
            raise MappingError("Shopify webhook does not match the expected shape (id)")
        track = ctx.track(
            topic,
            distinct_id=f"shopify:{topic}:{resource}",
            time=_time(envelope, data),
            event_properties=fit_properties(_properties(topic, data, clean(envelope.headers.get(SHOP)))),
            **_person(data).track_fields(),
        )
        return MapResult(event_type=topic, events=(track,))
