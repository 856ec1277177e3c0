"""When a retryable failure is tried again, and when it goes to the DLQ instead: the outage budget.

A webhook whose delivery failed for a retryable reason (Ours 5xx/429/timeouts, the secret
unreadable, the circuit open…) is retried until ``OUTAGE_BUDGET_SECONDS`` have passed since it
was first queued — the envelope's receive time, or the last redrive (``History.redriven_at``) —
not until a handful of receives are spent. :meth:`RetryPolicy.decide` gives the visibility delay
of the next try, or ``None`` with the reason to dead-letter now:

* the delay is the backoff (``RETRY_MAX_DELAY`` is its cap), cut so that the last try falls at
  the budget's end rather than past it;
* *pacing*: when the receives left (``MAX_RECEIVE_COUNT`` is only the poison-message backstop) could
  not cover the rest of the budget at the cap — short ``Retry-After`` answers burn receives — the
  delay is raised to the cap, so that the backstop never ends a budget early;
* the last allowed receive dead-letters (the forwarder records the reason; SQS would not);
* no retry is planned past the queue's retention (``RETENTION_MARGIN`` before it).
"""

from __future__ import annotations

from typing import Final, NamedTuple

from webhook_translator.config import InvalidConfiguration, Settings

__all__ = ["MAX_VISIBILITY", "RETENTION_MARGIN", "Attempt", "RetryPolicy", "check_budget"]

#: SQS hides a message for at most 12 hours
MAX_VISIBILITY: Final = 43_200
#: a retry is not scheduled this close to the queue's retention: the message is dead-lettered instead
RETENTION_MARGIN: Final = 600


class Attempt(NamedTuple):
    """What the forwarder knows of one record's history when it fails."""

    #: receives in this round (SQS's ApproximateReceiveCount)
    receive_count: int
    #: the epoch second the outage budget counts from
    started_at: float
    #: SQS's SentTimestamp of this copy, epoch seconds (retention counts from it); None if unknown
    sent_at: float | None = None


def check_budget(config: Settings) -> None:
    """One line naming the fault when the delivery settings cannot hold a whole budget (forwarder init)."""
    budget, cap, receives = config.outage_budget_seconds, config.retry_max_delay, config.max_receive_count
    if receives * cap < budget:
        raise InvalidConfiguration(
            f"invalid configuration: MAX_RECEIVE_COUNT x RETRY_MAX_DELAY ({receives} x {cap} s) is shorter than "
            f"OUTAGE_BUDGET_SECONDS ({budget} s): raise MaxReceiveCount or RetryMaxDelay"
        )
    if budget + RETENTION_MARGIN > config.queue_retention_seconds:
        raise InvalidConfiguration(
            f"invalid configuration: OUTAGE_BUDGET_SECONDS ({budget} s) must end {RETENTION_MARGIN} s before "
            f"the queue's retention (QUEUE_RETENTION_SECONDS {config.queue_retention_seconds} s)"
        )


class RetryPolicy:
    def __init__(self, config: Settings) -> None:
        self.budget = config.outage_budget_seconds
        self.cap = config.retry_max_delay
        self.max_receive_count = config.max_receive_count
        self.retention = config.queue_retention_seconds

    def decide(self, attempt: Attempt, delay: float, *, now: float, ends_at: float | None = None) -> float | str:
        """The delay before the next try, or a sentence saying why it goes to the DLQ now.

        ``ends_at`` ends the retries earlier than the budget (the auth grace period).
        """
        ends = attempt.started_at + self.budget
        if ends_at is not None:
            ends = min(ends, ends_at)
        left = ends - now
        if left < 1:  # SQS counts visibility in whole seconds
            return f"retried for {_span(now - attempt.started_at)} (budget spent)"
        receives_left = self.max_receive_count - attempt.receive_count
        if receives_left <= 0:
            return f"{attempt.receive_count} receives, the queue's maxReceiveCount"
        if receives_left * self.cap < left:  # pacing: keep enough receives for the rest of the budget
            delay = max(delay, self.cap)
        delay = min(delay, left, MAX_VISIBILITY)
        if attempt.sent_at is not None:
            expires_in = attempt.sent_at + self.retention - now
            if delay + RETENTION_MARGIN >= expires_in:
                return "the queue's retention ends before the next try"
        return max(1.0, delay)


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{int(seconds)}s"
