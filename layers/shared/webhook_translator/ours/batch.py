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
            return {"token": validate_token(token), "events": [event.to_ours() for _, event in rows]}

        try:
            answer = self._post("/batch", call, body, attempt, log)
        except (RetryableDeliveryError, PermanentDeliveryError) as exc:
            for index, _ in rows:
                outcomes[index] = exc
            return
        status = answer.status
        if 200 <= status < 300 and status != 207:
            return
        if status == 413 and len(rows) > 1:
            limit = answer.body.get("limit") if isinstance(answer.body, dict) else None
            size = limit if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < len(rows) else None
            size = size or (len(rows) + 1) // 2
            logger.info("Ours batch too large; splitting", extra={**log, "chunk": size})
            for start in range(0, len(rows), size):
                self._chunk(rows[start : start + size], call, attempt, outcomes)
            return
        if status == 207 or (status >= 500 and isinstance(answer.body, dict) and "results" in answer.body):
            self._apply_rows(rows, answer, attempt, outcomes)
            return
        error = self._error_for(answer, "/batch", attempt)
        for index, _ in rows:
            outcomes[index] = error

    def _apply_rows(self, rows: Rows, answer: Answer, attempt: int, outcomes: list[BatchOutcome]) -> None:
        """207 (or 5xx with ``results``): each failed row by its code.

        On a 207 the rows not reported failed are delivered. On a 5xx they are delivered only when
        Ours's ``accepted`` count says so; otherwise they are retried too (their distinctIds make
        that safe), because nothing is lost is the first rule.
        """
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        if not isinstance(results, list):
            # a 207 without rows tells us nothing: retry them all (distinctIds make that safe)
            error = RetryableDeliveryError(
                f"Ours answered {answer.status} to /batch without per-row results",
                delay=self._retry_delay(attempt, answer.headers.get("Retry-After")),
                status=answer.status,
            )
            for index, _ in rows:
                outcomes[index] = error
            return
        delay: float | None = None
        reported: set[int] = set()
        for row in results:
            if not isinstance(row, dict) or row.get("success") is True:
                continue
            position = row.get("index")
            if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < len(rows):
                continue
            index = rows[position][0]
            reported.add(position)
            message = row.get("message")
            detail = redact(scrub(str(message), answer.tokens)) if message else "no message"
            if row.get("code") == "invalid_event":
                # no HTTP status of its own: the call's (207, 5xx) says nothing about this row
                outcomes[index] = PermanentDeliveryError(
                    f"Ours rejected the event (invalid_event): {detail}", reason="ours_rejected"
                )
            else:
                if delay is None:
                    delay = self._retry_delay(attempt, answer.headers.get("Retry-After"))
                code = row.get("code") if isinstance(row.get("code"), str) else "unknown"
                outcomes[index] = RetryableDeliveryError(
                    f"Ours could not queue the event ({redact(str(code), 40)})",
                    delay=delay,
                    reason="ours_unavailable",
                    status=answer.status,
                )
        if answer.status == 207:
            return
        # a 5xx lists the failed rows; the others count as delivered only if Ours's "accepted" confirms it
        accepted = answer.body.get("accepted")
        if isinstance(accepted, int) and accepted == len(rows) - len(reported):
            return
        error = RetryableDeliveryError(
            f"Ours answered {answer.status} to /batch without confirming the other rows",
            delay=delay if delay is not None else self._retry_delay(attempt, answer.headers.get("Retry-After")),
            status=answer.status,
        )
        for position, (index, _) in enumerate(rows):
            if position not in reported:
                outcomes[index] = error
