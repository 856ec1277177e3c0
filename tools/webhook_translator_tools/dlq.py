"""The dead-letter queue: what is in it, and moving messages back for another try.

A DLQ message is the queued envelope exactly as the receiver wrote it (so a
re-drive after a mapper fix maps what the provider sent), with message
attributes naming the failure when the forwarder put it there
(``failure_reason``, ``failure_detail``, ``attempts``, ``failed_at``, and
``history`` for a webhook that was re-driven before). A message the queue moved
itself (``maxReceiveCount`` reached without the forwarder recording a reason) is
listed with the reason ``receive_limit``.

:meth:`DeadLetterQueue.list_messages` peeks: it receives every message, hiding each for
a moment, then makes them all visible again. :meth:`DeadLetterQueue.redrive`
sends each matching message's body back to the queue with its ``source`` and
``webhook_id`` attributes and its **history** (the attempts so far, the previous
reasons, Ours's last status, when it was re-driven: the forwarder adds them up and
restarts the outage budget) and deletes it from the DLQ **only after** that send
succeeded; every message it does not move is made visible again. (SQS's own
``StartMessageMoveTask`` cannot filter, keeps no history, and moto lacks it.)
Filters: source, reason, failure time (``since``/``until``), webhook or message ids;
``rate`` paces the sends. Each redriven webhook's age (from the envelope's receive
time) is compared with Ours's 7-day window (``stale``: Ours refuses its time; with
``skip_stale`` it stays in the DLQ) and with the destinations' windows (Meta and
Reddit 7 days, Google Analytics real time only: ``ours-api.md``), and counted.

Nothing here returns a body's content beyond the envelope's ``source``, ``webhook_id``,
``received_at`` and, for a ``stale_event`` whose attributes lack it, the provider event type (the
mapper run again in memory): listings never carry personal data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from webhook_translator.dlq_attributes import FailureAttributes, History, QueuedAttributes

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef, MessageTypeDef

__all__ = ["RECEIVE_LIMIT", "DeadLetter", "DeadLetterQueue", "RedriveResult"]

#: the reason shown for a message the queue's redrive policy moved (no reason recorded)
RECEIVE_LIMIT: Final = "receive_limit"
#: seconds a listed or skipped message stays hidden while the command runs
HOLD_SECONDS: Final = 60
#: a bound on one run, so a queue that refills as fast as it is read cannot keep a command going
MAX_MESSAGES: Final = 100_000
#: Ours accepts an event's ``time`` only within the last 7 days; Meta and Reddit replay 7 days too
OURS_WINDOW: Final = 7 * 86400
#: Google Analytics takes events in real time only: we count anything older than an hour as past it
REALTIME_WINDOW: Final = 3600


@dataclass(frozen=True)
class DeadLetter:
    """One DLQ message, described without its body."""

    message_id: str
    source: str
    webhook_id: str
    event_type: str
    reason: str
    detail: str | None
    attempts: int | None
    ours_status: int | None
    failed_at: datetime | None
    receipt_handle: str = field(repr=False, compare=False)
    body: str = field(repr=False, compare=False)
    #: earlier rounds (before the last redrive): ``attempts`` already counts theirs
    history: History = field(default_factory=History, compare=False)
    #: when the receiver first queued it (the envelope's ``received_at``)
    received_at: datetime | None = None

    @classmethod
    def from_message(cls, message: MessageTypeDef) -> DeadLetter:
        failure = FailureAttributes.from_sqs(message.get("MessageAttributes") or {})
        body = message.get("Body", "")
        envelope = _envelope_ids(body)
        return cls(
            message_id=message["MessageId"],
            source=failure.source or envelope.get("source") or "-",
            webhook_id=failure.webhook_id or envelope.get("webhook_id") or "-",
            event_type=failure.event_type or _stale_event_type(failure.reason, body) or "-",
            reason=failure.reason or RECEIVE_LIMIT,
            detail=failure.detail,
            attempts=failure.attempts,
            ours_status=failure.ours_status,
            failed_at=failure.failed_at or _sent_at(message),
            receipt_handle=message["ReceiptHandle"],
            body=body,
            history=failure.history,
            received_at=_aware(envelope.get("received_at")),
        )

    def age_seconds(self, now: float) -> float | None:
        return None if self.failed_at is None else max(0.0, now - self.failed_at.timestamp())

    def webhook_age(self, now: float) -> float | None:
        """Seconds since the receiver first queued it (None when the envelope does not say)."""
        return None if self.received_at is None else max(0.0, now - self.received_at.timestamp())

    def matches(
        self,
        *,
        source: str | None = None,
        reason: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: frozenset[str] | None = None,
    ) -> bool:
        """Whether every given filter holds (``since``/``until``: the failure time; ``ids``: webhook or message id)."""
        if (source is not None and self.source != source) or (reason is not None and self.reason != reason):
            return False
        if ids is not None and self.webhook_id not in ids and self.message_id not in ids:
            return False
        if since is not None and (self.failed_at is None or self.failed_at < since):
            return False
        return until is None or (self.failed_at is not None and self.failed_at <= until)

    def previous_reasons(self) -> str:
        return ",".join(self.history.reasons) or "-"

    def to_json(self, now: float) -> dict[str, Any]:
        """The listing's JSON row (never the body)."""
        age = self.age_seconds(now)
        return {
            "message_id": self.message_id,
            "source": self.source,
            "webhook_id": self.webhook_id,
            "event_type": self.event_type,
            "reason": self.reason,
            "detail": self.detail,
            "attempts": self.attempts,
            "ours_status": self.ours_status,
            "failed_at": self.failed_at.isoformat(timespec="seconds") if self.failed_at else None,
            "age_seconds": None if age is None else int(age),
            "received_at": self.received_at.isoformat(timespec="seconds") if self.received_at else None,
            "history": {
                "previous_reasons": list(self.history.reasons),
                "previous_attempts": self.history.attempts,
                "previous_ours_status": self.history.ours_status,
                "redrives": self.history.redrives,
                "last_redriven_at": self.history.redriven_at.isoformat(timespec="seconds")
                if self.history.redriven_at
                else None,
            },
        }

    def redrive_attributes(self, now: float | None = None) -> dict[str, MessageAttributeValueTypeDef]:
        """The receiver's attributes plus the history: this failure becomes the latest earlier round."""
        failure = FailureAttributes(
            self.source,
            self.webhook_id,
            self.event_type,
            self.reason,
            attempts=self.attempts,
            ours_status=self.ours_status,
        )
        when = datetime.fromtimestamp(time.time() if now is None else now, UTC)
        history = self.history.after(failure, now=when)
        return QueuedAttributes(source=self.source, webhook_id=self.webhook_id, history=history).to_sqs()


@dataclass
class RedriveResult:
    moved: list[DeadLetter] = field(default_factory=list)
    #: messages left in the DLQ because they did not match the filters
    unmatched: int = 0
    #: messages left in the DLQ because sending them back failed: (message, error name)
    failed: list[tuple[DeadLetter, str]] = field(default_factory=list)
    #: messages sent back whose DLQ copy could not be deleted (they are on both queues; distinctIds dedupe)
    not_deleted: list[DeadLetter] = field(default_factory=list)
    #: matching webhooks past Ours's 7-day window (left in the DLQ with ``skip_stale``, else moved)
    stale: list[DeadLetter] = field(default_factory=list)
    #: moved webhooks older than the destinations' shortest window (GA real time; Meta/Reddit 7 days)
    past_realtime: int = 0
    past_meta: int = 0


def _envelope_ids(body: str) -> dict[str, str]:
    """Only ``source`` and ``webhook_id`` from a queued envelope (nothing else of the body is read)."""
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v[:256] for k in ("source", "webhook_id", "received_at") if isinstance(v := data.get(k), str) and v}


def _aware(text: str | None) -> datetime | None:
    """An ISO time (naive: UTC), or None when absent or unreadable."""
    try:
        value = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _sent_at(message: MessageTypeDef) -> datetime | None:
    """When SQS received the copy (``SentTimestamp``): the failure time of a message without attributes."""
    sent = (message.get("Attributes") or {}).get("SentTimestamp")
    return datetime.fromtimestamp(int(sent) / 1000, UTC) if sent and sent.isdigit() else None


def _stale_event_type(reason: str | None, body: str) -> str | None:
    """The provider event type of a ``stale_event`` the forwarder could not name (the age check fails
    mid-mapping): the source's mapper run again, in memory, with stale events allowed. Nothing is sent."""
    from webhook_translator.errors import StaleEvent

    if reason != StaleEvent.reason:
        return None
    from webhook_translator.config import TranslatorConfig
    from webhook_translator.envelope import Envelope
    from webhook_translator.sources.registry import REGISTRY
    from webhook_translator.translation import translate

    try:
        envelope = Envelope.from_message(body)
        now_ms = int(time.time() * 1000)
        _, result = translate(
            envelope, TranslatorConfig(), registry=REGISTRY, now_ms=now_ms, stale_policy="send_without_time"
        )
    except Exception:  # any failure: the type stays unknown, the listing goes on
        return None
    return result.event_type[:256] or None


class DeadLetterQueue:
    """The DLQ (and, for a redrive, the queue its messages go back to), through an injected SQS client."""

    def __init__(
        self,
        sqs: SQSClient,
        dlq_url: str,
        *,
        queue_url: str | None = None,
        hold_seconds: int = HOLD_SECONDS,
        wait_seconds: int = 1,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.sqs = sqs
        self.dlq_url = dlq_url
        self.queue_url = queue_url
        self.hold_seconds = hold_seconds
        self.wait_seconds = wait_seconds
        self.clock = clock
        self.sleep = sleep

    # --- reading ---------------------------------------------------------------------------------

    def _batches(self) -> Iterator[list[MessageTypeDef]]:
        """Receive until the DLQ has nothing more to give, each message hidden for ``hold_seconds``."""
        seen: set[str] = set()
        while len(seen) < MAX_MESSAGES:
            messages = self.sqs.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=self.wait_seconds,
                VisibilityTimeout=self.hold_seconds,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in seen]
            if not fresh:  # empty, or only messages already handled whose hold ran out: done
                return
            seen.update(m["MessageId"] for m in fresh)
            yield fresh

    def _release(self, letters: list[DeadLetter]) -> int:
        """Make messages visible again; returns how many could not be (they reappear after the hold)."""
        stuck = 0
        for start in range(0, len(letters), 10):
            chunk = letters[start : start + 10]
            try:
                answer = self.sqs.change_message_visibility_batch(
                    QueueUrl=self.dlq_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                        for i, m in enumerate(chunk)
                    ],
                )
                stuck += len(answer.get("Failed", []))
            except Exception:  # they become visible by themselves when the hold ends
                stuck += len(chunk)
        return stuck

    def list_messages(self) -> list[DeadLetter]:
        """Every message in the DLQ, oldest failure first; the DLQ is left as it was."""
        letters: list[DeadLetter] = []
        try:
            for batch in self._batches():
                letters.extend(DeadLetter.from_message(m) for m in batch)
        finally:
            self._release(letters)
        return sorted(letters, key=lambda m: (m.failed_at or datetime.max.replace(tzinfo=UTC), m.message_id))

    # --- moving back -----------------------------------------------------------------------------

    def redrive(
        self,
        *,
        source: str | None = None,
        reason: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        ids: frozenset[str] | None = None,
        skip_stale: bool = False,
        rate: float | None = None,
    ) -> RedriveResult:
        """Move matching messages back to the queue: send first, delete from the DLQ only after the send succeeded.

        ``rate``: at most that many sends per second. ``skip_stale``: leave webhooks past Ours's window.
        """
        if not self.queue_url:
            raise ValueError("no queue URL to move messages back to")
        result = RedriveResult()
        held: list[DeadLetter] = []
        last_send: float | None = None
        try:
            for batch in self._batches():
                for message in batch:
                    letter = DeadLetter.from_message(message)
                    if not letter.matches(source=source, reason=reason, since=since, until=until, ids=ids):
                        result.unmatched += 1
                        held.append(letter)
                        continue
                    age = letter.webhook_age(self.clock())
                    if age is not None and age > OURS_WINDOW:
                        result.stale.append(letter)
                        if skip_stale:
                            held.append(letter)
                            continue
                    if rate:
                        if last_send is not None:
                            self.sleep(max(0.0, last_send + 1.0 / rate - time.monotonic()))
                        last_send = time.monotonic()
                    if self._move(letter, result, held) and age is not None:
                        result.past_realtime += age > REALTIME_WINDOW
                        result.past_meta += age > OURS_WINDOW
        finally:
            self._release(held)
        return result

    def _move(self, letter: DeadLetter, result: RedriveResult, held: list[DeadLetter]) -> bool:
        try:
            self.sqs.send_message(
                QueueUrl=str(self.queue_url),
                MessageBody=letter.body,
                MessageAttributes=letter.redrive_attributes(self.clock()),
            )
        except Exception as exc:  # not on the queue: it must stay in the DLQ
            result.failed.append((letter, type(exc).__name__))
            held.append(letter)
            return False
        result.moved.append(letter)
        try:
            self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=letter.receipt_handle)
        except Exception:
            result.not_deleted.append(letter)
        return True
