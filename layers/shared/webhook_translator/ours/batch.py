"""``POST /batch``: one call for many events, and what became of each (207 rows, 413 splits, 5xx with results)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

from webhook_translator.errors import PermanentDeliveryError, RetryableDeliveryError
from webhook_translator.observability import logger
from webhook_translator.ours.models import InvalidTrackEvent, TrackEvent, validate_token
from webhook_translator.ours.wire import Answer, Call, scrub
from webhook_translator.redact import redact

__all__ = ["DELIVERED", "BatchOutcome", "BatchResult", "BatchSender"]

DELIVERED: Final = "delivered"

BatchOutcome: TypeAlias = Literal["delivered"] | RetryableDeliveryError | PermanentDeliveryError
DeliveryError: TypeAlias = RetryableDeliveryError | PermanentDeliveryError
Rows: TypeAlias = list[tuple[int, TrackEvent]]
#: ``(path, call, body for a token, attempt, log fields)`` → Ours's answer (the client's authorised POST)
Post: TypeAlias = Callable[[str, Call, Callable[[str], dict[str, Any]], int, dict[str, Any]], Answer]


@dataclass(frozen=True)
class BatchResult:
    """What became of each event of a :meth:`OursClient.batch` call, by input index."""

    outcomes: tuple[BatchOutcome, ...]

    def __len__(self) -> int:
        return len(self.outcomes)

    def __getitem__(self, index: int) -> BatchOutcome:
        return self.outcomes[index]

    def __iter__(self) -> Iterator[BatchOutcome]:
        return iter(self.outcomes)

    @property
    def delivered(self) -> list[int]:
        return [i for i, outcome in enumerate(self.outcomes) if outcome == DELIVERED]

    @property
    def retryable(self) -> dict[int, RetryableDeliveryError]:
        return {i: o for i, o in enumerate(self.outcomes) if isinstance(o, RetryableDeliveryError)}

    @property
    def permanent(self) -> dict[int, PermanentDeliveryError]:
        return {i: o for i, o in enumerate(self.outcomes) if isinstance(o, PermanentDeliveryError)}

    @property
    def all_delivered(self) -> bool:
        return all(outcome == DELIVERED for outcome in self.outcomes)


class BatchSender:
    """One :meth:`OursClient.batch` call, over the client's authorised POST, error rules and backoff."""

    def __init__(
        self,
        post: Post,
        error_for: Callable[[Answer, str, int], DeliveryError],
        retry_delay: Callable[[int, str | None], float],
    ) -> None:
        self._post = post
        self._error_for = error_for
        self._retry_delay = retry_delay

    def send(self, events: Sequence[TrackEvent], *, source: str, attempt: int) -> BatchResult:
        missing = [(f"events.{i}.distinctId", "missing") for i, e in enumerate(events) if not e.distinct_id]
        if missing:
            raise InvalidTrackEvent(missing)
        outcomes: list[BatchOutcome] = [DELIVERED] * len(events)
        if events:
            self._chunk(list(enumerate(events)), Call(source), attempt, outcomes)
        return BatchResult(tuple(outcomes))

    def _chunk(self, rows: Rows, call: Call, attempt: int, outcomes: list[BatchOutcome]) -> None:
        log = {"source": call.source, "rows": len(rows), "attempt": attempt}

        def body(token: str) -> dict[str, Any]:
            return {"token": validate_token(token), "events": [event.sent_body() for _, event in rows]}

        try:
            answer = self._post("/batch", call, body, attempt, log)
        except (RetryableDeliveryError, PermanentDeliveryError) as exc:
            _fail(rows, outcomes, exc)
            return
        status = answer.status
        if 200 <= status < 300 and status != 207:
            return
        if status == 413 and len(rows) > 1:
            size = _split_size(answer, len(rows))
            logger.info("Ours batch too large; splitting", extra={**log, "chunk": size})
            for start in range(0, len(rows), size):
                self._chunk(rows[start : start + size], call, attempt, outcomes)
        elif status == 207 or (status >= 500 and isinstance(answer.body, dict) and "results" in answer.body):
            self._apply_rows(rows, answer, attempt, outcomes)
        else:
            _fail(rows, outcomes, self._error_for(answer, "/batch", attempt))

    def _apply_rows(self, rows: Rows, answer: Answer, attempt: int, outcomes: list[BatchOutcome]) -> None:
        """207 (or 5xx with ``results``): each failed row by its code.

        On a 207 the rows not reported failed are delivered. On a 5xx they are delivered only when
        Ours's ``accepted`` count says so; otherwise they are retried too (their distinctIds make
        that safe), because nothing is lost is the first rule.
        """
        delay = _Delay(lambda: self._retry_delay(attempt, answer.headers.get("Retry-After")))
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        if not isinstance(results, list):
            # a 207 without rows tells us nothing: retry them all (distinctIds make that safe)
            message = f"Ours answered {answer.status} to /batch without per-row results"
            _fail(rows, outcomes, RetryableDeliveryError(message, delay=delay(), status=answer.status))
            return
        reported: set[int] = set()
        for position, row in _failed_rows(results, len(rows)):
            reported.add(position)
            outcomes[rows[position][0]] = _row_error(row, answer, delay)
        if answer.status == 207:
            return
        # a 5xx lists the failed rows; the others count as delivered only if Ours's "accepted" confirms it
        accepted = answer.body.get("accepted")
        if isinstance(accepted, int) and accepted == len(rows) - len(reported):
            return
        message = f"Ours answered {answer.status} to /batch without confirming the other rows"
        error = RetryableDeliveryError(message, delay=delay(), status=answer.status)
        _fail([row for position, row in enumerate(rows) if position not in reported], outcomes, error)


class _Delay:
    """The retry delay of one answer, worked out once, when a row first needs it."""

    def __init__(self, compute: Callable[[], float]) -> None:
        self._compute = compute
        self._value: float | None = None

    def __call__(self) -> float:
        if self._value is None:
            self._value = self._compute()
        return self._value


def _fail(rows: Rows, outcomes: list[BatchOutcome], error: DeliveryError) -> None:
    for index, _ in rows:
        outcomes[index] = error


def _split_size(answer: Answer, count: int) -> int:
    """The chunk size after a 413: Ours's ``limit`` when it is a usable one, else half."""
    limit = answer.body.get("limit") if isinstance(answer.body, dict) else None
    if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < count:
        return limit
    return (count + 1) // 2


def _failed_rows(results: list[Any], count: int) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(position, row)`` of each row of ``results`` reporting a failure at a position of the chunk."""
    for row in results:
        if not isinstance(row, dict) or row.get("success") is True:
            continue
        position = row.get("index")
        if isinstance(position, int) and not isinstance(position, bool) and 0 <= position < count:
            yield position, row


def _row_error(row: dict[str, Any], answer: Answer, delay: _Delay) -> DeliveryError:
    """What one failed row of a 207 / 5xx means: ``invalid_event`` is permanent, any other code retryable."""
    if row.get("code") == "invalid_event":
        message = row.get("message")
        detail = redact(scrub(str(message), answer.tokens)) if message else "no message"
        # no HTTP status of its own: the call's (207, 5xx) says nothing about this row
        return PermanentDeliveryError(f"Ours rejected the event (invalid_event): {detail}", reason="ours_rejected")
    code = row.get("code") if isinstance(row.get("code"), str) else "unknown"
    return RetryableDeliveryError(
        f"Ours could not queue the event ({redact(str(code), 40)})",
        delay=delay(),
        reason="ours_unavailable",
        status=answer.status,
    )
