"""The Stripe mapping card, rule by rule (sources.md): identity, names, address, amounts, skips and configuration."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from support.apigw import sample
from webhook_translator.config import SourceConfig
from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.stripe import StripeSource

NOW_MS = 1_795_000_000_000
SOURCE = StripeSource()


def body_of(name: str, **object_changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(sample(f"stripe/{name}.json")["body"])
    body["data"]["object"].update(object_changes)
    return body


def map_body(body: Any, config: SourceConfig | None = None) -> MapResult:
    envelope = Envelope.wrap(
        source="stripe",
        webhook_id=str(body.get("id", "x")) if isinstance(body, dict) else "x",
        received_at=datetime.fromtimestamp(NOW_MS / 1000, UTC),
        content_type="application/json",
        body=json.dumps(body).encode(),
    )
    return SOURCE.map(envelope, MapContext(source=SOURCE, now_ms=NOW_MS, config=config or SourceConfig()))


def one(body: Any, config: SourceConfig | None = None) -> dict[str, Any]:
    result = map_body(body, config)
    assert result.skipped is None
    [event] = result.events
    return event.to_ours()


@pytest.mark.parametrize(
    ("name", "event", "email"),
    [
        ("checkout-session-completed", "Checkout Completed", "jane.doe@example.com"),
        ("checkout-session-async-payment-succeeded", "Checkout Payment Succeeded", "kenji@example.jp"),
        ("invoice-paid", "Invoice Paid", "jane.doe@example.com"),
        ("invoice-payment-failed", "Invoice Payment Failed", "jane.doe@example.com"),
        ("customer-subscription-created", "Subscription Created", None),
        ("customer-subscription-updated", "Subscription Updated", None),
        ("customer-subscription-deleted", "Subscription Canceled", None),
        ("charge-refunded", "Charge Refunded", "max@example.de"),
        ("payment-intent-succeeded", "Payment Succeeded", "bob@example.com"),
    ],
)
def test_each_mapped_type_gets_its_event_name_email_distinct_id_and_time(
    name: str, event: str, email: str | None
) -> None:
    # Given a sample of each mapped event type
    body = body_of(name)
    # When it is mapped
    out = one(body)
    # Then the event name, the email from where that object keeps it, the id and the time follow the card
    assert out["event"] == event
    assert out.get("email") == email
    assert out["distinctId"] == f"stripe:{body['id']}"
    assert out["time"] == body["created"] * 1000
    assert out["eventProperties"]["stripe_event_id"] == body["id"]


def test_external_id_prefers_the_configured_metadata_key_then_client_reference_id_then_customer() -> None:
    # Given a checkout session with all three
    body = body_of("checkout-session-completed", metadata={"app_user": "u-meta"})
    configured = SourceConfig(options={"external_id_metadata_key": "app_user"})
    # Then the configured metadata key wins, client_reference_id comes next, the customer id last
    assert one(body, configured)["externalId"] == "u-meta"
    assert one(body)["externalId"] == "user_8431"
    assert one(body_of("checkout-session-completed", client_reference_id=None))["externalId"] == "cus_SampleJane01"
    # and a configured key that the object lacks falls back the same way
    assert one(body_of("checkout-session-completed"), configured)["externalId"] == "user_8431"


def test_names_phone_and_address_go_to_user_properties() -> None:
    out = one(body_of("checkout-session-completed"))
    assert out["userProperties"] == {
        "first_name": "Jane",
        "last_name": "Q. Doe",
        "phone_number": "+15125550123",
        "city": "Austin",
        "state": "TX",
        "zip": "78701",
        "country": "US",
    }


@pytest.mark.parametrize(
    ("name", "changes", "minor", "amount", "currency"),
    [
        ("checkout-session-completed", {}, 4900, 49.0, "USD"),
        ("checkout-session-async-payment-succeeded", {}, 120000, 120000.0, "JPY"),
        ("invoice-payment-failed", {}, 4900, 49.0, "USD"),
        ("charge-refunded", {}, 2450, 24.5, "EUR"),
        ("payment-intent-succeeded", {"currency": "kwd", "amount_received": 1234}, 1234, 1.234, "KWD"),
    ],
)
def test_amounts_are_sent_in_minor_units_and_as_decimals(
    name: str, changes: dict[str, Any], minor: int, amount: float, currency: str
) -> None:
    props = one(body_of(name, **changes))["eventProperties"]
    assert (props["amount_minor"], props["amount"], props["currency"]) == (minor, amount, currency)


def test_subscription_ids_and_prices_are_properties() -> None:
    props = one(body_of("customer-subscription-updated"))["eventProperties"]
    assert props["subscription_id"] == "sub_SamplePro01"
    assert props["price_ids"] == ["price_SamplePro"]
    assert props["status"] == "past_due"
    assert props["cancel_at_period_end"] is True


def test_unknown_values_are_omitted_never_null() -> None:
    # Given a charge with no customer, no phone, no state
    out = one(body_of("charge-refunded"))
    # Then none of those keys is sent at all
    assert "externalId" not in out
    assert "state" not in out["userProperties"]
    assert "phone_number" not in out["userProperties"]
    assert None not in out["eventProperties"].values()


@pytest.mark.parametrize(
    ("config", "reason"),
    [(SourceConfig(), "ignored_type"), (SourceConfig(drop=frozenset({"customer.created"})), "dropped_by_config")],
)
def test_unmapped_types_are_skipped(config: SourceConfig, reason: str) -> None:
    result = map_body(body_of("customer-created-ignored"), config)
    assert (result.event_type, result.events, result.skipped) == ("customer.created", (), reason)


def test_configuration_renames_and_drops_mapped_types() -> None:
    # Given a rename by provider type and a drop of another mapped type
    config = SourceConfig(rename={"invoice.paid": "Renewal Paid"}, drop=frozenset({"charge.refunded"}))
    # Then the Ours event name changes, and the dropped type is skipped
    assert one(body_of("invoice-paid"), config)["event"] == "Renewal Paid"
    assert map_body(body_of("charge-refunded"), config).skipped == "dropped_by_config"


def test_a_rename_may_name_the_default_ours_event() -> None:
    config = SourceConfig(rename={"Invoice Paid": "Paid"})
    assert one(body_of("invoice-paid"), config)["event"] == "Paid"


@pytest.mark.parametrize(
    "body",
    [{"id": "evt_1", "type": "invoice.paid"}, {"id": "evt_1", "type": "invoice.paid", "created": 1, "data": 5}, [1]],
    ids=["no created", "data not an object", "not an object"],
)
def test_a_malformed_event_is_a_permanent_mapping_error(body: Any) -> None:
    with pytest.raises(MappingError) as caught:
        map_body(body)
    assert caught.value.reason == "invalid_payload"


def test_unknown_options_are_refused_clearly() -> None:
    config = SourceConfig(options={"no_such_option": 1})
    with pytest.raises(MappingError, match="invalid options for source 'stripe'"):
        map_body(body_of("invoice-paid"), config)


def test_null_metadata_is_unknown_not_malformed() -> None:
    # Given objects whose metadata Stripe sends as null (it is optional on sessions and invoices)
    body = body_of("checkout-session-completed", metadata=None)
    configured = SourceConfig(options={"external_id_metadata_key": "app_user"})
    # Then the event still maps, falling back past the metadata key
    assert one(body, configured)["externalId"] == "user_8431"


def test_an_unmapped_type_is_skipped_before_its_object_is_read() -> None:
    # Given an event type the translator ignores, whose object does not fit the models at all
    body = body_of("customer-created-ignored")
    body["data"] = {"object": {"metadata": "not-an-object", "amount": "many"}}
    # Then it is skipped, not dead-lettered
    assert map_body(body).skipped == "ignored_type"


def test_a_mapped_type_must_carry_a_distinct_id() -> None:
    # Given a (buggy) mapper that forgets distinctId
    from webhook_translator.sources.context import MapContext as Ctx

    ctx = Ctx(source=SOURCE, now_ms=NOW_MS)
    # Then building the event refuses, naming the mapper, not the payload
    with pytest.raises(MappingError) as caught:
        ctx.track("invoice.paid", email="a@example.com")
    assert caught.value.reason == "mapper_error"
