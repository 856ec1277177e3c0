"""A forwarder record on its way (:class:`Job`), its outcome, and the one log line and metrics it makes."""

from __future__ import annotations

from collections.abc import Container
from typing import Literal, NamedTuple

from webhook_translator import log_events, observability
from webhook_translator.delivery import Pending
from webhook_translator.dlq_attributes import UNKNOWN, History, printable
from webhook_translator.observability import logger, metrics
from webhook_translator.sqs_record import SQSRecord

__all__ = ["Job", "Outcome", "report"]


class Outcome(NamedTuple):
    """What became of one record (a named tuple: its class costs the init a tenth of a frozen dataclass's)."""

    status: Literal["delivered", "skipped", "dead_lettered", "retry"]
    source: str = "-"
    webhook_id: str = "-"
    event_type: str = "-"
    reason: str | None = None
    events: int = 0
    delay: float = 0.0
    #: Ours's HTTP status behind a retry or a dead letter, when Ours answered
    ours_status: int | None = None

    @property
    def failed(self) -> bool:
        """Whether SQS must keep the record (it is reported in batchItemFailures)."""
        return self.status == "retry"


class Job:
    """One record on its way: what is known of it so far (a plain class, as :class:`Pending`)."""

    __slots__ = (
        "event_type",
        "history",
        "pending",
        "receive_count",
        "record",
        "sent_at",
        "source",
        "started_at",
        "webhook_id",
    )

    def __init__(
        self,
        record: SQSRecord,
        source: str,
        webhook_id: str,
        history: History,
        receive_count: int,
        started_at: float,
        sent_at: float | None = None,  # SQS's SentTimestamp of this copy: the retention counts from it
        event_type: str = "-",
        pending: Pending | None = None,
    ) -> None:
        self.record = record
        self.source = source
        self.webhook_id = webhook_id
        self.history = history
        self.receive_count = receive_count
        self.started_at = started_at
        self.sent_at = sent_at
        self.event_type = event_type
        self.pending = pending if pending is not None else Pending(0, UNKNOWN, ())

    @property
    def attempts(self) -> int:
        """Attempts of every round, this one included."""
        return self.history.attempts + self.receive_count


def report(outcome: Outcome, attempt: int, known: Container[str]) -> None:
    """One log line and the metrics for one record's outcome (``attempt``: the record's receive count;
    ``known``: the source names that may be a metric dimension, any other is ``-``)."""
    extra: dict[str, object] = {
        "source": printable(outcome.source),
        "webhook_id": printable(outcome.webhook_id),
        "event_type": printable(outcome.event_type),
        "outcome": outcome.status,
        "attempt": attempt,
    }
    if outcome.reason:
        extra["reason"] = outcome.reason
    if outcome.ours_status is not None:
        extra["ours_status"] = outcome.ours_status
    name = log_events.OUTCOMES[outcome.status]
    if outcome.status == "dead_lettered":
        logger.warning(name, extra=extra)
    elif outcome.status == "retry":
        logger.info(name, extra={**extra, "delay": round(outcome.delay, 1)})
    elif outcome.status == "delivered":
        logger.info(name, extra={**extra, "events": outcome.events})
    else:
        logger.info(name, extra=extra)
    source = outcome.source if outcome.source in known else "-"  # a bounded dimension
    if outcome.status in ("dead_lettered", "retry"):
        metrics.add(observability.OUTCOME_METRICS[outcome.status], Source=source, Reason=outcome.reason or "-")
    else:
        metrics.add(observability.OUTCOME_METRICS[outcome.status], Source=source)
    if outcome.events:
        metrics.add(observability.EVENTS_DELIVERED, outcome.events, Source=source)
    if outcome.reason == "auth":  # the OursAuthRefused alarm: a token Ours refuses, during the grace period too
        metrics.add(observability.OURS_AUTH_REFUSED, Source=source)
