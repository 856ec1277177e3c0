"""Run the CLI in-process and capture what it prints."""

from __future__ import annotations

import pytest
from cli_support import Result, Run

from webhook_translator_tools.cli import main


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    """``run("translate", "stripe", FILE)`` → the exit status and what was printed."""
    for name in ("TRANSLATOR_CONFIG", "TRANSLATOR_CONFIG_FILE", "TRANSLATOR_CONFIG_PARAMETER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("WEBHOOK_TRANSLATOR_DEBUG", raising=False)

    def invoke(*argv: str) -> Result:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
