"""WooCommerce — ``POST /webhooks/woocommerce`` (orders and customers).

Signature: ``X-WC-Webhook-Signature``, base64 HMAC-SHA256 of the raw body keyed with the
webhook's *Secret*. No timestamp.

The ping: when a webhook is saved, WooCommerce posts ``webhook_id=<id>`` (form-encoded,
unsigned) and keeps the webhook only if it gets a 2xx. That exact body is answered here
(``{"received": true, "ping": true}``), never queued; any other unsigned request is a 401.

Topic: ``X-WC-Webhook-Topic`` (``order.created``, ``order.updated``, ``customer.created``), held
to the signed body as the signature does not cover headers: an order topic needs an order
(``order_key``, ``line_items``), a customer topic a customer. ``order.updated`` is mapped once
per order, when its status first says it was paid (``processing`` / ``completed``) → ``order.paid``;
other updates are skipped. Ids: ``X-WC-Webhook-Delivery-ID`` is the webhook id; ``distinctId`` =
``woocommerce:{type}:{id}`` from the body (a redelivery is the same Ours event). ``time``: the
body's ``date_created_gmt`` (``date_paid_gmt`` for a payment), in UTC.

Identity: billing e-mail (else the customer's), phone, names, city/state/postcode/country —
never the street; ``utm_*`` from WooCommerce's order attribution (``_wc_order_attribution_*``
meta). Properties: order id, number, status, totals, currency, payment method, item count,
customer id, the attribution's source type — never item names, the customer's note, the IP
address or user agent.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError, UnsupportedMediaType
from webhook_translator.sources.base import HmacSource, require, require_id
from webhook_translator.sources.common import Person, clean, fit_properties, iso_to_ms
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

TOPIC = "x-wc-webhook-topic"
DELIVERY_ID = "x-wc-webhook-delivery-id"
SITE = "x-wc-webhook-source"
URLENCODED = "application/x-www-form-urlencoded"
ORDER_CREATED = "order.created"
ORDER_UPDATED = "order.updated"
ORDER_PAID = "order.paid"
CUSTOMER_CREATED = "customer.created"
_PING = re.compile(rb"^webhook_id=\d{1,20}$")
_PAID_STATUSES = frozenset({"processing", "completed"})
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _is_ping(request: InboundRequest) -> bool:
    return request.content_type == URLENCODED and bool(_PING.match(request.body.strip()))


def _kind(topic: str, data: dict[str, Any]) -> str | None:
    """The event type a topic and body make: ``order.paid`` for the paying update, None to skip."""
    if topic == ORDER_UPDATED:
        return ORDER_PAID if (clean(data.get("status")) or "") in _PAID_STATUSES else None
    return topic


def _check_topic(topic: str, data: dict[str, Any]) -> None:
    is_order = "order_key" in data and "line_items" in data
    wants_order = topic.startswith("order.")
    if is_order != wants_order or (not wants_order and "email" not in data):
        raise MappingError(f"the X-WC-Webhook-Topic {topic} does not fit the signed body")


def _attribution(data: dict[str, Any]) -> dict[str, Any]:
    meta = data.get("meta_data")
    found: dict[str, Any] = {}
    for item in meta if isinstance(meta, list) else []:
        key = item.get("key") if isinstance(item, dict) else None
        if isinstance(key, str) and key.startswith("_wc_order_attribution_"):
            found[key.removeprefix("_wc_order_attribution_")] = item.get("value")
    return found


def _person(data: dict[str, Any], attribution: dict[str, Any]) -> Person:
    raw = data.get("billing")
    billing: dict[str, Any] = raw if isinstance(raw, dict) else {}
    person = Person()
    person.offer("email", billing.get("email"))
    person.offer("email", data.get("email"))
    person.offer("phone_number", billing.get("phone"))
    person.offer("first_name", billing.get("first_name") or data.get("first_name"))
    person.offer("last_name", billing.get("last_name") or data.get("last_name"))
    person.offer("company_name", billing.get("company"))
    person.offer("city", billing.get("city"))
    person.offer("state", billing.get("state"))
    person.offer("zip", billing.get("postcode"))
    person.offer("country", billing.get("country"))
    for key in _UTM:
        person.offer(key, attribution.get(key))
    return person


def _properties(kind: str, data: dict[str, Any], attribution: dict[str, Any], site: str | None) -> dict[str, Any]:
    items = data.get("line_items")
    is_order = kind != CUSTOMER_CREATED
    return {
        "site": site,
        "order_id": clean(data.get("id")) if is_order else None,
        "order_number": clean(data.get("number")),
        "status": clean(data.get("status")),
        "customer_id": clean(data.get("customer_id") if is_order else data.get("id")),
        "total": clean(data.get("total")),
        "total_tax": clean(data.get("total_tax")),
        "shipping_total": clean(data.get("shipping_total")),
        "discount_total": clean(data.get("discount_total")),
        "currency": clean(data.get("currency")),
        "payment_method": clean(data.get("payment_method")),
        "created_via": clean(data.get("created_via")),
        "item_count": sum(int(i.get("quantity") or 0) for i in items if isinstance(i, dict))
        if isinstance(items, list)
        else None,
        "attribution_source_type": clean(attribution.get("source_type")),
        "attribution_device_type": clean(attribution.get("device_type")),
    }


def _time(kind: str, data: dict[str, Any], envelope: Envelope) -> int:
    keys = ("date_paid_gmt", "date_modified_gmt") if kind == ORDER_PAID else ("date_created_gmt",)
    for key in keys:
        value = clean(data.get(key))
        if value:
            return iso_to_ms(value)  # WooCommerce's *_gmt times carry no offset: UTC
    return envelope.received_at_ms


class WooCommerceSource(HmacSource):
    name: ClassVar[str] = "woocommerce"
    title: ClassVar[str] = "WooCommerce"
    content_types: ClassVar[tuple[str, ...]] = ("application/json", URLENCODED)
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="x-wc-webhook-signature", display_header="X-WC-Webhook-Signature", encoding="base64"
    )
    forwarded_headers: ClassVar[tuple[str, ...]] = (TOPIC, SITE)
    events: ClassVar[dict[str, str]] = {
        ORDER_CREATED: "Order Placed",
        ORDER_PAID: "Order Paid",
        CUSTOMER_CREATED: "Customer Created",
    }

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        if _is_ping(request) and request.header("x-wc-webhook-signature") is None:
            return  # answered by handshake(), never queued
        self.scheme.verify(request, secrets)

    def handshake(self, request: InboundRequest, secrets: Sequence[str] = ()) -> dict[str, Any] | None:
        return {"received": True, "ping": True} if _is_ping(request) else None

    def webhook_id(self, request: InboundRequest) -> str | None:
        if request.content_type != "application/json":
            raise UnsupportedMediaType("woocommerce sends application/json, except for its webhook_id=<id> ping")
        require(request.header(TOPIC), "missing X-WC-Webhook-Topic header")
        require(isinstance(request.json(), dict), "not a WooCommerce webhook: expected a JSON object")
        ident = request.header(DELIVERY_ID)
        return require_id(ident, "malformed X-WC-Webhook-Delivery-ID header") if ident is not None else None

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        headers = super().sign_headers(body, secret, now=now, webhook_id=webhook_id)
        if webhook_id:
            headers["X-WC-Webhook-Delivery-ID"] = webhook_id
        return headers

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        topic = (envelope.headers.get(TOPIC) or "").strip()
        if not topic:
            raise MappingError("the webhook has no X-WC-Webhook-Topic")
        data = envelope.json_body()
        if not isinstance(data, dict):
            raise MappingError("WooCommerce webhook does not match the expected shape (body)")
        if topic not in (ORDER_CREATED, ORDER_UPDATED, CUSTOMER_CREATED):
            return ctx.skip(topic)
        _check_topic(topic, data)
        kind = _kind(topic, data)
        if kind is None:
            return ctx.skip(topic, "not_paid_yet")
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        resource = clean(data.get("id"))
        if resource is None:
            raise MappingError("WooCommerce webhook does not match the expected shape (id)")
        attribution = _attribution(data)
        track = ctx.track(
            kind,
            distinct_id=f"woocommerce:{kind}:{resource}",
            time=_time(kind, data, envelope),
            event_properties=fit_properties(_properties(kind, data, attribution, clean(envelope.headers.get(SITE)))),
            **_person(data, attribution).track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
