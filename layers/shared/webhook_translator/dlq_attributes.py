"""The SQS message attributes of a webhook: their names, and how they are written and read.

* :class:`QueuedAttributes` — what the receiver gives a queued webhook (``source``, ``webhook_id``);
  the forwarder reads them before it can parse the envelope, ``dlq redrive`` writes them back.
* :class:`FailureAttributes` — what the forwarder adds when it dead-letters a webhook (the reason,
  a redacted detail, the attempts, Ours's status, when); ``dlq list`` reads them.
* :class:`History` — what a webhook went through before its current round: the attempts of earlier
  rounds, their reasons, Ours's last status, when it was last re-driven. ``dlq redrive`` writes it
  (one ``history`` attribute, compact JSON: SQS allows 10 attributes per message) and the forwarder
  carries it on: the attempts add up, the reasons are kept, and the outage budget restarts at the
  redrive.

Every value is printable and at most :data:`ATTRIBUTE_LIMIT` characters; ``-`` stands for unknown.
Values are written in boto3's shape (``StringValue``) and read in either boto3's or the Lambda
event's (``stringValue``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, NamedTuple

if TYPE_CHECKING:
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

SOURCE: Final = "source"
WEBHOOK_ID: Final = "webhook_id"
EVENT_TYPE: Final = "event_type"
FAILURE_REASON: Final = "failure_reason"
FAILURE_DETAIL: Final = "failure_detail"
ATTEMPTS: Final = "attempts"
OURS_STATUS: Final = "ours_status"
FAILED_AT: Final = "failed_at"
HISTORY: Final = "history"
#: the most previous reasons a history keeps (the newest)
MAX_REASONS: Final = 5

#: SQS message attribute values: printable, bounded
ATTRIBUTE_LIMIT: Final = 256
UNKNOWN: Final = "-"

Attributes = dict[str, "MessageAttributeValueTypeDef"]


def printable(value: str | None, limit: int = ATTRIBUTE_LIMIT) -> str:
    """A value safe for an SQS attribute or a log field: printable characters only, bounded."""
    text = "".join(ch if ch.isprintable() else "?" for ch in (value or UNKNOWN)[:limit])
    return text or UNKNOWN


def read(attrs: Mapping[str, Any], name: str) -> str | None:
    """One attribute's text, from boto3's or the Lambda event's shape; None when absent or unknown."""
    value = attrs.get(name) or {}
    text = value.get("StringValue") or value.get("stringValue")
    return str(text) if text and text != UNKNOWN else None


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _write(values: Mapping[str, str | None]) -> Attributes:
    return {name: {"DataType": "String", "StringValue": printable(value)} for name, value in values.items()}


class History(NamedTuple):
    """Earlier rounds of one webhook (before its last redrive); empty for a webhook never re-driven."""

    #: attempts of all earlier rounds together
    attempts: int = 0
    #: the reasons of earlier rounds, oldest first (the last :data:`MAX_REASONS`)
    reasons: tuple[str, ...] = ()
    ours_status: int | None = None
    redriven_at: datetime | None = None
    redrives: int = 0

    @property
    def empty(self) -> bool:
        return self == History()

    def text(self) -> str | None:
        """The attribute's value: compact JSON, printable, bounded; None when there is no history."""
        if self.empty:
            return None
        reasons = [printable(r, 24) for r in self.reasons[-MAX_REASONS:]]
        data: dict[str, Any] = {"a": self.attempts, "r": reasons, "n": self.redrives}
        if self.ours_status is not None:
            data["s"] = self.ours_status
        if self.redriven_at is not None:
            data["t"] = self.redriven_at.isoformat(timespec="seconds")
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str | None) -> History:
        """A history from its attribute; an unreadable one counts as none (it is advisory)."""
        try:
            data = json.loads(text) if text else None
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return cls()
        reasons = data.get("r")
        return cls(
            attempts=max(0, _int(str(data.get("a"))) or 0),
            reasons=tuple(str(r) for r in reasons[-MAX_REASONS:]) if isinstance(reasons, list) else (),
            ours_status=_int(str(data["s"])) if "s" in data else None,
            redriven_at=_time(str(data["t"])) if "t" in data else None,
            redrives=max(0, _int(str(data.get("n"))) or 0),
        )

    def after(self, failure: FailureAttributes, *, now: datetime) -> History:
        """The history a redrive gives a dead-lettered webhook: its failure becomes the latest round."""
        reasons = self.reasons + ((failure.reason,) if failure.reason else ())
        return History(
            attempts=max(self.attempts, failure.attempts or 0),
            reasons=reasons[-MAX_REASONS:],
            ours_status=failure.ours_status if failure.ours_status is not None else self.ours_status,
            redriven_at=now,
            redrives=self.redrives + 1,
        )


class QueuedAttributes(NamedTuple):
    source: str | None
    webhook_id: str | None
    history: History = History()

    def to_sqs(self) -> Attributes:
        """The attributes to send; an unknown value is left out."""
        known = {SOURCE: self.source, WEBHOOK_ID: self.webhook_id, HISTORY: self.history.text()}
        return _write({k: v for k, v in known.items() if v and v != UNKNOWN})

    @classmethod
    def from_sqs(cls, attrs: Mapping[str, Any]) -> QueuedAttributes:
        return cls(
            source=read(attrs, SOURCE), webhook_id=read(attrs, WEBHOOK_ID), history=History.parse(read(attrs, HISTORY))
        )


class FailureAttributes(NamedTuple):
    source: str | None
    webhook_id: str | None
    event_type: str | None
    reason: str | None
    detail: str | None = None
    attempts: int | None = None
    ours_status: int | None = None
    failed_at: datetime | None = None
    #: the rounds before this one (``attempts`` already counts theirs)
    history: History = History()

    def to_sqs(self) -> Attributes:
        values: dict[str, str | None] = {
            SOURCE: self.source,
            WEBHOOK_ID: self.webhook_id,
            EVENT_TYPE: self.event_type,
            FAILURE_REASON: self.reason,
            FAILURE_DETAIL: self.detail,
            ATTEMPTS: None if self.attempts is None else str(self.attempts),
            FAILED_AT: self.failed_at.isoformat(timespec="seconds") if self.failed_at else None,
        }
        if self.ours_status is not None:
            values[OURS_STATUS] = str(self.ours_status)
        if not self.history.empty:
            values[HISTORY] = self.history.text()
        return _write(values)

    @classmethod
    def from_sqs(cls, attrs: Mapping[str, Any]) -> FailureAttributes:
        return cls(
            source=read(attrs, SOURCE),
            webhook_id=read(attrs, WEBHOOK_ID),
            event_type=read(attrs, EVENT_TYPE),
            reason=read(attrs, FAILURE_REASON),
            detail=read(attrs, FAILURE_DETAIL),
            attempts=_int(read(attrs, ATTEMPTS)),
            ours_status=_int(read(attrs, OURS_STATUS)),
            failed_at=_time(read(attrs, FAILED_AT)),
            history=History.parse(read(attrs, HISTORY)),
        )
