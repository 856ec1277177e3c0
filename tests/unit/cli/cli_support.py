"""Helpers for the CLI tests (importable because this folder is on sys.path when pytest collects it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EVENTS = ROOT / "events"
DEV_SECRETS = ROOT / "tools/webhook_translator_tools/local/dev-secrets.json"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def one_line_error(self) -> bool:
        """A non-zero exit with exactly one line on stderr, and no traceback."""
        return self.code != 0 and len(self.err.strip().splitlines()) == 1 and "Traceback" not in self.err


Run = Callable[..., Result]
