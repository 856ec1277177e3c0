"""The forwarder: SQS batch → map each raw webhook → deliver to Ours → partial batch response.

For every record, one outcome, decided in :meth:`Forwarder.handle` only:

* **delivered** / **skipped** (a type not mapped, or dropped by configuration): SQS deletes it;
* **permanent** (``MappingError`` — ``no_identity``, ``invalid_payload``, ``stale_event``, ``invalid_envelope``,
  ``unknown_source``, ``mapper_error`` —, Ours refusing the payload, the token after the auth grace period):
  to the DLQ *at once*, body intact, with attributes naming the reason and the earlier rounds;
* **retryable** (429, 5xx, timeouts, the circuit open, the secret unreadable, the token refused
  within the grace period): left on the queue for a backoff growing with the attempts
  (``Retry-After`` honoured), in ``batchItemFailures`` — until the outage budget
  (:mod:`webhook_translator.budget`) is spent; then to the DLQ, with its reason.

The records of a batch are mapped concurrently; their events go to Ours together in as few ``/batch``
calls as possible (:mod:`~webhook_translator.delivery`), past a circuit breaker (:mod:`~webhook_translator.breaker`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from webhook_translator import log_events, translator_config
from webhook_translator.aws import sqs_client
from webhook_translator.breaker import AuthGrace, CircuitBreaker
from webhook_translator.budget import Attempt, RetryPolicy, check_budget
from webhook_translator.config import Settings, settings
from webhook_translator.delivery import OUTAGE_REASONS, Delivery, Pending
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
from webhook_translator.observability import logger
from webhook_translator.ours.client import OursClient, default_session
from webhook_translator.outcome import Job, Outcome, report
from webhook_translator.redact import redact
from webhook_translator.secrets import store_from_settings
from webhook_translator.sources.base import Source
from webhook_translator.sources.registry import REGISTRY, check_config, enabled_registry
from webhook_translator.sqs_record import SQSRecord
from webhook_translator.translation import Fetcher, provider_api_on_first_fetch, translate

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

#: time kept back at the end of an invocation (the DLQ sends, the response)
TIME_MARGIN_MS = 2_000


class Forwarder:
    def __init__(
        self,
        config: Settings,
        client: OursClient,
        *,
        sqs: SQSClient | None = None,
        registry: Mapping[str, Source] = REGISTRY,
        clock: Callable[[], float] = time.time,
        breaker: CircuitBreaker | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        if not config.dlq_url:
            raise RuntimeError("DLQ_URL is not set")
        check_config(config.translator_config, registry)
        check_budget(config)
        self._config = config
        self._client = client
        self.sqs = sqs if sqs is not None else sqs_client()
        self._registry = registry
        self._clock = clock
        self._fetcher = fetcher  # the fetch step's provider API (sources that send an id, not the data)
        self.breaker = breaker or CircuitBreaker(max_period=config.retry_max_delay, clock=clock)
        self.auth = AuthGrace(config.auth_grace_seconds, clock=clock)
        self._policy = RetryPolicy(config)
        self._delivery = Delivery(
            client, self.breaker, max_rows=config.ours_batch_rows, concurrency=config.forward_concurrency
        )

    # --- the batch ------------------------------------------------------------------------------

    def handle(
        self, event: Mapping[str, Any], remaining_ms: Callable[[], int] | None = None
    ) -> dict[str, list[dict[str, str]]]:
        """Process one SQS batch; ``remaining_ms`` is the Lambda context's clock of the time left.

        No Ours call starts without the time to finish it (its records are retried soon): a timed-out
        invocation would hand the whole batch back, dead-lettered records too.
        """
        records = [SQSRecord(raw) for raw in event.get("Records") or []]
        if not records:
            return {"batchItemFailures": []}
        workers = min(self._config.forward_concurrency, len(records))
        if workers == 1:
            prepared = [self._prepare(record) for record in records]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                prepared = list(pool.map(self._prepare, records))
        jobs = [job for job in prepared if isinstance(job, Job)]
        self._deliver(jobs, remaining_ms)
        outcomes = [self._settle(job) if isinstance(job, Job) else job for job in prepared]
        for record, outcome in zip(records, outcomes, strict=True):  # one line per record, in batch order
            attempt = int((record.raw_event.get("attributes") or {}).get("ApproximateReceiveCount") or 1)
            report(outcome, attempt, self._registry)
        failures = [
            {"itemIdentifier": record.message_id}
            for record, outcome in zip(records, outcomes, strict=True)
            if outcome.failed
        ]
        return {"batchItemFailures": failures}

    def _deliver(self, jobs: list[Job], remaining_ms: Callable[[], int] | None) -> None:
        needed_ms = sum(self._client.timeout) * 1000 + TIME_MARGIN_MS

        def time_left() -> bool:
            return remaining_ms is None or remaining_ms() >= needed_ms

        pending = [job.pending for job in jobs]
        try:
            self._delivery.deliver(pending, time_left)
        except Exception as exc:  # a bug: every record is retried, never the whole batch failed
            logger.error(log_events.FORWARDER_FAILED, extra={"error": type(exc).__name__})
            for item in pending:
                item.error = RetryableDeliveryError(
                    f"internal error ({type(exc).__name__})", delay=1.0, reason="internal_error"
                )
        refused = sum(1 for item in pending if item.error is not None and item.error.reason == "circuit_open")
        if refused:
            logger.warning(
                log_events.CIRCUIT_OPEN, extra={"records": refused, "retry_in": round(self.breaker.retry_in(), 1)}
            )

    # --- one record -----------------------------------------------------------------------------

    def _prepare(self, record: SQSRecord) -> Outcome | Job:
        """Map one record: its final outcome now (skipped, dead-lettered…), or a job with events to send."""
        queued = QueuedAttributes.from_sqs(record.raw_event.get("messageAttributes") or {})
        attrs = record.raw_event.get("attributes") or {}
        sent_ms = int(attrs.get("SentTimestamp") or 0)
        job = Job(
            record,
            source=queued.source or UNKNOWN,
            webhook_id=queued.webhook_id or UNKNOWN,
            history=queued.history,
            receive_count=int(attrs.get("ApproximateReceiveCount") or 1),
            started_at=sent_ms / 1000 if sent_ms else self._clock(),
            sent_at=sent_ms / 1000 if sent_ms else None,
        )
        try:
            envelope = Envelope.from_message(record.body)
            job.source, job.webhook_id = envelope.source, envelope.webhook_id
            job.started_at = (job.history.redriven_at or envelope.received_at).timestamp()
            source, result = translate(
                envelope,
                self._config.translator_config,
                registry=self._registry,
                now_ms=int(self._clock() * 1000),
                stale_policy=self._config.stale_event_policy,
                fetch=self._fetcher.bind(job.attempts) if self._fetcher is not None else None,
            )
            job.event_type = result.event_type
            if result.skipped is not None:
                return Outcome("skipped", job.source, job.webhook_id, job.event_type, reason=result.skipped)
            job.pending = Pending(0, source.name, result.events, attempt=job.attempts)
            if (failure := result.failure()) is not None:  # items that failed on their own: the others are sent
                job.pending.failures.append(failure)
            return job
        except (MappingError, PermanentDeliveryError, UnknownSource) as exc:
            return self._dead_letter(job, exc)
        except ConfigurationError as exc:  # the secret could not be read: transient until the budget is spent
            return self._retry(job, RetryableDeliveryError(exc.message, delay=0.0, reason="configuration"))
        except RetryableDeliveryError as exc:  # a single-object source's fetch (429/5xx/timeout): its own delay
            return self._retry(job, exc)
        except Exception as exc:  # a bug outside the mapper: never fail the whole batch, never log the message text
            logger.error(
                log_events.FORWARDER_FAILED, extra={"source": printable(job.source), "error": type(exc).__name__}
            )
            retry = RetryableDeliveryError(f"internal error ({type(exc).__name__})", delay=0.0, reason="internal_error")
            return self._retry(job, retry)

    def _settle(self, job: Job) -> Outcome:
        """The outcome of a job whose events were sent."""
        error = job.pending.error
        if error is None:
            self.auth.delivered(job.pending.source)
            return Outcome("delivered", job.source, job.webhook_id, job.event_type, events=len(job.pending.events))
        if isinstance(error, PermanentDeliveryError) and error.reason == "auth":
            left = self.auth.refused(job.pending.source)
            if left is None:
                return self._dead_letter(job, error, note="auth grace period over")
            logger.error(log_events.AUTH_GRACE, extra={"source": printable(job.source), "grace_left": int(left)})
            retry = RetryableDeliveryError(error.message, delay=0.0, reason="auth", status=error.status)
            return self._retry(job, retry, ends_at=self._clock() + left)
        if isinstance(error, RetryableDeliveryError):
            return self._retry(job, error)
        if isinstance(error, ConfigurationError):
            return self._retry(job, RetryableDeliveryError(error.message, delay=0.0, reason="configuration"))
        return self._dead_letter(job, error)

    def _retry(self, job: Job, exc: RetryableDeliveryError, *, ends_at: float | None = None) -> Outcome:
        """Leave the record on the queue for the next try, or dead-letter it now (see :mod:`.budget`)."""
        delay = exc.delay  # Ours's Retry-After, or the client's backoff for the attempt
        if exc.reason not in OUTAGE_REASONS:  # not Ours's answer: the record's own backoff
            delay = max(delay, self._client.retry_delay(job.attempts, None))
        attempt = Attempt(job.receive_count, job.started_at, job.sent_at)
        decision = self._policy.decide(attempt, delay, now=self._clock(), ends_at=ends_at)
        if isinstance(decision, str):
            return self._dead_letter(job, exc, note=decision)
        self._retry_later(job.record, decision)
        return Outcome(
            "retry",
            job.source,
            job.webhook_id,
            job.event_type,
            reason=exc.reason,
            delay=decision,
            ours_status=exc.status,
        )

    def _retry_later(self, record: SQSRecord, delay: float) -> None:
        if not self._config.queue_url:
            return
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self._config.queue_url,
                ReceiptHandle=record.receipt_handle,
                VisibilityTimeout=max(1, int(delay)),
            )
        except Exception as exc:  # the queue's own visibility timeout applies instead
            logger.warning(log_events.RETRY_DELAY_NOT_SET, extra={"error": type(exc).__name__})

    def _dead_letter(self, job: Job, exc: TranslatorError, *, note: str | None = None) -> Outcome:
        reason = exc.reason
        attributes = FailureAttributes(
            source=job.source,
            webhook_id=job.webhook_id,
            event_type=job.event_type,
            reason=reason,
            detail=redact(f"{exc.message} ({note})" if note else exc.message, ATTRIBUTE_LIMIT),
            attempts=job.attempts,
            ours_status=getattr(exc, "status", None),
            failed_at=datetime.fromtimestamp(self._clock(), UTC),
            history=job.history,
        )
        try:
            self.sqs.send_message(
                QueueUrl=str(self._config.dlq_url), MessageBody=job.record.body, MessageAttributes=attributes.to_sqs()
            )
        except Exception as err:  # the DLQ is unreachable: keep the message on the queue instead
            logger.error(
                log_events.DEAD_LETTER_FAILED,
                extra={
                    "source": printable(job.source),
                    "webhook_id": printable(job.webhook_id),
                    "error": type(err).__name__,
                },
            )
            return Outcome("retry", job.source, job.webhook_id, job.event_type, reason=reason)
        return Outcome(
            "dead_lettered",
            job.source,
            job.webhook_id,
            job.event_type,
            reason=reason,
            ours_status=attributes.ours_status,
        )


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
    fetcher = provider_api_on_first_fetch(config, store)  # no fetching source: never made
    forwarder = Forwarder(config, client, registry=translation.registry, fetcher=fetcher)
    if config.enabled_sources is not None:  # unset: every source, each made by its first webhook
        for source in enabled_registry(translation.registry, config.enabled_sources).values():
            source.prepare()  # its models (and its provider API client) made in the init (full CPU)
            if source.fetches:
                fetcher.made()
    return forwarder
