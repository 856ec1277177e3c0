"""Tracing is opt-in, and its absence never breaks a handler."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from webhook_translator.observability import trace_handler, tracing_enabled


def handler(event: dict[str, Any], context: Any) -> str:
    return "ok"


def test_tracing_is_off_by_default_and_the_handler_is_untouched(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    assert not tracing_enabled()
    assert trace_handler(handler) is handler


def test_tracing_without_the_xray_sdk_logs_once_and_runs_untraced(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given tracing enabled but no aws-xray-sdk (the layer does not ship it: it depends on botocore)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "false")
    for name in [m for m in sys.modules if m.startswith(("aws_xray_sdk", "aws_lambda_powertools.tracing"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "aws_xray_sdk", None)
    monkeypatch.setitem(sys.modules, "aws_xray_sdk.core", None)
    # When a handler is wrapped
    wrapped = trace_handler(handler)
    # Then it runs untraced
    assert wrapped is handler
    assert wrapped({}, None) == "ok"
