"""Thin webhooks through the pipeline: receiver → moto SQS → forwarder → the fetch from a local provider
fake (real HTTP) → the local Ours. One webhook with several leads: each lead has its own outcome.

How several items of one webhook end: the leads that could be fetched and mapped are delivered; the
record then ends with the worst item failure (``MapResult.failures``): retried if any item is
retryable (the whole webhook comes back; delivered leads are sent again with the same distinctId,
which Ours deduplicates), else dead-lettered with the failing item's reason (a redrive fetches again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest

from support.aws import Queues, hidden_for, make_visible
from support.fetch_pipeline import FetchPipeline, running
from webhook_translator_tools.local.acuity_server import LocalAcuity
from webhook_translator_tools.local.graph_server import LocalGraph
from webhook_translator_tools.local.ours_server import LocalOurs
from webhook_translator_tools.local.provider_server import ProviderFault

NOW = 1_795_000_000
TOKEN = "ours-token-current-0123456789"
APP_SECRET = "meta-app-secret-0123456789"
PAGE_TOKEN = "page-token-EAAG-0123456789abcdef"
ACUITY_USER, ACUITY_KEY = "21934561", "acuity-api-key-0123456789"
LEADS = ("2120387161554301", "2120387161554302", "2120387161554303")
DOCUMENT = {
    "ours_token": TOKEN,
    "sources": {
        "facebook-leads": {"signing_secrets": [APP_SECRET], "api_token": PAGE_TOKEN, "verify_token": "vt-1"},
        "acuity": {"signing_secrets": [ACUITY_KEY], "api_user": ACUITY_USER, "api_token": ACUITY_KEY},
    },
}


class Pipeline(FetchPipeline):
    def __init__(self, queues: Queues, ours: LocalOurs, graph: LocalGraph, acuity: LocalAcuity) -> None:
        self.graph, self.acuity = graph, acuity
        super().__init__(queues, ours, {"facebook-leads": graph, "acuity": acuity}, document=DOCUMENT, now=NOW)

    def send_leads(self, *lead_ids: str) -> dict[str, Any]:
        changes = [
            {"field": "leadgen", "value": {"leadgen_id": i, "page_id": "104512345678901", "created_time": NOW - 60}}
            for i in lead_ids
        ]
        body = json.dumps({"object": "page", "entry": [{"id": "104512345678901", "time": NOW, "changes": changes}]})
        signature = "sha256=" + hmac.new(APP_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
        return self.send(
            "facebook-leads", body.encode(), {"Content-Type": "application/json", "X-Hub-Signature-256": signature}
        )

    def send_acuity(self, action: str, ident: str = "1203456789") -> dict[str, Any]:
        body = f"action={action}&id={ident}&calendarID=6032114&appointmentTypeID=18733412".encode()
        signature = base64.b64encode(hmac.new(ACUITY_KEY.encode(), body, hashlib.sha256).digest()).decode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Acuity-Signature": signature}
        return self.send("acuity", body, headers)


@pytest.fixture
def pipeline(aws_env: None) -> Iterator[Pipeline]:
    graph = LocalGraph(tokens={PAGE_TOKEN})
    acuity = LocalAcuity(credentials={(ACUITY_USER, ACUITY_KEY)})
    with running(DOCUMENT, {"facebook-leads": graph, "acuity": acuity}, now=NOW) as (queues, ours):
        yield Pipeline(queues, ours, graph, acuity)


def distinct(lead_id: str) -> str:
    return f"facebook-leads:{lead_id}"


# --- Facebook Lead Ads: several leads, one fetch fails --------------------------------------------------


def test_several_leads_become_one_event_each(pipeline: Pipeline) -> None:
    # Given a Meta POST with three leads
    answer = pipeline.send_leads(*LEADS)
    assert answer["id"].startswith("sha256:")  # several leads: no single provider id
    # When the forwarder takes it
    assert pipeline.poll() == {"batchItemFailures": []}
    # Then each lead was fetched and delivered once, keyed on its leadgen_id, with its identity
    assert sorted(pipeline.delivered()) == sorted(distinct(i) for i in LEADS)
    by_id = {e["distinctId"]: e for e in pipeline.ours.accepted}
    assert by_id[distinct(LEADS[0])]["email"] == "morgan.okafor@example.com"
    assert by_id[distinct(LEADS[2])]["userProperties"]["phone_number"] == "+15555550177"
    assert pipeline.queues.count() == 0


def test_a_rate_limited_lead_is_retried_after_retry_after_and_the_others_are_delivered(pipeline: Pipeline) -> None:
    graph = pipeline.graph
    # Given three leads, the Graph API rate-limiting the second one once (Retry-After: 30)
    graph.inject(ProviderFault("status", status=429, retry_after="30", times=1, match=LEADS[1]))
    pipeline.send_leads(*LEADS)
    # When the forwarder takes it
    result = pipeline.poll()
    # Then the other two are delivered, and the webhook stays on the queue for Retry-After
    assert sorted(pipeline.delivered()) == [distinct(LEADS[0]), distinct(LEADS[2])]
    assert len(result["batchItemFailures"]) == 1
    [hidden] = hidden_for(pipeline.queues)
    assert 28 <= hidden <= 32
    # When it comes back
    make_visible()
    assert pipeline.poll() == {"batchItemFailures": []}
    # Then the second lead is delivered; the first two went again with the very same distinctIds (Ours dedupes)
    assert pipeline.ours.deliveries(distinct(LEADS[1])) == 1
    assert pipeline.ours.deliveries(distinct(LEADS[0])) == 2
    assert set(pipeline.delivered()) == {distinct(i) for i in LEADS}
    assert pipeline.queues.count() == 0
    assert pipeline.dead_letters() == []


def test_a_lead_that_no_longer_exists_is_dead_lettered_and_the_others_are_delivered(pipeline: Pipeline) -> None:
    # Given three leads, the second unknown to the Graph API (deleted: 400 code 100 subcode 33)
    gone = "2120387161559999"
    pipeline.send_leads(LEADS[0], gone, LEADS[2])
    # When the forwarder takes it
    assert pipeline.poll() == {"batchItemFailures": []}
    # Then the other two are delivered and the webhook is in the DLQ, at once, as provider_not_found
    assert sorted(pipeline.delivered()) == [distinct(LEADS[0]), distinct(LEADS[2])]
    [dead] = pipeline.dead_letters()
    assert dead["MessageAttributes"]["failure_reason"]["StringValue"] == "provider_not_found"
    assert dead["MessageAttributes"]["attempts"]["StringValue"] == "1"
    assert "ours_status" not in dead["MessageAttributes"]
    assert pipeline.queues.count() == 0


def test_a_refused_page_token_dead_letters_as_provider_auth(pipeline: Pipeline) -> None:
    graph = pipeline.graph
    graph.inject(ProviderFault("status", status=401, match=LEADS[1]))
    pipeline.send_leads(LEADS[0], LEADS[1])
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.delivered() == [distinct(LEADS[0])]
    [dead] = pipeline.dead_letters()
    assert dead["MessageAttributes"]["failure_reason"]["StringValue"] == "provider_auth"


def test_a_lead_whose_fetch_keeps_failing_is_dead_lettered_on_the_last_receive(pipeline: Pipeline) -> None:
    graph = pipeline.graph
    # Given the Graph API failing for one of two leads on every call: 503, then a hang, then a reset
    graph.inject(ProviderFault("status", status=503, times=1, match=LEADS[1]))
    graph.inject(ProviderFault("hang", delay=3, times=1, match=LEADS[1]))
    graph.inject(ProviderFault("reset", times=1, match=LEADS[1]))
    pipeline.send_leads(LEADS[0], LEADS[1])
    # When it is received as often as the queue allows (maxReceiveCount 3: the backstop below the budget)
    pipeline.use(MAX_RECEIVE_COUNT=3, OUTAGE_BUDGET_SECONDS=1800)
    for _ in range(3):
        pipeline.poll()
        make_visible()
    # Then the healthy lead went to Ours on every attempt with one distinctId, and the webhook is in the DLQ
    assert pipeline.delivered() == [distinct(LEADS[0])] * 3
    assert pipeline.ours.deliveries(distinct(LEADS[1])) == 0
    [dead] = pipeline.dead_letters()
    assert dead["MessageAttributes"]["failure_reason"]["StringValue"] == "provider_unavailable"
    assert dead["MessageAttributes"]["attempts"]["StringValue"] == "3"
    statuses = [c.status for c in graph.calls if LEADS[1] in c.path]
    assert statuses[:2] == [503, 0]  # (the hang's answer, too late, is recorded when it is written)


# --- Acuity ---------------------------------------------------------------------------------------------


def test_an_acuity_booking_is_fetched_and_its_intake_answers_never_forwarded(pipeline: Pipeline) -> None:
    # Given a form-encoded "scheduled" notification signed with the API key
    answer = pipeline.send_acuity("scheduled")
    assert answer["id"] == "scheduled:1203456789"
    # When it is forwarded
    assert pipeline.poll() == {"batchItemFailures": []}
    # Then the appointment was fetched and one Meeting Scheduled carries its identity
    [event] = pipeline.ours.accepted
    assert event["event"] == "Meeting Scheduled"
    assert event["distinctId"] == "acuity:scheduled:1203456789"
    assert event["email"] == "priya.natarajan@example.com"
    assert event["userProperties"]["phone_number"] == "(555) 555-0123"
    # and nothing of the intake form, the notes, the location or the confirmation link
    text = json.dumps(event)
    for private in ("Asthma", "penicillin", "Medical history", "needles", "Harbour", "schedule.php", "forms"):
        assert private not in text


def test_acuity_changed_is_skipped_by_default_without_a_fetch(pipeline: Pipeline) -> None:
    acuity = pipeline.acuity
    pipeline.send_acuity("changed")
    assert pipeline.poll() == {"batchItemFailures": []}
    assert pipeline.ours.accepted == []
    assert acuity.calls == []
    assert pipeline.dead_letters() == []


def test_an_unknown_acuity_appointment_is_dead_lettered(pipeline: Pipeline) -> None:
    pipeline.send_acuity("canceled", "77")
    assert pipeline.poll() == {"batchItemFailures": []}
    [dead] = pipeline.dead_letters()
    assert dead["MessageAttributes"]["failure_reason"]["StringValue"] == "provider_not_found"
