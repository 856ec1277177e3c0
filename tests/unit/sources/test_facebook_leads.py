"""Facebook Lead Ads: ``X-Hub-Signature-256``, the leads of one POST, the Graph lead mapped per the card.

Shapes: the webhook from Meta's Webhooks reference (Page object, ``leadgen`` field); the lead from the
Lead Ads "Retrieving leads" guide (``field_data[]`` of ``{"name", "values"}``), served by the local Graph
fake's seeded leads (``tools/webhook_translator_tools/local/graph-leads.json``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.config import SourceConfig
from webhook_translator.errors import BadRequest, ProviderRefused, SignatureError
from webhook_translator.fetch import FetchRequest
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator_tools.local.graph_server import LocalGraph

SECRET = "meta-app-secret-1"
LEAD, SECOND = "2120387161554301", "2120387161554302"


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("facebook-leads")


def body(*lead_ids: str, created: int = 1_794_999_000) -> bytes:
    changes = [
        {"field": "leadgen", "value": {"leadgen_id": i, "page_id": "104", "created_time": created}} for i in lead_ids
    ]
    return json.dumps({"object": "page", "entry": [{"id": "104", "time": created, "changes": changes}]}).encode()


def signed(raw: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"X-Hub-Signature-256": "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()}


class Graph:
    """The fetch step against the local Graph fake's seeded leads, in-process; records what was asked."""

    def __init__(self, leads: dict[str, Any] | None = None) -> None:
        self.fake = LocalGraph(leads=leads) if leads is not None else LocalGraph()
        self.asked: list[FetchRequest] = []

    def __call__(self, request: FetchRequest) -> dict[str, Any]:
        self.asked.append(request)
        answer = self.fake.route(request.path, dict(request.params), {"authorization": "Bearer t"})
        if answer.status != 200:
            raise ProviderRefused("lead unknown", reason="provider_not_found")
        return dict(answer.body)


def mapped(h: Any, raw: bytes, fetch: Any = None, config: dict[str, Any] | None = None) -> MapResult:
    ctx = MapContext(
        source=h.source,
        now_ms=h.now_ms,
        config=SourceConfig.model_validate(config or {}),
        fetcher=fetch if fetch is not None else Graph(),
    )
    return h.source.map(h.envelope(raw), ctx)  # type: ignore[no-any-return]


# --- signature and ids ---------------------------------------------------------------------------


def test_githubs_documented_vector_verifies_under_the_same_scheme(h: Any) -> None:
    # X-Hub-Signature-256 is GitHub's scheme too: its documented known answer
    raw = b"Hello, World!"
    header = {"X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"}
    h.source.verify(h.request(raw, header), ["It's a Secret to Everybody"])


@pytest.mark.parametrize(
    ("case", "headers"),
    [
        pytest.param("missing", {}, id="missing"),
        pytest.param("no prefix", {"X-Hub-Signature-256": "0" * 64}, id="no-prefix"),
        pytest.param("other secret", signed(body(LEAD), "another"), id="other-secret"),
    ],
)
def test_a_bad_signature_is_refused(h: Any, case: str, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        h.source.verify(h.request(body(LEAD), headers), [SECRET])


def test_a_signed_post_is_queued_under_its_leadgen_id(h: Any) -> None:
    raw = body(LEAD)
    status, answer, envelope = h.receive(raw, {"Content-Type": "application/json", **signed(raw)}, secrets=[SECRET])
    assert (status, answer) == (200, {"received": True, "id": LEAD})
    assert envelope is not None


def test_several_leads_are_queued_as_one_webhook_keyed_on_the_body(h: Any) -> None:
    raw = body(LEAD, SECOND)
    status, answer, _ = h.receive(raw, {"Content-Type": "application/json", **signed(raw)}, secrets=[SECRET])
    assert status == 200
    assert answer["id"].startswith("sha256:")


@pytest.mark.parametrize(
    "raw",
    [b"[]", b'{"object":"page"}', b'{"object":"page","entry":[{"changes":[{"field":"leadgen","value":{}}]}]}'],
    ids=["array", "no entry", "no leadgen_id"],
)
def test_a_malformed_page_webhook_is_a_400(h: Any, raw: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(raw))


# --- mapping -----------------------------------------------------------------------------------------


def test_a_lead_is_fetched_and_mapped_per_the_card(h: Any) -> None:
    graph = Graph()
    result = mapped(h, body(LEAD), graph)
    [event] = [e.to_ours() for e in result.events]
    # the Graph fetch asked for the card's fields, at the configured base
    [asked] = graph.asked
    assert asked.path == f"/{LEAD}"
    assert asked.base_url == "https://graph.facebook.com/v21.0"
    assert "field_data" in asked.params["fields"]
    # identity, name and ad ids; distinctId from leadgen_id; time from created_time (s)
    assert event["event"] == "Lead Submitted"
    assert event["distinctId"] == f"facebook-leads:{LEAD}"
    assert event["time"] == 1_794_999_000_000
    assert event["email"] == "morgan.okafor@example.com"
    user = event["userProperties"]
    assert (user["first_name"], user["last_name"], user["phone_number"]) == ("Morgan", "Okafor", "+15555550142")
    assert (user["ad_id"], user["adset_id"], user["campaign_id"]) == (
        "120210987654320011",
        "120210987654320022",
        "120210987654320033",
    )
    # a custom question's free-text answer is never forwarded
    assert "diabetes" not in json.dumps(event)


def test_a_custom_question_is_forwarded_only_through_field_map(h: Any) -> None:
    [event] = mapped(h, body(SECOND), config={"options": {"field_map": {"customer_number": "external_id"}}}).events
    assert event.to_ours()["externalId"] == "C-20931"
    [plain] = mapped(h, body(SECOND)).events
    assert "C-20931" not in json.dumps(plain.to_ours())


def test_each_lead_has_its_own_outcome(h: Any) -> None:
    # Given a POST with a known lead, a deleted one and one without any identity
    leads = dict(LocalGraph().leads)
    leads["2120387161550000"] = {"field_data": [{"name": "full_name", "values": ["Nobody Known"]}]}
    result = mapped(h, body(LEAD, "2120387161559999", "2120387161550000"), Graph(leads))
    # Then the known lead maps, the two others fail on their own, in order
    assert [e.distinct_id for e in result.events] == [f"facebook-leads:{LEAD}"]
    assert [f.reason for f in result.failures] == ["provider_not_found", "no_identity"]
    assert result.failure() is not None
    assert result.failure().reason == "provider_not_found"  # type: ignore[union-attr]


def test_a_lead_repeated_in_one_post_is_mapped_once(h: Any) -> None:
    assert len(mapped(h, body(LEAD, LEAD)).events) == 1


def test_without_a_fetch_step_each_lead_fails_as_a_mapper_error(h: Any) -> None:
    ctx = MapContext(source=h.source, now_ms=h.now_ms)
    result = h.source.map(h.envelope(body(LEAD)), ctx)
    assert [f.reason for f in result.failures] == ["mapper_error"]


def test_another_object_or_field_is_skipped_without_a_fetch(h: Any) -> None:
    graph = Graph()
    other = json.dumps({"object": "page", "entry": [{"changes": [{"field": "feed", "value": {"item": "post"}}]}]})
    assert mapped(h, other.encode(), graph).skipped == "ignored_type"
    assert mapped(h, b'{"object":"user","entry":[]}', graph).skipped == "ignored_type"
    assert mapped(h, body(LEAD), graph, config={"drop": ["leadgen"]}).skipped == "dropped_by_config"
    assert graph.asked == []


def test_api_base_url_must_be_an_http_url(h: Any) -> None:
    from webhook_translator.config import TranslatorConfig
    from webhook_translator.sources.registry import REGISTRY
    from webhook_translator.translator_config import ConfigInvalid, check

    bad = TranslatorConfig.model_validate({"sources": {"facebook-leads": {"options": {"api_base_url": "ftp://x"}}}})
    with pytest.raises(ConfigInvalid, match=r"sources\.facebook-leads\.options: invalid \(api_base_url\)"):
        check(bad, REGISTRY)
