"""One SQS batch's events to Ours in as few calls as the limits allow.

The events of every record of a batch are grouped by the Ours token they are sent with (sources
sharing a token share a call), cut into chunks of at most ``max_rows`` (``OURS_BATCH_ROWS``) and
sent as ``POST /batch`` — or ``POST /track`` when a chunk holds one event (or an event without a
``distinctId``, which ``/batch`` requires). :class:`~webhook_translator.ours.client.OursClient`
applies each row's outcome (207 rows, 413 splits on Ours's ``limit``) and reports one per event;
here they are folded back into one per record: every event delivered → delivered; any refused for
good → that permanent error (the record goes to the DLQ; the events already delivered dedupe on
their ``distinctId`` if it is re-driven); else any retryable → that error (the record is retried,
same distinctIds).

Chunks go out concurrently, at most ``concurrency`` at a time, and each one only when the
:class:`~webhook_translator.breaker.CircuitBreaker` allows it: a refused chunk is not sent and its
records go back to the queue (reason ``circuit_open``). ``time_left`` is asked before each call; a
chunk that would not finish in the invocation is not started (reason ``time_budget``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from webhook_translator.breaker import CircuitBreaker
from webhook_translator.errors import (
    ConfigurationError,
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    TranslatorError,
)
from webhook_translator.ours.client import DELIVERED, OursClient
from webhook_translator.ours.models import TrackEvent

__all__ = ["OUTAGE_REASONS", "Delivery", "Pending"]

#: retryable reasons that say Ours itself is struggling (they feed the circuit breaker)
OUTAGE_REASONS: Final = frozenset({"ours_unavailable", "rate_limited"})


class Pending:
    """One record's events, waiting to be sent; ``error`` is what became of them (None: delivered).

    A plain class (a dataclass's generated methods cost the init ~1 ms each class)."""

    __slots__ = ("attempt", "error", "events", "failures", "key", "source")

    def __init__(
        self,
        key: int,
        source: str,
        events: Sequence[TrackEvent],
        attempt: int = 1,
        error: TranslatorError | None = None,
        failures: list[TranslatorError] | None = None,
    ) -> None:
        self.key = key
        self.source = source
        self.events = events
        self.attempt = attempt
        self.error = error
        self.failures: list[TranslatorError] = [] if failures is None else failures

    def __repr__(self) -> str:
        return f"Pending(key={self.key}, source={self.source!r}, events={len(self.events)}, error={self.error!r})"

    def fold(self) -> None:
        """One outcome for the record from its events' outcomes: a permanent one wins."""
        permanent = [e for e in self.failures if isinstance(e, PermanentDeliveryError)]
        self.error = permanent[0] if permanent else (self.failures[0] if self.failures else None)


Row = tuple[Pending, TrackEvent]


class Delivery:
    def __init__(
        self,
        client: OursClient,
        breaker: CircuitBreaker,
        *,
        max_rows: int,
        concurrency: int,
    ) -> None:
        self.client = client
        self.breaker = breaker
        self.max_rows = max_rows
        self.concurrency = concurrency

    def deliver(self, pending: Sequence[Pending], time_left: Callable[[], bool] = lambda: True) -> int:
        """Send every pending record's events; sets each one's ``error``. Returns the Ours calls made."""
        chunks = self._chunks(pending)
        workers = min(self.concurrency, len(chunks))
        if workers <= 1:
            calls = sum(self._send(chunk, time_left) for chunk in chunks)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                calls = sum(pool.map(lambda chunk: self._send(chunk, time_left), chunks))
        for item in pending:
            item.fold()
        return calls

    def _chunks(self, pending: Sequence[Pending]) -> list[tuple[str, list[Row]]]:
        """(source whose token is used, rows) per call: grouped by token, at most ``max_rows`` each."""
        groups: dict[str, tuple[str, list[Row]]] = {}
        singles: list[tuple[str, list[Row]]] = []
        for item in pending:
            if not item.events:
                continue
            try:
                token = self.client.token_key(item.source)
            except ConfigurationError as exc:
                item.failures.append(exc)
                continue
            for event in item.events:
                if event.distinct_id is None:
                    singles.append((item.source, [(item, event)]))
                else:
                    groups.setdefault(token, (item.source, []))[1].append((item, event))
        chunks = list(singles)
        for source, rows in groups.values():
            chunks.extend((source, rows[i : i + self.max_rows]) for i in range(0, len(rows), self.max_rows))
        return chunks

    def _send(self, chunk: tuple[str, list[Row]], time_left: Callable[[], bool]) -> int:
        source, rows = chunk
        if not time_left():
            self._fail(
                rows, RetryableDeliveryError("not enough time left in this invocation", delay=1.0, reason="time_budget")
            )
            return 0
        if not self.breaker.allow():
            wait = self.breaker.retry_in()
            self._fail(
                rows,
                RetryableDeliveryError("Ours is failing: not called (circuit open)", delay=wait, reason="circuit_open"),
            )
            return 0
        attempt = min(item.attempt for item, _ in rows)
        outcomes: list[object]
        try:
            if len(rows) == 1:
                self.client.track(rows[0][1], source=source, attempt=attempt)
                outcomes = [DELIVERED]
            else:
                outcomes = list(self.client.batch([event for _, event in rows], source=source, attempt=attempt))
        except DeliveryError as exc:
            outcomes = [exc]
        except ConfigurationError as exc:  # the token could not be (re-)read
            self._fail(rows, exc)
            return 1
        self._feed_breaker(outcomes)
        for (item, _), outcome in zip(rows, outcomes * len(rows) if len(outcomes) == 1 else outcomes, strict=True):
            if isinstance(outcome, TranslatorError):
                item.failures.append(outcome)
        return 1

    def _feed_breaker(self, outcomes: Sequence[object]) -> None:
        outage = all(isinstance(o, RetryableDeliveryError) and o.reason in OUTAGE_REASONS for o in outcomes)
        if outage:
            self.breaker.failed()
        else:
            self.breaker.succeeded()

    @staticmethod
    def _fail(rows: Sequence[Row], error: TranslatorError) -> None:
        for item, _ in rows:
            item.failures.append(error)
