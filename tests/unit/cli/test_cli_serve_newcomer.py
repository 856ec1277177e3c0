"""`serve` says, before anything starts, what a newcomer got wrong, and names the command as their shell runs it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from cli_support import Run

from webhook_translator_tools.cli.serve import _command


def test_enabled_sources_naming_no_source_is_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given ENABLED_SOURCES with a typo
    monkeypatch.setenv("ENABLED_SOURCES", "stripe,typefrom")
    # When serve is started / Then it stops at once, naming the name and the known sources
    result = run("serve")
    assert result.one_line_error, result
    assert "ENABLED_SOURCES names no registered source: typefrom; known: " in result.err
    assert ", stripe, " in result.err
    assert result.out == ""


def test_the_banner_names_the_script_when_the_command_is_not_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Path(sys.executable).parent / "webhook-translator"
    if not script.is_file():
        pytest.skip("no webhook-translator script beside this Python")
    # Given a shell whose PATH lacks the virtualenv (after `make run`)
    monkeypatch.setenv("PATH", os.defpath)
    # Then the banner's commands are the script's path, which runs as it is
    assert Path(_command()).resolve() == script.resolve()
    # and with the virtualenv on PATH (`. .venv/bin/activate`), the bare name
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.defpath}")
    assert _command() == "webhook-translator"
