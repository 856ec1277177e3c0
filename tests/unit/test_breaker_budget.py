"""The circuit breaker, the auth grace clock and the outage budget, on an injected clock."""

from __future__ import annotations

import pytest

from webhook_translator.breaker import FAILURE_RUN, AuthGrace, CircuitBreaker
from webhook_translator.budget import Attempt, RetryPolicy, check_budget
from webhook_translator.config import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_the_breaker_opens_after_a_run_of_failures_and_lets_one_probe_out_per_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker(max_period=8, clock=clock)
    # Given a run of failures shorter than the threshold: still closed
    for _ in range(FAILURE_RUN - 1):
        assert breaker.allow()
        breaker.failed()
    assert breaker.state == "closed"
    # When one more fails: open, calls refused
    breaker.failed()
    assert breaker.state == "open"
    assert not breaker.allow()
    assert breaker.retry_in() == pytest.approx(2.0)
    # Then after the period exactly one probe goes out
    clock.now += 2
    assert breaker.allow()
    assert not breaker.allow()
    # And a failed probe re-opens it for twice as long, up to the cap
    breaker.failed()
    assert breaker.retry_in() == pytest.approx(4.0)
    for expected in (8.0, 8.0):
        clock.now += breaker.retry_in()
        assert breaker.allow()
        breaker.failed()
        assert breaker.retry_in() == pytest.approx(expected)
    # And a successful probe closes it
    clock.now += 8
    assert breaker.allow()
    breaker.succeeded()
    assert breaker.state == "closed"
    assert breaker.allow()


def test_any_answer_resets_the_run() -> None:
    breaker = CircuitBreaker(max_period=8, clock=Clock())
    for _ in range(5):
        breaker.failed()
        breaker.failed()
        breaker.succeeded()
    assert breaker.state == "closed"


def test_the_auth_grace_runs_from_the_first_refusal_and_a_delivery_resets_it() -> None:
    clock = Clock()
    grace = AuthGrace(900, clock=clock)
    assert grace.refused("stripe") == pytest.approx(900)
    clock.now += 600
    assert grace.refused("stripe") == pytest.approx(300)
    assert grace.refused("typeform") == pytest.approx(900)  # per source
    clock.now += 300
    assert grace.refused("stripe") is None
    grace.delivered("stripe")
    assert grace.refused("stripe") == pytest.approx(900)


POLICY = RetryPolicy(Settings(OUTAGE_BUDGET_SECONDS=3600, RETRY_MAX_DELAY=600, MAX_RECEIVE_COUNT=20))


def test_a_retry_is_planned_within_the_budget_and_the_last_one_falls_at_its_end() -> None:
    assert POLICY.decide(Attempt(1, started_at=0), 5.0, now=10) == 5.0
    assert POLICY.decide(Attempt(5, started_at=0), 600.0, now=3300) == pytest.approx(300)
    decision = POLICY.decide(Attempt(6, started_at=0), 600.0, now=3600)
    assert isinstance(decision, str)
    assert "budget spent" in decision


def test_pacing_keeps_enough_receives_for_the_rest_of_the_budget() -> None:
    # Given short Retry-Afters that burnt 16 of 20 receives in ten minutes
    # Then the next delay is the cap, so that 4 receives still cover the 50 minutes left
    assert POLICY.decide(Attempt(16, started_at=0), 1.0, now=600) == 600


def test_the_last_allowed_receive_dead_letters() -> None:
    decision = POLICY.decide(Attempt(20, started_at=0), 1.0, now=60)
    assert isinstance(decision, str)
    assert "maxReceiveCount" in decision


def test_an_earlier_end_cuts_the_retries_short() -> None:
    assert POLICY.decide(Attempt(1, started_at=0), 100.0, now=0, ends_at=50) == 50
    assert isinstance(POLICY.decide(Attempt(1, started_at=0), 100.0, now=50, ends_at=50), str)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"MAX_RECEIVE_COUNT": 10}, "MAX_RECEIVE_COUNT x RETRY_MAX_DELAY (10 x 600 s)"),
        ({"QUEUE_RETENTION_SECONDS": 86_400}, "must end 600 s before the queue's retention"),
    ],
)
def test_settings_that_cannot_hold_a_budget_fail_in_one_line(settings: dict[str, int], message: str) -> None:
    with pytest.raises(RuntimeError, match="invalid configuration") as caught:
        check_budget(Settings(**settings))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_defaults_hold_a_whole_budget() -> None:
    check_budget(Settings())
