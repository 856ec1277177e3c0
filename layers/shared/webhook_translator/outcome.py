"""A forwarder record's outcome, and the one log line and metrics it makes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit

from webhook_translator import log_events
from webhook_translator.dlq_attributes import printable
from webhook_translator.observability import logger, metrics

__all__ = ["Outcome", "report"]

_METRICS = {
    "delivered": "WebhooksDelivered",
    "skipped": "WebhooksSkipped",
    "dead_lettered": "WebhooksDeadLettered",
    "retry": "WebhooksRetried",
}


@dataclass(frozen=True)
class Outcome:
    status: Literal["delivered", "skipped", "dead_lettered", "retry"]
    source: str = "-"
    webhook_id: str = "-"
    event_type: str = "-"
    reason: str | None = None
    events: int = 0
    delay: float = 0.0

    @property
    def failed(self) -> bool:
        """Whether SQS must keep the record (it is reported in batchItemFailures)."""
        return self.status == "retry"


def report(outcome: Outcome) -> None:
    """One log line and the metrics for one record's outcome (called from the handler's thread:
    Powertools Metrics is not thread-safe)."""
    extra = {
        "source": printable(outcome.source),
        "webhook_id": printable(outcome.webhook_id),
        "event_type": printable(outcome.event_type),
        "outcome": outcome.status,
    }
    if outcome.reason:
        extra["reason"] = outcome.reason
    name = log_events.OUTCOMES[outcome.status]
    if outcome.status == "dead_lettered":
        logger.warning(name, extra=extra)
    elif outcome.status == "retry":
        logger.info(name, extra={**extra, "delay": round(outcome.delay, 1)})
    elif outcome.status == "delivered":
        logger.info(name, extra={**extra, "events": outcome.events})
    else:
        logger.info(name, extra=extra)
    metrics.add_metric(name=_METRICS[outcome.status], unit=MetricUnit.Count, value=1)
    if outcome.events:
        metrics.add_metric(name="EventsDelivered", unit=MetricUnit.Count, value=outcome.events)
    if outcome.reason == "auth":  # the AuthRefused alarm: a token Ours refuses, during the grace period too
        metrics.add_metric(name="OursAuthRefused", unit=MetricUnit.Count, value=1)
