"""The Stripe objects the mapper reads, across API versions — and where each version keeps a field.

Stripe pins every account (and every webhook endpoint) to an API version, and an event's
``data.object`` has that version's shape, so one endpoint sees several. Each accessor
below reads a field from whichever shape the event carries (Stripe's changelog):

* an invoice's subscription: ``subscription`` up to 2025-02-24.acacia;
  ``parent.subscription_details.subscription`` from 2025-03-31.basil;
* the subscription metadata an invoice carries: ``subscription_details.metadata`` /
  ``parent.subscription_details.metadata``;
* an invoice's payment intent: ``payment_intent`` / ``payments.data[].payment.payment_intent``;
* an invoice line's price: ``price.id`` (``plan.id`` on the oldest lines) /
  ``pricing.price_details.price``; its subscription: ``subscription`` /
  ``parent.subscription_item_details.subscription``;

and, from 2022-11-15, a payment intent's charges moved from ``charges.data[]`` to
``latest_charge`` (an id: the billing details are then only on the charge's own events).
Every field is optional: a shape that lacks one yields None, never an error.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from webhook_translator.sources.common import clean
from webhook_translator.sources.models import LaxModel


class Address(LaxModel):
    city: str | None = None
    country: str | None = None
    postal_code: str | None = None
    state: str | None = None


class Details(LaxModel):
    """``customer_details`` (checkout) and ``billing_details`` (charge)."""

    email: str | None = None
    name: str | None = None
    phone: str | None = None
    address: Address | None = None


class Price(LaxModel):
    id: str | None = None


class PriceDetails(LaxModel):
    price: str | Price | None = None


class Pricing(LaxModel):
    price_details: PriceDetails | None = None


class SubscriptionRef(LaxModel):
    subscription: str | None = None
    metadata: dict[str, Any] | None = None


class ItemParent(LaxModel):
    subscription_item_details: SubscriptionRef | None = None


class LineItem(LaxModel):
    """A subscription item or an invoice line, in any version's shape."""

    price: Price | None = None
    plan: Price | None = None
    pricing: Pricing | None = None
    subscription: str | None = None
    parent: ItemParent | None = None

    def price_id(self) -> str | None:
        if self.price and self.price.id:
            return self.price.id
        details = self.pricing.price_details if self.pricing else None
        if details is not None and details.price is not None:
            return details.price if isinstance(details.price, str) else details.price.id
        return self.plan.id if self.plan else None

    def subscription_id(self) -> str | None:
        details = self.parent.subscription_item_details if self.parent else None
        return self.subscription or (details.subscription if details else None)


class ListOf(LaxModel):
    data: list[LineItem] = Field(default_factory=list)


class InvoiceParent(LaxModel):
    subscription_details: SubscriptionRef | None = None


class PaymentRef(LaxModel):
    payment_intent: str | None = None
    charge: str | None = None


class InvoicePayment(LaxModel):
    payment: PaymentRef | None = None


class InvoicePayments(LaxModel):
    data: list[InvoicePayment] = Field(default_factory=list)


class Charge(LaxModel):
    """A payment intent's charge before 2022-11-15 (``charges.data[]``)."""

    id: str | None = None
    billing_details: Details | None = None
    receipt_email: str | None = None


class Charges(LaxModel):
    data: list[Charge] = Field(default_factory=list)


class StripeObject(LaxModel):
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
    consent: dict[str, Any] | None = None
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
    parent: InvoiceParent | None = None
    subscription_details: SubscriptionRef | None = None
    payments: InvoicePayments | None = None
    # subscription
    items: ListOf | None = None
    cancel_at_period_end: bool | None = None
    # charge / payment_intent
    billing_details: Details | None = None
    receipt_email: str | None = None
    amount: int | None = None
    amount_refunded: int | None = None
    amount_received: int | None = None
    charges: Charges | None = None
    latest_charge: str | Charge | None = None

    # --- version-tolerant reads ------------------------------------------------------------------

    def subscription_id(self) -> str | None:
        """The subscription this object is, or belongs to (any version's shape)."""
        if self.object == "subscription":
            return self.id
        details = self.parent.subscription_details if self.parent else None
        found = clean(self.subscription) or (clean(details.subscription) if details else None)
        if found:
            return found
        lines = self.lines.data if self.lines else []
        return next((sid for line in lines if (sid := line.subscription_id())), None)

    def subscription_metadata(self) -> dict[str, Any]:
        """An invoice's copy of its subscription's metadata (old: ``subscription_details``; new: ``parent``)."""
        details = (self.parent.subscription_details if self.parent else None) or self.subscription_details
        return (details.metadata if details else None) or {}

    def payment_intent_id(self) -> str | None:
        if self.object == "payment_intent":
            return self.id
        if clean(self.payment_intent):
            return clean(self.payment_intent)
        payments = self.payments.data if self.payments else []
        return next((p.payment.payment_intent for p in payments if p.payment and p.payment.payment_intent), None)

    def price_ids(self) -> list[str]:
        items = self.items or self.lines
        return [pid for item in items.data if (pid := item.price_id())] if items else []

    def first_charge(self) -> Charge | None:
        """A payment intent's charge: the expanded ``latest_charge``, or the first of the old ``charges.data``."""
        if isinstance(self.latest_charge, Charge):
            return self.latest_charge
        return self.charges.data[0] if self.charges and self.charges.data else None

    def details(self) -> Details | None:
        """Who paid: checkout's customer details, a charge's billing details, or a payment intent's charge's."""
        found = self.customer_details or self.billing_details
        if found is None and (charge := self.first_charge()) is not None:
            return charge.billing_details
        return found

    def email(self) -> str | None:
        """The payer's e-mail: the details', else the object's own (checkout, invoice, charge), else its charge's."""
        details = self.details()
        if details is not None and (found := clean(details.email)):
            return found
        if found := clean(self.customer_email) or clean(self.receipt_email):
            return found
        charge = self.first_charge()
        return clean(charge.receipt_email) if charge is not None else None
