"""Stripe v2 thin events (``object: "v2.core.event"``): the related object fetched, then mapped as today.

Shapes: Stripe's "Event destinations" / thin events docs (``id``, ``type`` with its ``v1.`` prefix,
``created`` RFC 3339, ``related_object {id, type, url}``); the objects are those of the snapshot samples
(``events/stripe``), served by the local Stripe fake (``tools/webhook_translator_tools/local/stripe-objects.json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from webhook_translator.errors import MappingError, ProviderRefused
from webhook_translator.fetch import FetchRequest
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator_tools.local.stripe_server import LocalStripe

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "stripe"


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("stripe")


class Api:
    def __init__(self) -> None:
        self.fake = LocalStripe()
        self.asked: list[FetchRequest] = []

    def __call__(self, request: FetchRequest) -> dict[str, Any]:
        self.asked.append(request)
        answer = self.fake.route(request.path, {}, {"authorization": "Bearer rk_test_x"})
        if answer.status != 200:
            raise ProviderRefused("unknown", reason="provider_not_found")
        return dict(answer.body)


def mapped(h: Any, body: Any, fetch: Any) -> MapResult:
    ctx = MapContext(source=h.source, now_ms=h.now_ms, fetcher=fetch)
    return h.source.map(h.envelope(body), ctx)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("thin", "snapshot"),
    [("thin-checkout-session-completed", "checkout-session-completed"), ("thin-invoice-paid", "invoice-paid")],
)
def test_a_thin_event_maps_exactly_as_the_snapshot_event_of_its_object(h: Any, thin: str, snapshot: str) -> None:
    api = Api()
    [event] = (e.to_ours() for e in mapped(h, h.body(thin), api).events)
    [expected] = json.loads((GOLDEN / f"{snapshot}.json").read_text())
    # the same mapping; only the event's own id and time differ
    body = h.body(thin)
    assert event["distinctId"] == f"stripe:{body['id']}"
    assert event["eventProperties"].pop("stripe_event_id") == body["id"]
    expected["eventProperties"].pop("stripe_event_id")
    for key in ("distinctId", "time"):
        event.pop(key), expected.pop(key)
    assert event == expected
    assert [r.path for r in api.asked] == [body["related_object"]["url"]]
    assert api.asked[0].base_url == "https://api.stripe.com"


def test_a_thin_event_of_an_unmapped_type_is_skipped_without_a_fetch(h: Any) -> None:
    api = Api()
    result = mapped(h, h.body("thin-meter-error-ignored"), api)
    assert result.skipped == "ignored_type"
    assert api.asked == []


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/v1/x", "/v1/../admin", "/v1/invoices/in_1?expand=x", "/v3/things/x", "v1/invoices/x", ""],
)
def test_a_related_object_url_outside_the_api_is_refused_without_a_fetch(h: Any, url: str) -> None:
    api = Api()
    body = h.body("thin-invoice-paid")
    body["related_object"]["url"] = url
    with pytest.raises(MappingError) as caught:
        mapped(h, body, api)
    assert getattr(caught.value, "reason", None) == "invalid_payload"
    assert api.asked == []


def test_an_unprefixed_type_and_an_epoch_created_are_accepted(h: Any) -> None:
    body = h.body("thin-invoice-paid")
    body["type"], body["created"] = "invoice.paid", h.now_s - 60
    [event] = (e.to_ours() for e in mapped(h, body, Api()).events)
    assert event["event"] == "Invoice Paid"
    assert event["time"] == (h.now_s - 60) * 1000


def test_without_a_fetch_step_a_thin_event_is_a_mapper_error(h: Any) -> None:
    with pytest.raises(MappingError) as caught:
        mapped(h, h.body("thin-invoice-paid"), None)
    assert getattr(caught.value, "reason", None) == "mapper_error"
