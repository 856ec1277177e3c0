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
from collections.abc import Callable
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


class _Fields:
    """The fields of a record an outcome line shows (``-`` for those it lacks; the reason ``""``)."""

    def __init__(self, record: logging.LogRecord) -> None:
        self.record = record
        self.source = _get(record, "source")
        self.reason = _get(record, "reason", "")
        event_type = _get(record, "event_type")
        self.who = f"{self.source} {_get(record, 'webhook_id')}"
        self.what = f"{self.who} {event_type}" if event_type != "-" else self.who


def _delivered(f: _Fields) -> str:
    events = f.record.__dict__.get("events")
    count = f" ({_plural(events, 'event')})" if isinstance(events, int) else ""
    return f"{f.what} {ARROW} delivered{count}"


def _retried(f: _Fields) -> str:
    delay = f.record.__dict__.get("delay")
    after = f" in {delay:g} s" if isinstance(delay, int | float) else ""
    return f"{f.what} {ARROW} will be retried{after} ({f.reason or 'retryable'})"


#: the line of each record the pipeline logs by name
_LINES: Final[dict[str, Callable[[_Fields], str]]] = {
    log_events.WEBHOOK_QUEUED: lambda f: f"{f.who} {ARROW} queued",
    log_events.WEBHOOK_DELIVERED: _delivered,
    log_events.WEBHOOK_SKIPPED: lambda f: f"{f.what} {ARROW} skipped ({f.reason or 'ignored'}): nothing sent to Ours",
    log_events.WEBHOOK_DEAD_LETTERED: lambda f: f"{f.what} {ARROW} dead-lettered ({f.reason or 'unknown'})",
    log_events.WEBHOOK_RETRIED: _retried,
    log_events.WEBHOOK_REFUSED: lambda f: (
        f"{f.source} {ARROW} refused {_get(f.record, 'status')} ({f.reason or 'rejected'})"
    ),
    log_events.HANDSHAKE_ANSWERED: lambda f: f"{f.source} {ARROW} handshake answered",
}


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
        line = _LINES.get(message)
        if line is not None:
            return line(_Fields(record))
        if record.levelno < logging.WARNING or message in self.QUIET:
            return None
        details = " ".join(f"{k}={record.__dict__[k]}" for k in self.SAFE_FIELDS if record.__dict__.get(k) is not None)
        level = "error" if record.levelno >= logging.ERROR else "warning"
        return f"{level}: {message}" + (f" ({details})" if details else "")
