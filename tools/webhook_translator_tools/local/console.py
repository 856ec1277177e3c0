"""What ``serve`` prints: one readable line per webhook and per call to the local Ours.

The pipeline's own records (Powertools' logger; their names are the constants of
:mod:`webhook_translator.log_events`) are turned into lines such as::

    12:00:01  stripe evt_123 → queued
    12:00:02  stripe evt_123 checkout.session.completed → delivered (1 event)

Only the fields the package logs on purpose are used (source, webhook id, event
type, reason, status, delay, counts): never a body, an e-mail or a token.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, Final, TextIO

from webhook_translator import log_events

__all__ = ["Console", "PipelineLogHandler"]

ARROW: Final = "→"


class Console:
    """Thread-safe line printer with a time prefix."""

    def __init__(self, stream: TextIO | None = None, *, clock: Any = time.localtime) -> None:
        self._stream = stream
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def stream(self) -> TextIO:
        return self._stream if self._stream is not None else sys.stdout

    def say(self, text: str = "") -> None:
        """Print as is (banners)."""
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def line(self, text: str) -> None:
        """Print one event line, time-stamped."""
        stamp = time.strftime("%H:%M:%S", self._clock())
        self.say(f"{stamp}  {text}")

    def ours(self, text: str) -> None:
        """A line from the local Ours (indented under the webhook lines)."""
        self.line(f"  {text}")


def _get(record: logging.LogRecord, name: str, default: str = "-") -> str:
    value = record.__dict__.get(name)
    return default if value is None or value == "" else str(value)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


class PipelineLogHandler(logging.Handler):
    """Turns the receiver's and forwarder's log records into console lines."""

    #: extra fields that are safe to show for a warning or error nobody formats specially
    SAFE_FIELDS: Final = ("source", "webhook_id", "event_type", "status", "reason", "error", "path")
    #: records covered by another line (the outcome line, or the local Ours's own echo)
    QUIET: Final = frozenset({log_events.OURS_ANSWERED, log_events.OURS_TIMED_OUT, log_events.OURS_UNREACHABLE})

    def __init__(self, console: Console) -> None:
        super().__init__(level=logging.INFO)
        self.console = console

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format_record(record)
        except Exception:  # a console line must never break the pipeline
            self.handleError(record)
            return
        if text is not None:
            self.console.line(text)

    def format_record(self, record: logging.LogRecord) -> str | None:
        message = record.getMessage()
        source, webhook_id, event_type = _get(record, "source"), _get(record, "webhook_id"), _get(record, "event_type")
        who = f"{source} {webhook_id}"
        what = f"{who} {event_type}" if event_type != "-" else who
        reason = _get(record, "reason", "")
        if message == log_events.WEBHOOK_QUEUED:
            return f"{who} {ARROW} queued"
        if message == log_events.WEBHOOK_DELIVERED:
            events = record.__dict__.get("events")
            count = f" ({_plural(events, 'event')})" if isinstance(events, int) else ""
            return f"{what} {ARROW} delivered{count}"
        if message == log_events.WEBHOOK_SKIPPED:
            return f"{what} {ARROW} skipped ({reason or 'ignored'}): nothing sent to Ours"
        if message == log_events.WEBHOOK_DEAD_LETTERED:
            return f"{what} {ARROW} dead-lettered ({reason or 'unknown'})"
        if message == log_events.WEBHOOK_RETRIED:
            delay = record.__dict__.get("delay")
            after = f" in {delay:g} s" if isinstance(delay, int | float) else ""
            return f"{what} {ARROW} will be retried{after} ({reason or 'retryable'})"
        if message == log_events.WEBHOOK_REFUSED:
            return f"{source} {ARROW} refused {_get(record, 'status')} ({reason or 'rejected'})"
        if message == log_events.HANDSHAKE_ANSWERED:
            return f"{source} {ARROW} handshake answered"
        if record.levelno < logging.WARNING or message in self.QUIET:
            return None
        details = " ".join(f"{k}={record.__dict__[k]}" for k in self.SAFE_FIELDS if record.__dict__.get(k) is not None)
        level = "error" if record.levelno >= logging.ERROR else "warning"
        return f"{level}: {message}" + (f" ({details})" if details else "")
