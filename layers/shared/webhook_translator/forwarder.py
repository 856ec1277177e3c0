"""The forwarder: SQS batch → map each raw webhook → deliver to Ours → partial batch response.

For every record, one outcome, decided in :meth:`Forwarder.process` only:

* **delivered** / **skipped** (an event type that is not mapped or dropped by
  configuration): success, SQS deletes it;
* **permanent** (``MappingError`` — ``no_identity``, ``invalid_payload``,
  ``stale_event``, ``invalid_envelope``, ``unknown_source``, ``mapper_error`` —
  or Ours refusing the payload or the token): sent to the DLQ *at once*, original
  body intact, with message attributes naming the reason; then success;
* **retryable** (429, 5xx, timeouts): left on the queue with a visibility
  timeout that grows with the receive count (``Retry-After`` honoured), reported
  in ``batchItemFailures``; on the last allowed receive it goes to the DLQ
  itself, so that its reason is recorded.

Records of a batch are processed concurrently over the client's pooled session.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from webhook_translator import log_events, observability, translator_config
from webhook_translator.aws import sqs_client
from webhook_translator.config import Settings, settings
from webhook_translator.dlq_attributes import ATTRIBUTE_LIMIT, UNKNOWN, FailureAttributes, QueuedAttributes, printable
from webhook_translator.envelope import Envelope
from webhook_translator.errors import (
    ConfigurationError,
    MappingError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    TranslatorError,
    UnknownSource,
)
from webhook_translator.observability import logger, metrics
from webhook_translator.ours.client import OursClient, default_session
from webhook_translator.redact import redact
from webhook_translator.secrets import store_from_settings
from webhook_translator.sources.base import Source
from webhook_translator.sources.registry import REGISTRY, check_config
from webhook_translator.sqs_record import SQSRecord
from webhook_translator.translation import translate

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from webhook_translator.fetch.client import ProviderApi

MAX_VISIBILITY = 43_200
#: a retry is not scheduled this close to the queue's retention: the message is dead-lettered instead
RETENTION_MARGIN = 600
#: time kept back at the end of an invocation (the DLQ send, the response)
TIME_MARGIN_MS = 2_000


@dataclass(frozen=True)
class Outcome:
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


class Forwarder:
    def __init__(
        self,
        config: Settings,
        client: OursClient,
        *,
        sqs: SQSClient | None = None,
        registry: Mapping[str, Source] = REGISTRY,
        clock: Callable[[], float] = time.time,
        fetcher: ProviderApi | None = None,
    ) -> None:
        if not config.dlq_url:
            raise RuntimeError("DLQ_URL is not set")
        check_config(config.translator_config, registry)
        self._config = config
        self._client = client
        self.sqs = sqs if sqs is not None else sqs_client()
        self._registry = registry
        self._clock = clock
        self._fetcher = fetcher  # the fetch step's provider API (sources that send an id, not the data)
        self._remaining_ms: Callable[[], int] | None = None

    # --- the batch ------------------------------------------------------------------------------

    def handle(
        self, event: Mapping[str, Any], remaining_ms: Callable[[], int] | None = None
    ) -> dict[str, list[dict[str, str]]]:
        """Process one SQS batch; ``remaining_ms`` is the Lambda context's clock of the time left.

        No Ours call starts without the time to finish it: a record that would have
        to is left on the queue for a quick retry, rather than letting the invocation
        time out (which would hand the whole batch back, dead-lettered records too).
        """
        self._remaining_ms = remaining_ms
        records = [SQSRecord(raw) for raw in event.get("Records") or []]
        if not records:
            return {"batchItemFailures": []}
        workers = min(self._config.forward_concurrency, len(records))
        if workers == 1:
            outcomes = [self.process(record) for record in records]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                outcomes = list(pool.map(self.process, records))
        for record, outcome in zip(records, outcomes, strict=True):  # one line per record, in batch order
            _report(outcome, int(record.attributes.approximate_receive_count or 1))
        failures = [
            {"itemIdentifier": record.message_id}
            for record, outcome in zip(records, outcomes, strict=True)
            if outcome.failed
        ]
        return {"batchItemFailures": failures}

    # --- one record -----------------------------------------------------------------------------

    def process(self, record: SQSRecord) -> Outcome:
        attempts = int(record.attributes.approximate_receive_count or 1)
        queued = QueuedAttributes.from_sqs(record.raw_event.get("messageAttributes") or {})
        source_name, webhook_id = queued.source or UNKNOWN, queued.webhook_id or UNKNOWN
        event_type = "-"
        try:
            envelope = Envelope.from_message(record.body)
            source_name, webhook_id = envelope.source, envelope.webhook_id
            source, result = translate(
                envelope,
                self._config.translator_config,
                registry=self._registry,
                now_ms=int(self._clock() * 1000),
                stale_policy=self._config.stale_event_policy,
                fetch=self._fetcher.bind(attempts) if self._fetcher is not None else None,
            )
            event_type = result.event_type
            if result.skipped is not None:
                return Outcome("skipped", source_name, webhook_id, event_type, reason=result.skipped)
            for track in result.events:
                self._check_time_left()
                self._client.track(track, source=source.name, attempt=attempts)
            if (failure := result.failure()) is not None:  # items that failed on their own, the others delivered
                raise failure
            return Outcome("delivered", source_name, webhook_id, event_type, events=len(result.events))
        except RetryableDeliveryError as exc:
            return self._retry(record, source_name, webhook_id, event_type, exc, attempts)
        except (MappingError, PermanentDeliveryError, UnknownSource) as exc:
            return self._dead_letter(record, source_name, webhook_id, event_type, exc, attempts)
        except ConfigurationError as exc:  # the secret could not be read: transient until the retries run out
            delay = self._client.retry_delay(attempts, None)
            retry = RetryableDeliveryError(exc.message, delay=delay, reason="configuration")
            return self._retry(record, source_name, webhook_id, event_type, retry, attempts)
        except Exception as exc:  # a bug outside the mapper: never fail the whole batch, never log the message text
            logger.error(
                log_events.FORWARDER_FAILED, extra={"source": printable(source_name), "error": type(exc).__name__}
            )
            delay = self._client.retry_delay(attempts, None)
            retry = RetryableDeliveryError(
                f"internal error ({type(exc).__name__})", delay=delay, reason="internal_error"
            )
            return self._retry(record, source_name, webhook_id, event_type, retry, attempts)

    def _check_time_left(self) -> None:
        if self._remaining_ms is None:
            return
        needed_ms = sum(self._client.timeout) * 1000 + TIME_MARGIN_MS
        if self._remaining_ms() < needed_ms:
            raise RetryableDeliveryError(
                "not enough time left in this invocation", delay=self._client.retry_delay(1, None), reason="time_budget"
            )

    def _retry(
        self,
        record: SQSRecord,
        source: str,
        webhook_id: str,
        event_type: str,
        exc: RetryableDeliveryError,
        attempts: int,
    ) -> Outcome:
        """Leave the record on the queue for ``exc.delay`` — or dead-letter it now, on the last allowed
        receive or when the queue would expire it (retention) before the next try."""
        delay = min(exc.delay, MAX_VISIBILITY)
        sent_ms = int(record.attributes.sent_timestamp or 0)
        expires_in = sent_ms / 1000 + self._config.queue_retention_seconds - self._clock() if sent_ms else None
        if attempts >= self._config.max_receive_count or (
            expires_in is not None and delay + RETENTION_MARGIN >= expires_in
        ):
            return self._dead_letter(record, source, webhook_id, event_type, exc, attempts)
        self._retry_later(record, delay)
        return Outcome("retry", source, webhook_id, event_type, reason=exc.reason, delay=delay, ours_status=exc.status)

    def _retry_later(self, record: SQSRecord, delay: float) -> None:
        if not self._config.queue_url:
            return
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self._config.queue_url,
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=max(0, int(delay)),
            )
        except Exception as exc:  # the queue's own visibility timeout applies instead
            logger.warning(log_events.RETRY_DELAY_NOT_SET, extra={"error": type(exc).__name__})

    def _dead_letter(
        self,
        record: SQSRecord,
        source: str,
        webhook_id: str,
        event_type: str,
        exc: TranslatorError,
        attempts: int,
    ) -> Outcome:
        reason = exc.reason
        attributes = FailureAttributes(
            source=source,
            webhook_id=webhook_id,
            event_type=event_type,
            reason=reason,
            detail=redact(exc.message, ATTRIBUTE_LIMIT),
            attempts=attempts,
            ours_status=getattr(exc, "status", None),
            failed_at=datetime.now(UTC),
        )
        try:
            self.sqs.send_message(
                QueueUrl=str(self._config.dlq_url), MessageBody=record.body, MessageAttributes=attributes.to_sqs()
            )
        except Exception as err:  # the DLQ is unreachable: keep the message on the queue instead
            logger.error(
                log_events.DEAD_LETTER_FAILED,
                extra={"source": printable(source), "webhook_id": printable(webhook_id), "error": type(err).__name__},
            )
            return Outcome("retry", source, webhook_id, event_type, reason=reason)
        return Outcome(
            "dead_lettered", source, webhook_id, event_type, reason=reason, ours_status=attributes.ours_status
        )


def _report(outcome: Outcome, attempt: int) -> None:
    """One log line and the metrics for one record's outcome (``attempt``: the record's receive count)."""
    extra: dict[str, Any] = {
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
    source = outcome.source if outcome.source in REGISTRY else "-"  # a bounded dimension
    if outcome.status in ("dead_lettered", "retry"):
        metrics.add(observability.OUTCOME_METRICS[outcome.status], Source=source, Reason=outcome.reason or "-")
    else:
        metrics.add(observability.OUTCOME_METRICS[outcome.status], Source=source)
    if outcome.events:
        metrics.add(observability.EVENTS_DELIVERED, outcome.events, Source=source)


@lru_cache(maxsize=1)
def default_forwarder() -> Forwarder:
    """The Lambda's forwarder, built once per container from the environment."""
    config = settings()
    translation = translator_config.load(config)  # an invalid document fails the init, in one line
    config = config.model_copy(update={"translator_config": translation.config})
    store = store_from_settings(config)
    client = OursClient(
        config.ours_api_url,
        store,
        session=default_session(pool_size=config.forward_concurrency),
        connect_timeout=config.ours_connect_timeout,
        read_timeout=config.ours_read_timeout,
        max_delay=config.retry_max_delay,
    )
    from webhook_translator.fetch.client import provider_api

    return Forwarder(config, client, registry=translation.registry, fetcher=provider_api(config, store))
