"""The local stack's CloudWatch Logs: what the two functions write, one JSON document per line.

On AWS a function's log group holds its structured log records (Powertools' JSON) and its EMF
metric documents; ``status`` and ``find`` read them through CloudWatch. Under ``serve`` the same
records — formatted by the same Powertools formatter — and the same EMF documents go to one file,
``<state dir>/pipeline-<receiver port>.jsonl`` (the state dir defaults to
``$XDG_STATE_HOME/webhook-translator``, i.e. ``~/.local/state/webhook-translator``). The file is
started afresh by each ``serve`` and kept after it stops; ``serve`` prints it in its export line as
``WEBHOOK_TRANSLATOR_LOG``, which points ``status`` and ``find`` at it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, TextIO

__all__ = ["LOG_ENV", "JsonRecordHandler", "PipelineLog", "default_state_dir", "read_documents"]

#: the variable ``serve`` exports and ``status`` / ``find`` read
LOG_ENV: Final = "WEBHOOK_TRANSLATOR_LOG"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "webhook-translator"


class PipelineLog:
    """An append-only JSON-lines file, written by several threads (the receiver's and the poller's)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = path.open("w", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            if self._file is None:
                return
            self._file.write(line.rstrip("\n") + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


class JsonRecordHandler(logging.Handler):
    """Writes each record as the function's JSON log line (the Powertools formatter the functions use)."""

    def __init__(self, log: PipelineLog, formatter: logging.Formatter) -> None:
        super().__init__(level=logging.INFO)
        self.log = log
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.log.write(self.format(record))
        except Exception:  # the log file must never break the pipeline
            self.handleError(record)


def read_documents(path: Path) -> Iterator[dict[str, Any]]:
    """Every JSON object in the file, in order (a torn or foreign line is skipped)."""
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                document = json.loads(line)
            except ValueError:
                continue
            if isinstance(document, dict):
                yield document
