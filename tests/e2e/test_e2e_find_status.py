"""``find`` and ``status`` through ``serve``: a delivered, a retried-then-delivered and a dead-lettered webhook.

``serve`` runs as a subprocess with its own state dir; the commands run as subprocesses with the
export line it prints (which names its pipeline log, ``WEBHOOK_TRANSLATOR_LOG``). Webhooks are signed
by the ``stripe`` library; the local Ours answers 503 once for one event and 400 for another.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe
from test_serve import Serve, eventually, post, start_serve, stop, stripe_webhook, wait_until_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    state = tmp_path_factory.mktemp("state")
    serve = start_serve("--state-dir", str(state))
    try:
        wait_until_ready(serve)
        yield serve
    finally:
        stop(serve)


@pytest.fixture(scope="module")
def journeys(served: Serve) -> dict[str, str]:
    """Three Stripe webhooks posted once each: delivered, retried once then delivered, dead-lettered."""
    ids = {kind: f"evt_find_{kind}_{uuid.uuid4().hex[:10]}" for kind in ("delivered", "retried", "dead")}
    served.fault(kind="status", status=503, times=1, distinct_id=f"stripe:{ids['retried']}")
    served.fault(kind="status", status=400, distinct_id=f"stripe:{ids['dead']}", error="event is not allowed")
    for event_id in ids.values():
        assert post(served, "stripe", *stripe_webhook(event_id)).status_code == 200
    for event_id in ids.values():  # each journey has ended (its outcome logged)
        eventually(lambda e=event_id: "not finished yet" not in served.cli("find", e).stdout, timeout=30)
    return ids


def journey_of(served: Serve, webhook_id: str) -> list[str]:
    """The steps ``find`` prints (the time column cut off), and its last lines."""
    result = served.cli("find", webhook_id)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"stripe {webhook_id} checkout.session.completed"
    assert lines[-1].startswith("(from the local stack's log ")
    return [re.sub(r"^\s+\S+ \S+\s+", "", line) for line in lines[1:-1]]


def test_serve_exports_its_pipeline_log(served: Serve) -> None:
    path = Path(served.exports["WEBHOOK_TRANSLATOR_LOG"])
    assert path.name == f"pipeline-{served.port}.jsonl"
    assert path.is_file()


def test_find_a_delivered_webhook(served: Serve, journeys: dict[str, str]) -> None:
    assert journey_of(served, journeys["delivered"]) == [
        "received",
        "queued",
        "attempt 1: delivered to Ours (1 event)",
        "delivered",
    ]


def test_find_a_webhook_retried_then_delivered(served: Serve, journeys: dict[str, str]) -> None:
    steps = journey_of(served, journeys["retried"])
    assert steps[:2] == ["received", "queued"]
    assert re.fullmatch(r"attempt 1: will be retried in [\d.]+ s \(ours_unavailable, Ours answered 503\)", steps[2])
    assert steps[3:] == ["attempt 2: delivered to Ours (1 event)", "delivered"]


def test_find_a_dead_lettered_webhook(served: Serve, journeys: dict[str, str]) -> None:
    steps = journey_of(served, journeys["dead"])
    assert steps[:2] == ["received", "queued"]
    # refused by Ours on its own (/track answered 400) or as a row of a /batch (invalid_event, no status of its own)
    assert re.fullmatch(r"attempt 1: dead-lettered \(ours_rejected(, Ours answered 400)?\)", steps[2]), steps[2]
    assert steps[3:] == ["dead-lettered (ours_rejected): see `webhook-translator dlq list`"]


def test_find_prints_no_personal_data(served: Serve, journeys: dict[str, str]) -> None:
    for webhook_id in journeys.values():
        out = served.cli("find", webhook_id).stdout
        assert "@" not in out  # the sample's customer e-mail
        assert "token" not in out.lower()


def test_find_an_unknown_id_exits_1(served: Serve) -> None:
    result = served.cli("find", "evt_never_sent")
    assert result.returncode == 1
    assert "evt_never_sent: not found in the local stack's log" in result.stdout


def test_status_counts_what_happened(served: Serve, journeys: dict[str, str]) -> None:
    # Given one more webhook, refused: signed with another secret
    body, headers = stripe_webhook("evt_find_refused")
    headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_other")
    refused = post(served, "stripe", body, headers)
    assert (refused.status_code, refused.json()["reason"]) == (401, "no_matching_secret")

    # When status runs with the export line
    def counted() -> str | None:
        out = served.cli("status").stdout
        return out if re.search(r"^stripe\s+4\s+1\s+3\s+2\s+0\s+1\s+1$", out, re.MULTILINE) else None

    out = eventually(counted)
    # Then it shows the stripe row (received 4, refused 1, queued 3, delivered 2, skipped 0, retried 1,
    # dead-lettered 1), the reasons, Ours's answers and the queues
    assert "refused by reason: stripe no_matching_secret 1" in out
    assert "retried by reason: stripe ours_unavailable 1" in out
    assert "dead-lettered by reason: stripe ours_rejected 1" in out
    # (/track per webhook, or the three together in /batch calls: how the poller happened to batch them)
    assert re.search(r"Ours: \d+ calls \((\d+: \d+(, )?)+\), latency \d+ ms average, \d+ ms max", out), out
    assert "queue: 0 waiting, 0 in flight, oldest -" in out
    assert "DLQ: 1 message" in out
