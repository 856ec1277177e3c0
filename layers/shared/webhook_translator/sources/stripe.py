"""Stripe — ``POST /webhooks/stripe``.

Signature: ``Stripe-Signature: t=<s>,v1=<hex>[,v1=…][,v0=…]`` over ``{t}.{body}``,
HMAC-SHA256 hex, the ``whsec_…`` secret used verbatim, any ``v1`` may match,
``v0`` ignored, timestamps older than 300 s refused.

Ids: the event id (``evt_…``) is the webhook id; ``distinctId`` = ``stripe:{evt}``;
``time`` = ``created`` × 1000. Stripe retries for days and may deliver twice or
out of order: the deterministic ``distinctId`` makes that harmless.

Shapes: every field is read from whichever API version's shape the event carries —
2020s versions through the current one (:mod:`.stripe_shapes` lists where each moved).

Identity: ``externalId`` from a configurable metadata key (option
``external_id_metadata_key``: the object's metadata, then an invoice's copy of its
subscription's), else ``client_reference_id`` (checkout), else the Stripe customer id.
Email from where each object keeps it (checkout ``customer_details``, invoice
``customer_email``, charge ``billing_details`` / ``receipt_email``, a payment intent's
``receipt_email`` or its old ``charges.data[]``). Names, phone and address into
``userProperties``, and Checkout's collected consent under option ``consent``
(``{"promotions": "marketing"}``); amounts, currency and ids into ``eventProperties``.
Every other event type is acknowledged and skipped.

**Thin events** (``object: "v2.core.event"``, an event destination's "thin" payload: ``id``, ``type``,
``created`` (RFC 3339), ``related_object: {id, type, url}``) come to the same source, signed the
same way (add the destination's ``whsec_…`` to ``signing_secrets``). For a mapped type (``v1.``
prefix or not) the related object is fetched (``GET {api_base_url}{related_object.url}``, a restricted
key with read access in ``api_token``) and mapped exactly as the snapshot event's ``data.object``;
``distinctId`` = ``stripe:{evt}`` as well. The object is its state when fetched, not at the event.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.fetch import FetchRequest
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, ModelRef, require, require_id
from webhook_translator.sources.common import (
    clean,
    compact,
    decimal_amount,
    iso_to_ms,
    split_name,
)
from webhook_translator.sources.context import MapContext, MapResult, from_json_text, parse_model
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.sources import stripe_models as models
    from webhook_translator.sources.stripe_models import StripeEvent, StripeOptions
    from webhook_translator.sources.stripe_shapes import Address, StripeObject
else:  # the pydantic models: imported by the forwarder's first Stripe webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.stripe_models")


THIN_EVENT = "v2.core.event"
DEFAULT_API_URL = "https://api.stripe.com"
#: a related object's API path (``/v1/checkout/sessions/cs_…``): nothing that could leave the API's tree
_OBJECT_PATH = re.compile(r"/v[12](?:/[A-Za-z0-9_][A-Za-z0-9_.-]{0,249})+")


#: object kind → its amount in minor units for an event type (the kind's "." read as "_")
_AMOUNTS: dict[str, Callable[[StripeObject, str], int | None]] = {
    "checkout_session": lambda o, _: o.amount_total,
    "invoice": lambda o, t: o.amount_due if t == "invoice.payment_failed" else o.amount_paid,
    "charge": lambda o, t: o.amount_refunded if t == "charge.refunded" else o.amount,
    "payment_intent": lambda o, _: o.amount_received if o.amount_received is not None else o.amount,
}


def _amount(obj: StripeObject, event_type: str) -> int | None:
    pick = _AMOUNTS.get((obj.object or "").replace(".", "_"))
    return pick(obj, event_type) if pick else None


def _snapshot_event(envelope: Envelope) -> StripeEvent | None:
    """The body as a snapshot event of the expected shape, read straight from its JSON text; None for
    anything else (a thin event, a shape the model refuses, bytes to decode): :meth:`StripeSource.map`
    then takes the path over the parsed body, whose refusals are the ones users see."""
    event = from_json_text(models.StripeEvent, envelope)
    return event if event is not None and event.object != THIN_EVENT else None


def _skip(body: Any, ctx: MapContext) -> MapResult | None:
    """The skip for a type this source does not map (only its head is read, never its object); None to map it."""
    kind = body.get("type") if isinstance(body, dict) else None
    if isinstance(kind, str) and ctx.unmapped(kind) is None:
        return None
    head = parse_model(models.StripeEventHead, body, "Stripe event")
    return ctx.unmapped(head.type)


# --- the mapper's steps: identity → user properties → event properties ---------------------------


def _external_id(obj: StripeObject, options: StripeOptions) -> str | None:
    """The merchant's own id: the configured metadata key, then the client reference, then the customer."""
    from_metadata = None
    if key := options.external_id_metadata_key:
        from_metadata = clean((obj.metadata or {}).get(key)) or clean(obj.subscription_metadata().get(key))
    return from_metadata or clean(obj.client_reference_id) or clean(obj.customer)


def _user_properties(obj: StripeObject, options: StripeOptions) -> dict[str, Any]:
    """Name, phone and place of the customer: the checkout/billing details first, then the invoice's customer;
    the configured consent. Only what is known (in ``userProperties``' order)."""
    details = obj.details()
    name, phone, address = (details.name, details.phone, details.address) if details else (None, None, None)
    first, last = split_name(name or obj.customer_name)
    found: dict[str, Any] = {}
    if first is not None:
        found["first_name"] = first
    if last is not None:
        found["last_name"] = last
    if (phone := clean(phone or obj.customer_phone)) is not None:
        found["phone_number"] = phone
    if (address := address or obj.customer_address) is not None:
        _place(address, found)
    if options.consent and (consent := _consent(obj, options)):
        found["consent"] = consent
    return found


def _consent(obj: StripeObject, options: StripeOptions) -> dict[str, bool]:
    """Checkout's collected consent (``consent.promotions``…) under the configured Ours consent keys."""
    from webhook_translator.sources.identity import consent_value  # the form sources' rules; forwarder-only

    given = obj.consent or {}
    found = {key: consent_value(given.get(field)) for field, key in options.consent.items()}
    return {key: value for key, value in found.items() if value is not None}


def _place(address: Address, into: dict[str, Any]) -> None:
    """The address's city, state, zip and country (those known) into ``into``."""
    for key, value in (
        ("city", address.city),
        ("state", address.state),
        ("zip", address.postal_code),
        ("country", address.country),
    ):
        if (kept := clean(value)) is not None:
            into[key] = kept


def _event_properties(event: StripeEvent, obj: StripeObject) -> dict[str, Any]:
    """Ids, amounts and states of the event and its object (those known), in one object."""
    minor = _amount(obj, event.type)
    currency = obj.currency
    kind = obj.object
    return compact(
        {
            "stripe_event_id": event.id,
            "stripe_event_type": event.type,
            "object_id": obj.id,
            "customer_id": obj.customer,
            "amount_minor": minor,
            "amount": decimal_amount(minor, currency) if minor is not None else None,
            "currency": currency.upper() if currency else None,
            "mode": obj.mode,
            "status": obj.status or obj.payment_status,
            # the subscription, invoice, payment intent and prices it belongs to (itself for its kind)
            "subscription_id": obj.subscription_id(),
            "invoice_id": obj.id if kind == "invoice" else obj.invoice,
            "payment_intent_id": obj.payment_intent_id() if kind != "payment_intent" else None,
            "price_ids": obj.price_ids()[:250] or None,
            "billing_reason": obj.billing_reason,
            "cancel_at_period_end": obj.cancel_at_period_end,
            "livemode": event.livemode if event.livemode is not None else obj.livemode,
        }
    )


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
    options_model = ModelRef("webhook_translator.sources.stripe_models:StripeOptions")
    fetches: ClassVar[bool] = True  # thin events only
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
        if (event := _snapshot_event(envelope)) is not None and ctx.unmapped(event.type) is None:
            return self._map_event(event, ctx)  # the common case: read and validated in one pass
        body = envelope.json_body()
        if isinstance(body, dict) and body.get("object") == THIN_EVENT:
            return self._map_thin(body, ctx)
        if (skipped := _skip(body, ctx)) is not None:
            return skipped
        return self._map_event(parse_model(models.StripeEvent, body, "Stripe event"), ctx)  # the one validation

    def _map_event(self, event: StripeEvent, ctx: MapContext) -> MapResult:
        options = ctx.options(models.StripeOptions)
        obj = event.data.object
        track = ctx.track(  # the fields in TrackEvent's order: read without a reordering
            event.type,
            external_id=_external_id(obj, options),
            email=obj.email(),
            distinct_id=f"stripe:{event.id}",
            time=event.created * 1000,
            event_properties=_event_properties(event, obj),
            user_properties=_user_properties(obj, options) or None,
        )
        return MapResult(event_type=event.type, events=(track,))

    def _map_thin(self, body: dict[str, Any], ctx: MapContext) -> MapResult:
        """A thin event: its related object fetched, then mapped as a snapshot event of the same type."""
        kind = str(body.get("type") or "").removeprefix("v1.")
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        thin = parse_model(models.ThinEvent, body, "Stripe thin event")
        url = thin.related_object.url
        if not _OBJECT_PATH.fullmatch(url) or ".." in url:
            raise MappingError("Stripe thin event does not match the expected shape (related_object.url)")
        options = ctx.options(models.StripeOptions)
        answer = ctx.fetch(FetchRequest(source=self.name, base_url=options.api_base_url, path=url, what="object"))
        created = thin.created if isinstance(thin.created, int) else iso_to_ms(thin.created) // 1000
        snapshot = {"id": thin.id, "type": kind, "created": created, "livemode": thin.livemode}
        event = parse_model(models.StripeEvent, {**snapshot, "data": {"object": answer}}, "Stripe related object")
        return self._map_event(event, ctx)
