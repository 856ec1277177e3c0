"""Logging, metrics and (optional) tracing, set up once and imported everywhere.

Tracing is imported lazily: Powertools' ``Tracer`` pulls in aws-xray-sdk, which
costs ~200 ms of cold start, so it is created only when ``POWERTOOLS_TRACE_DISABLED``
is explicitly ``false``.

Nothing logged here may carry personal data or secrets: log the source, the
webhook id, the event type, reasons and counts — never a body, an email, a
name, a phone number, a token, a signing secret or a signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from aws_lambda_powertools import Logger, Metrics

from webhook_translator.config import Telemetry, telemetry

SERVICE = telemetry().service
NAMESPACE = telemetry().namespace

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

F = TypeVar("F", bound=Callable[..., Any])


def tracing_enabled() -> bool:
    """Read when a handler is decorated (not cached: a test or ``serve`` may set it first)."""
    return Telemetry.from_env().tracing


def trace_handler(handler: F) -> F:
    """Wrap a Lambda handler with Powertools' tracer only when tracing is on.

    The layer does not ship aws-xray-sdk (it depends on botocore, which the
    runtime provides and the layer must not shadow). Without it, Lambda's own
    active tracing still records each invocation; Powertools' subsegments need
    the SDK added (e.g. AWS's Powertools layer), and its absence is logged once.
    """
    if not tracing_enabled():
        return handler
    try:
        from aws_lambda_powertools import Tracer

        tracer = Tracer(service=SERVICE)
    except ImportError:
        logger.warning("tracing is enabled but aws-xray-sdk is not installed: Lambda-level traces only")
        return handler
    return cast(F, tracer.capture_lambda_handler(handler))
