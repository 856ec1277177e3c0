"""Stripe — ``POST /webhooks/stripe``.

Signature: ``Stripe-Signature: t=<s>,v1=<hex>[,v1=…][,v0=…]`` over ``{t}.{body}``,
HMAC-SHA256 hex, the ``whsec_…`` secret used verbatim, any ``v1`` may match,
``v0`` ignored, timestamps older than 300 s refused.

Ids: the event id (``evt_…``) is the webhook id; ``distinctId`` = ``stripe:{evt}``;
``time`` = ``created`` × 1000. Stripe retries for days and may deliver twice or
out of order: the deterministic ``distinctId`` makes that harmless.

Identity: ``externalId`` from a configurable metadata key (option
``external_id_metadata_key``), else ``client_reference_id`` (checkout), else the
Stripe customer id. Email from where each object keeps it. Names, phone and
address into ``userProperties``; amounts, currency and ids into ``eventProperties``.
Every other event type is acknowledged and skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from webhook_translator.envelope import Envelope
from webhook_translator.sources.base import (
    HmacScheme,
    HmacSource,
    InboundRequest,
    MapContext,
    MapResult,
    parse_model,
    require,
    require_id,
)
from webhook_translator.sources.common import clean, compact, decimal_amount, split_name


class _Lax(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Address(_Lax):
    city: str | None = None
    country: str | None = None
    postal_code: str | None = None
    state: str | None = None


class Details(_Lax):
    """``customer_details`` (checkout) and ``billing_details`` (charge)."""

    email: str | None = None
    name: str | None = None
    phone: str | None = None
    address: Address | None = None


class Price(_Lax):
    id: str | None = None


class LineItem(_Lax):
    price: Price | None = None


class ListOf(_Lax):
    data: list[LineItem] = Field(default_factory=list)


class StripeObject(_Lax):
    """The fields this mapper reads from the objects it maps (all optional: Stripe versions vary)."""

    id: str | None = None
    object: str | None = None
    customer: str | None = None
    metadata: dict[str, Any] | None = None
    currency: str | None = None
    livemode: bool | None = None
    status: str | None = None
    # checkout.session
    client_reference_id: str | None = None
    customer_details: Details | None = None
    customer_email: str | None = None
    amount_total: int | None = None
    amount_subtotal: int | None = None
    mode: str | None = None
    payment_status: str | None = None
    subscription: str | None = None
    invoice: str | None = None
    payment_intent: str | None = None
    # invoice
    customer_name: str | None = None
    customer_phone: str | None = None
    customer_address: Address | None = None
    amount_paid: int | None = None
    amount_due: int | None = None
    billing_reason: str | None = None
    number: str | None = None
    lines: ListOf | None = None
    # subscription
    items: ListOf | None = None
    cancel_at_period_end: bool | None = None
    # charge / payment_intent
    billing_details: Details | None = None
    receipt_email: str | None = None
    amount: int | None = None
    amount_refunded: int | None = None
    amount_received: int | None = None


class EventData(_Lax):
    object: StripeObject


class StripeEventHead(_Lax):
    """What every Stripe event has, read before the type decides whether the object matters."""

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    created: int


class StripeEvent(StripeEventHead):
    livemode: bool | None = None
    data: EventData


class StripeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    #: a metadata key holding the merchant's own user id (checked first)
    external_id_metadata_key: str | None = None


def _email(obj: StripeObject) -> str | None:
    for candidate in (
        obj.customer_details.email if obj.customer_details else None,
        obj.customer_email,
        obj.billing_details.email if obj.billing_details else None,
        obj.receipt_email,
    ):
        if clean(candidate):
            return clean(candidate)
    return None


def _amount(obj: StripeObject, event_type: str) -> int | None:
    picks: dict[str, Callable[[StripeObject], int | None]] = {
        "checkout_session": lambda o: o.amount_total,
        "invoice": lambda o: o.amount_due if event_type == "invoice.payment_failed" else o.amount_paid,
        "charge": lambda o: o.amount_refunded if event_type == "charge.refunded" else o.amount,
        "payment_intent": lambda o: o.amount_received if o.amount_received is not None else o.amount,
    }
    kind = (obj.object or "").replace(".", "_")
    pick = picks.get(kind)
    return pick(obj) if pick else None


def _skip(body: Any, ctx: MapContext) -> MapResult | None:
    """The skip for a type this source does not map (only its head is read, never its object); None to map it."""
    kind = body.get("type") if isinstance(body, dict) else None
    if isinstance(kind, str) and ctx.unmapped(kind) is None:
        return None
    head = parse_model(StripeEventHead, body, "Stripe event")
    return ctx.unmapped(head.type)


class StripeSource(HmacSource):
    name: ClassVar[str] = "stripe"
    title: ClassVar[str] = "Stripe"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="stripe-signature",
        display_header="Stripe-Signature",
        signed="{t}.{body}",
        layout="kv",
        encoding="hex",
        tolerance=300,
    )
    options_model: ClassVar[type[BaseModel]] = StripeOptions
    events: ClassVar[dict[str, str]] = {
        "checkout.session.completed": "Checkout Completed",
        "checkout.session.async_payment_succeeded": "Checkout Payment Succeeded",
        "invoice.paid": "Invoice Paid",
        "invoice.payment_failed": "Invoice Payment Failed",
        "customer.subscription.created": "Subscription Created",
        "customer.subscription.updated": "Subscription Updated",
        "customer.subscription.deleted": "Subscription Canceled",
        "charge.refunded": "Charge Refunded",
        "payment_intent.succeeded": "Payment Succeeded",
    }

    def webhook_id(self, request: InboundRequest) -> str:
        data = request.json()
        require(isinstance(data, dict), "not a Stripe event: expected a JSON object")
        event_id = data.get("id")
        require(isinstance(event_id, str) and event_id.strip(), "not a Stripe event: missing id")
        require(isinstance(data.get("type"), str) and data["type"].strip(), "not a Stripe event: missing type")
        return require_id(event_id, "not a Stripe event: bad id", max_length=250)

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        body = envelope.json_body()
        if (skipped := _skip(body, ctx)) is not None:
            return skipped
        event = parse_model(StripeEvent, body, "Stripe event")  # the one validation of a mapped event
        options = ctx.options(StripeOptions)
        obj = event.data.object

        external_id = None
        if options.external_id_metadata_key:
            external_id = clean((obj.metadata or {}).get(options.external_id_metadata_key))
        external_id = external_id or clean(obj.client_reference_id) or clean(obj.customer)

        details = obj.customer_details or obj.billing_details
        first, last = split_name((details.name if details else None) or obj.customer_name)
        address = (details.address if details else None) or obj.customer_address
        user_properties = compact(
            {
                "first_name": first,
                "last_name": last,
                "phone_number": clean((details.phone if details else None) or obj.customer_phone),
                "city": clean(address.city) if address else None,
                "state": clean(address.state) if address else None,
                "zip": clean(address.postal_code) if address else None,
                "country": clean(address.country) if address else None,
            }
        )
        minor = _amount(obj, event.type)
        prices = [item.price.id for item in (obj.items or obj.lines or ListOf()).data if item.price and item.price.id]
        event_properties = compact(
            {
                "stripe_event_id": event.id,
                "stripe_event_type": event.type,
                "object_id": obj.id,
                "customer_id": obj.customer,
                "amount_minor": minor,
                "amount": decimal_amount(minor, obj.currency),
                "currency": obj.currency.upper() if obj.currency else None,
                "mode": obj.mode,
                "status": obj.status or obj.payment_status,
                "subscription_id": obj.subscription if obj.object != "subscription" else obj.id,
                "invoice_id": obj.invoice if obj.object != "invoice" else obj.id,
                "payment_intent_id": obj.payment_intent,
                "price_ids": prices[:250] or None,
                "billing_reason": obj.billing_reason,
                "cancel_at_period_end": obj.cancel_at_period_end,
                "livemode": event.livemode if event.livemode is not None else obj.livemode,
            }
        )
        track = ctx.track(
            event.type,
            distinct_id=f"stripe:{event.id}",
            time=event.created * 1000,
            external_id=external_id,
            email=_email(obj),
            user_properties=user_properties or None,
            event_properties=event_properties,
        )
        return MapResult(event_type=event.type, events=(track,))
