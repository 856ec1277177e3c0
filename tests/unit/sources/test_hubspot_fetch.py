"""HubSpot app subscriptions with the fetch step: each item's contact fetched by ``objectId`` from the CRM API.

Shapes: the subscription events from HubSpot's Webhooks API reference (``events/hubspot``); the contact
from the CRM v3 objects API (``GET /crm/v3/objects/contacts/{id}?properties=…``), served by the local
HubSpot fake's seeded contacts (``tools/webhook_translator_tools/local/hubspot-contacts.json``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.config import SourceConfig
from webhook_translator.errors import NoApiCredential, ProviderRefused, ProviderUnavailable
from webhook_translator.fetch import FetchRequest
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.hubspot import CONTACT_PROPERTIES
from webhook_translator_tools.local.hubspot_server import LocalHubSpot


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("hubspot")


class Crm:
    """The fetch step against the local HubSpot fake's seeded contacts, in-process; records what was asked."""

    def __init__(self, fail: dict[str, Exception] | None = None) -> None:
        self.fake = LocalHubSpot()
        self.fail = fail or {}
        self.asked: list[FetchRequest] = []

    def __call__(self, request: FetchRequest) -> dict[str, Any]:
        self.asked.append(request)
        for ident, error in self.fail.items():
            if request.path.endswith("/" + ident):
                raise error
        answer = self.fake.route(request.path, dict(request.params), {"authorization": "Bearer t"})
        if answer.status != 200:
            raise ProviderRefused("contact unknown", reason="provider_not_found")
        return dict(answer.body)


def mapped(h: Any, body: Any, fetch: Any, config: dict[str, Any] | None = None) -> MapResult:
    ctx = MapContext(source=h.source, now_ms=h.now_ms, config=SourceConfig.model_validate(config or {}), fetcher=fetch)
    return h.source.map(h.envelope(body), ctx)  # type: ignore[no-any-return]


def test_each_items_contact_is_fetched_and_mapped_with_only_the_chosen_properties(h: Any) -> None:
    crm = Crm()
    result = mapped(h, h.body("subscription_batch"), crm)
    # Then the two mapped items asked for their contacts (the skipped name change did not), with the token's API
    assert [r.path for r in crm.asked] == ["/crm/v3/objects/contacts/9101", "/crm/v3/objects/contacts/9051"]
    assert all(r.base_url == "https://api.hubapi.com" and r.auth == "bearer" for r in crm.asked)
    assert crm.asked[0].params["properties"] == CONTACT_PROPERTIES
    created, customer = (e.to_ours() for e in result.events)
    assert created["distinctId"] == "hubspot:1794"
    assert created["email"] == "priya.raman@example.com"
    assert created["externalId"] == "9101"
    assert created["userProperties"]["first_name"] == "Priya"
    assert created["eventProperties"]["lifecyclestage"] == "lead"
    # the propertyChange keeps the stage the event set; mobilephone is the phone when phone is empty
    assert customer["eventProperties"]["lifecyclestage"] == "customer"
    assert customer["userProperties"]["phone_number"] == "+15555550188"
    # free-text properties the record holds are never read, let alone forwarded
    assert "message" not in CONTACT_PROPERTIES.split(",")
    assert "insurance" not in str(result.events)


def test_api_base_url_points_the_fetch_elsewhere(h: Any) -> None:
    crm = Crm()
    mapped(h, h.body("subscription_batch")[:1], crm, {"options": {"api_base_url": "http://127.0.0.1:9/"}})
    assert crm.asked[0].base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize("fetch", [None, "no-credential"])
def test_without_a_token_the_contact_id_alone_is_the_identity(h: Any, fetch: Any) -> None:
    # Given no fetch step (translate without one) or a secret entry without an api_token
    if fetch == "no-credential":
        fetch = Crm(fail={"9101": NoApiCredential("no token"), "9051": NoApiCredential("no token")})
    result = mapped(h, h.body("subscription_batch"), fetch)
    # Then today's mapping: the contact id as externalId, nothing personal
    bodies = [e.to_ours() for e in result.events]
    assert [b["externalId"] for b in bodies] == ["9101", "9051"]
    assert not any("email" in b or "userProperties" in b for b in bodies)
    assert not result.failures


def test_with_the_contact_fetched_external_id_none_keeps_the_email(h: Any) -> None:
    result = mapped(h, h.body("subscription_batch")[:1], Crm(), {"options": {"external_id": "none"}})
    [event] = (e.to_ours() for e in result.events)
    assert "externalId" not in event
    assert event["email"] == "priya.raman@example.com"


def test_one_items_failed_fetch_is_its_own_outcome(h: Any) -> None:
    # Given three contacts created, the second one's fetch rate-limited and the third one unknown
    unavailable = ProviderUnavailable("rate limited", delay=30.0, reason="provider_rate_limited")
    crm = Crm(fail={"9102": unavailable})
    body = h.body("subscription_contacts")
    body[2]["objectId"] = 9999
    result = mapped(h, body, crm)
    # Then the first is delivered; each failure keeps its own kind; the record waits for the retryable one
    assert [e.to_ours()["distinctId"] for e in result.events] == ["hubspot:1801"]
    assert [f.reason for f in result.failures] == ["provider_rate_limited", "provider_not_found"]
    assert result.failure() is unavailable


def test_a_contact_answer_without_properties_is_a_mapping_error_of_that_item(h: Any) -> None:
    result = mapped(h, h.body("subscription_contacts")[:2], lambda r: {"id": "1"})
    assert not result.events
    assert [f.reason for f in result.failures] == ["invalid_payload", "invalid_payload"]
