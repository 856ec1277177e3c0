"""Delivery at scale against the real local Ours over loopback, the queue simulated in injected time.

/batch with per-row outcomes (207), a 413 split on Ours's ``limit``, an hour-long Ours outage ridden
out under the circuit breaker with nothing dead-lettered, a token revoked then rotated within the
auth grace period, and a dead-lettered webhook re-driven with its history.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from support.apigw import sample
from support.simqueue import Clock, SimQueue
from webhook_translator.breaker import CircuitBreaker
from webhook_translator.config import Settings
from webhook_translator.dlq_attributes import FailureAttributes, History, QueuedAttributes
from webhook_translator.envelope import Envelope
from webhook_translator.forwarder import Forwarder
from webhook_translator.ours.client import OursClient
from webhook_translator.secrets import SecretDocument
from webhook_translator_tools.local.ours_server import Fault, LocalOurs

START = 1_795_000_000.0
TOKEN = "ours-token-current-0123456789"
ROTATED = "ours-token-rotated-9876543210"


class Tokens:
    """The secret document, editable mid-test (an operator rotating the token)."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.reads = 0

    def ours_token(self, source: str, *, force: bool = False) -> str:
        self.reads += 1
        return SecretDocument.parse({"ours_token": self.token}).token_for(source)


def stripe_body(n: int) -> bytes:
    body: dict[str, Any] = copy.deepcopy(sample("stripe/checkout-session-completed.json")["body"])
    body.update(id=f"evt_delivery_{n:05d}", created=int(START) - 60)
    return json.dumps(body).encode()


def enqueue(queue: SimQueue, n: int, *, history: History | None = None) -> str:
    envelope = Envelope.wrap(
        source="stripe",
        webhook_id=f"evt_delivery_{n:05d}",
        received_at=datetime.fromtimestamp(queue.clock.now, UTC),
        content_type="application/json",
        body=stripe_body(n),
    )
    attributes = QueuedAttributes("stripe", envelope.webhook_id, history or History()).to_sqs()
    return queue.send(envelope.to_message(), dict(attributes))


class Rig:
    def __init__(
        self,
        ours: LocalOurs,
        clock: Clock,
        tokens: Tokens | None = None,
        breaker: CircuitBreaker | None = None,
        **settings: Any,
    ) -> None:
        self.clock, self.ours = clock, ours
        self.queue = SimQueue(clock)
        self.outage_calls = 0
        self.tokens = tokens or Tokens(TOKEN)
        config = Settings(QUEUE_URL="https://sqs.local/q", DLQ_URL="https://sqs.local/dlq", **settings)
        client = OursClient(ours.url, self.tokens, connect_timeout=1, read_timeout=2, clock=clock)
        self.forwarder = Forwarder(config, client, sqs=self.queue, clock=clock, breaker=breaker)  # type: ignore[arg-type]

    def poll(self, batch: int = 10) -> dict[str, Any]:
        event = self.queue.receive(batch)
        if not event["Records"]:
            return {"batchItemFailures": []}
        result = self.forwarder.handle(event)
        self.queue.settle(event, result)
        return result

    def run_until_empty(self, *, until: float, batch: int = 10, on_tick: Any = None, step: float = 3600) -> int:
        """Drive the event source in simulated time (at most ``step`` s at a time); returns the invocations."""
        invocations = 0
        while self.queue.messages and self.clock.now <= until:
            if on_tick is not None:
                on_tick(self.clock.now)
            if self.queue.receive_ready():
                self.poll(batch)
                invocations += 1
                continue
            nxt = self.queue.next_visible()
            self.clock.now = max(self.clock.now + 1, min(nxt or self.clock.now + step, self.clock.now + step))
        return invocations


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def ours(clock: Clock) -> Iterator[LocalOurs]:
    with LocalOurs(tokens={TOKEN}, clock=clock) as server:
        yield server


def api_calls(ours: LocalOurs) -> list[str]:
    return [r.path for r in ours.requests]


def test_a_batch_of_webhooks_is_one_batch_call(ours: LocalOurs, clock: Clock) -> None:
    # Given ten queued webhooks
    rig = Rig(ours, clock)
    for n in range(10):
        enqueue(rig.queue, n)
    # When one batch is forwarded
    result = rig.poll()
    # Then one /batch call carried all ten events, each accepted once
    assert result == {"batchItemFailures": []}
    assert api_calls(ours) == ["/batch"]
    assert len(ours.accepted) == 10
    assert all(ours.deliveries(f"stripe:evt_delivery_{n:05d}") == 1 for n in range(10))


def test_a_lone_event_goes_to_track(ours: LocalOurs, clock: Clock) -> None:
    rig = Rig(ours, clock)
    enqueue(rig.queue, 1)
    assert rig.poll() == {"batchItemFailures": []}
    assert api_calls(ours) == ["/track"]


def test_a_207_applies_each_row_to_its_own_record(ours: LocalOurs, clock: Clock) -> None:
    # Given three webhooks: Ours will refuse the second's event for good and fail to queue the third's
    rig = Rig(ours, clock)
    ids = [enqueue(rig.queue, n) for n in range(3)]
    ours.inject(Fault(kind="status", status=422, distinct_id="stripe:evt_delivery_00001", error="event name too long"))
    ours.inject(Fault(kind="status", status=503, distinct_id="stripe:evt_delivery_00002", error="busy", times=1))
    # When the batch is forwarded (one /batch call, answered 207... or 503 with results)
    result = rig.poll()
    # Then the first is delivered, the second dead-lettered with Ours's message, the third retried
    assert api_calls(ours) == ["/batch"]
    assert ours.requests[0].status in (207, 503)
    assert result == {"batchItemFailures": [{"itemIdentifier": ids[2]}]}
    assert ours.deliveries("stripe:evt_delivery_00000") == 1
    [dead] = rig.queue.dead
    failure = FailureAttributes.from_sqs(dead["MessageAttributes"])
    assert (failure.webhook_id, failure.reason) == ("evt_delivery_00001", "ours_rejected")
    assert "invalid_event" in (failure.detail or "")
    assert "event name too long" in (failure.detail or "")
    # And the retried one is delivered on its next receive, with the same distinctId
    clock.now += 600
    assert rig.poll() == {"batchItemFailures": []}
    assert ours.deliveries("stripe:evt_delivery_00002") == 1
    assert ours.deliveries("stripe:evt_delivery_00001") == 0


def test_a_413_is_split_on_ours_limit(clock: Clock) -> None:
    # Given an Ours that takes at most 4 rows per batch, and ten webhooks
    with LocalOurs(tokens={TOKEN}, clock=clock, max_batch_rows=4) as ours:
        rig = Rig(ours, clock)
        for n in range(10):
            enqueue(rig.queue, n)
        # When they are forwarded
        result = rig.poll()
        # Then the 413's limit split them into 4 + 4 + 2, and every event was accepted exactly once
        assert result == {"batchItemFailures": []}
        statuses = [(r.path, r.status, len(r.body["events"])) for r in ours.requests]
        assert statuses == [("/batch", 413, 10), ("/batch", 200, 4), ("/batch", 200, 4), ("/batch", 200, 2)]
        assert sorted(e["distinctId"] for e in ours.accepted) == [f"stripe:evt_delivery_{n:05d}" for n in range(10)]


def ride_out_an_hour_long_outage(ours: LocalOurs, clock: Clock, breaker: CircuitBreaker | None = None) -> Rig:
    """Ours down (503) for an hour of simulated time while 50 webhooks arrive over its first ten minutes;
    the event source invokes the forwarder until the queue is empty. ``rig.outage_calls``: calls made meanwhile."""
    rig = Rig(ours, clock, breaker=breaker)
    ours.inject(Fault(kind="status", status=503))
    state = {"next": 0, "recovered": 0}

    def tick(now: float) -> None:
        while state["next"] < 50 and now >= START + 12 * state["next"]:
            enqueue(rig.queue, state["next"])
            state["next"] += 1
        if now >= START + 3600 and not state["recovered"]:
            rig.outage_calls = len(ours.requests)
            ours.clear_faults()
            state["recovered"] = 1

    tick(clock.now)
    rig.run_until_empty(until=START + 3 * 3600, on_tick=tick, step=12)
    return rig


def test_an_hour_long_outage_is_ridden_out_with_nothing_dead_lettered(ours: LocalOurs, clock: Clock) -> None:
    # Given / When: an hour-long Ours outage
    rig = ride_out_an_hour_long_outage(ours, clock)
    # Then every webhook was delivered exactly once, none dead-lettered
    assert rig.queue.messages == {}
    assert rig.queue.dead == []
    assert all(ours.deliveries(f"stripe:evt_delivery_{n:05d}") == 1 for n in range(50))
    # And during the outage the breaker let through a bounded number of calls: a short run, then one
    # probe per backoff period (2 s doubling to RETRY_MAX_DELAY), not one per batch per receive
    print(f"calls during the outage: {rig.outage_calls}, refused by the breaker: {rig.forwarder.breaker.refused}")
    assert rig.outage_calls <= 25, rig.outage_calls
    assert rig.forwarder.breaker.refused > rig.outage_calls
    assert rig.forwarder.breaker.state == "closed"


def test_without_the_breaker_the_same_outage_costs_several_times_the_calls(ours: LocalOurs, clock: Clock) -> None:
    never_opens = CircuitBreaker(max_period=600, failure_run=10**9, clock=clock)
    rig = ride_out_an_hour_long_outage(ours, clock, breaker=never_opens)
    print(f"calls during the outage without a breaker: {rig.outage_calls}")
    assert rig.queue.dead == []
    assert rig.outage_calls > 3 * 25


def test_a_token_revoked_then_rotated_within_the_grace_is_delivered(ours: LocalOurs, clock: Clock) -> None:
    # Given Ours refusing the token in the secret (revoked; the new one not yet in the secret)
    ours.tokens = {ROTATED}
    rig = Rig(ours, clock)
    [ident] = [enqueue(rig.queue, 7)]
    # When it is forwarded: Ours refuses, the secret is re-read once, Ours refuses again
    result = rig.poll()
    # Then it is retried (the grace period), not dead-lettered
    assert result == {"batchItemFailures": [{"itemIdentifier": ident}]}
    assert rig.queue.dead == []
    # And once the operator puts the new token in the secret, within the grace, it is delivered
    clock.now += 300
    rig.tokens.token = ROTATED
    clock.now = max(clock.now, rig.queue.next_visible() or clock.now)
    assert rig.poll() == {"batchItemFailures": []}
    assert ours.deliveries("stripe:evt_delivery_00007") == 1
    assert rig.queue.dead == []


def test_a_token_still_refused_after_the_grace_is_dead_lettered_as_auth(ours: LocalOurs, clock: Clock) -> None:
    ours.tokens = {ROTATED}
    rig = Rig(ours, clock, AUTH_GRACE_SECONDS=900)
    enqueue(rig.queue, 8)
    rig.run_until_empty(until=START + 3600)
    [dead] = rig.queue.dead
    failure = FailureAttributes.from_sqs(dead["MessageAttributes"])
    assert failure.reason == "auth"
    assert "grace" in (failure.detail or "")
    assert clock.now - START <= 900 + 600


def test_the_outage_budget_dead_letters_with_the_reason_and_the_attempts(ours: LocalOurs, clock: Clock) -> None:
    # Given a one-hour budget and an Ours that never comes back
    rig = Rig(ours, clock, OUTAGE_BUDGET_SECONDS=3600, RETRY_MAX_DELAY=300)
    ours.inject(Fault(kind="status", status=503))
    enqueue(rig.queue, 9)
    # When the event source runs for two hours
    rig.run_until_empty(until=START + 7200)
    # Then it was dead-lettered by the forwarder once the budget was spent, with why and how often
    [dead] = rig.queue.dead
    failure = FailureAttributes.from_sqs(dead["MessageAttributes"])
    assert dead["by"] == "forwarder"
    assert failure.reason in ("ours_unavailable", "circuit_open")
    assert "budget spent" in (failure.detail or "")
    assert 3600 <= clock.now - START <= 3600 + 300
    assert failure.attempts is not None
    assert 5 < failure.attempts < 200


def test_a_redriven_webhook_keeps_its_attempts_and_reasons(ours: LocalOurs, clock: Clock) -> None:
    # Given a webhook dead-lettered earlier (12 attempts, ours_unavailable), re-driven with its history
    history = History(attempts=12, reasons=("ours_unavailable",), ours_status=503, redriven_at=None, redrives=0)
    earlier = FailureAttributes(
        "stripe", "evt_delivery_00011", "checkout.session.completed", "ours_unavailable", attempts=12, ours_status=503
    )
    redriven = history.after(earlier, now=datetime.fromtimestamp(clock.now, UTC))
    rig = Rig(ours, clock)
    enqueue(rig.queue, 11, history=redriven)
    # When Ours now refuses it for good
    ours.inject(Fault(kind="status", status=400, error="bad event"))
    rig.poll()
    # Then the DLQ copy counts every attempt and lists the earlier reasons
    [dead] = rig.queue.dead
    failure = FailureAttributes.from_sqs(dead["MessageAttributes"])
    assert failure.attempts == 13
    assert failure.reason == "ours_rejected"
    assert failure.history.reasons == ("ours_unavailable", "ours_unavailable")
    assert failure.history.redrives == 1
    assert failure.history.ours_status == 503


def test_a_record_without_sqs_timestamps_is_still_delivered(ours: LocalOurs, clock: Clock) -> None:
    # Given a hand-made SQS event (sam local invoke -e, a replay) whose records carry no SentTimestamp
    rig = Rig(ours, clock)
    enqueue(rig.queue, 3)
    event = rig.queue.receive(10)
    for record in event["Records"]:
        record["attributes"] = {"ApproximateReceiveCount": "1"}
    # When it is handled, Then it is delivered
    assert rig.forwarder.handle(event) == {"batchItemFailures": []}
    assert ours.deliveries("stripe:evt_delivery_00003") == 1
