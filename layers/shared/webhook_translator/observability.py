"""Logging, metrics and (optional) tracing, set up once and imported everywhere.

Tracing is imported lazily: Powertools' ``Tracer`` pulls in aws-xray-sdk, which
costs ~200 ms of cold start, so it is created only when ``POWERTOOLS_TRACE_DISABLED``
is explicitly ``false``.

Nothing logged here may carry personal data or secrets: log the source, the
webhook id, the event type, reasons and counts — never a body, an email, a
name, a phone number, a token, a signing secret or a signature.

Metrics are CloudWatch EMF documents built by Powertools' EMF provider, one per
dimension set, written when a handler returns (:meth:`MetricsRecorder.log_metrics`).
Their names are the constants below — the dashboard and ``webhook-translator status``
read these same names — and their dimensions stay bounded: ``Source`` (a registered
source name, else ``-``), ``Reason`` (a reason code) and ``Status`` (an HTTP status).
"""

from __future__ import annotations

import functools
import json
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from webhook_translator.config import Telemetry, telemetry

SERVICE = telemetry().service
NAMESPACE = telemetry().namespace

logger = Logger(service=SERVICE)

F = TypeVar("F", bound=Callable[..., Any])

# --- metric names (dimensions in brackets) ------------------------------------------------------
#: the receiver: every request naming a source [Source]
RECEIVED: Final = "WebhooksReceived"
#: refused with a 4xx/5xx [Source, Reason]
REFUSED: Final = "WebhooksRefused"
#: one value per signature check: 1 failed, 0 verified [Source] (Sum: failures; the alarm: Minimum)
VERIFICATION_FAILED: Final = "VerificationFailed"
#: verified and on the queue [Source]
QUEUED: Final = "WebhooksQueued"
#: the forwarder, one per record's outcome [Source] / [Source, Reason]
DELIVERED: Final = "WebhooksDelivered"
SKIPPED: Final = "WebhooksSkipped"
RETRIED: Final = "WebhooksRetried"
DEAD_LETTERED: Final = "WebhooksDeadLettered"
#: TrackEvents Ours accepted [Source]
EVENTS_DELIVERED: Final = "EventsDelivered"
#: the Ours client, per call: milliseconds [Source], and the answer [Source, Status] (a status, ``timeout``…)
OURS_LATENCY: Final = "OursLatency"
OURS_RESPONSES: Final = "OursResponses"
#: the forwarder: a record whose token Ours refused, during the auth grace period too [Source] (its alarm)
OURS_AUTH_REFUSED: Final = "OursAuthRefused"
#: every metric name the functions emit
METRIC_NAMES: Final = (
    RECEIVED,
    REFUSED,
    VERIFICATION_FAILED,
    QUEUED,
    DELIVERED,
    SKIPPED,
    RETRIED,
    DEAD_LETTERED,
    EVENTS_DELIVERED,
    OURS_LATENCY,
    OURS_RESPONSES,
    OURS_AUTH_REFUSED,
)
#: the forwarder's metric of each outcome (retries and dead letters also by ``Reason``)
OUTCOME_METRICS: Final = {"delivered": DELIVERED, "skipped": SKIPPED, "retry": RETRIED, "dead_lettered": DEAD_LETTERED}
SOURCE: Final = "Source"
REASON: Final = "Reason"
STATUS: Final = "Status"
#: values per metric in one document: EMF takes 100, and Powertools prints a document itself on reaching 100
_MAX_VALUES: Final = 99

Sink = Callable[[str], None]


class MetricsRecorder:
    """Metric values per dimension set, thread-safe (the forwarder's workers record concurrently).

    :meth:`flush` writes one EMF document per dimension set through ``sink`` — stdout by default,
    where Lambda hands it to CloudWatch; ``serve`` points it at its pipeline log. Nothing is written
    when ``POWERTOOLS_METRICS_DISABLED`` is true and no sink was set.
    """

    def __init__(self, namespace: str, sink: Sink | None = None) -> None:
        self.namespace = namespace
        self.sink = sink
        self._lock = threading.Lock()
        self._values: dict[tuple[tuple[str, str], ...], dict[tuple[str, str], list[float]]] = {}

    def add(self, name: str, value: float = 1, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
        key = tuple(sorted(dimensions.items()))
        with self._lock:
            self._values.setdefault(key, defaultdict(list))[(name, unit.value)].append(float(value))

    def documents(self) -> list[dict[str, Any]]:
        """The EMF documents of what was recorded since the last flush, and forget it."""
        with self._lock:
            recorded, self._values = self._values, {}
        documents: list[dict[str, Any]] = []
        for dimensions, metrics in recorded.items():
            longest = max(len(values) for values in metrics.values())
            for start in range(0, longest, _MAX_VALUES):
                emf = AmazonCloudWatchEMFProvider(namespace=self.namespace)
                emf.service = ""  # no `service` dimension: the namespace is this application's
                for dim, dim_value in dimensions:
                    emf.add_dimension(dim, dim_value)
                for (name, unit), values in metrics.items():
                    for value in values[start : start + _MAX_VALUES]:
                        emf.add_metric(name=name, unit=unit, value=value)
                if emf.metric_set:
                    documents.append(dict(emf.serialize_metric_set()))
        return documents

    def flush(self) -> None:
        documents = self.documents()
        sink = self.sink
        if sink is None:
            if is_metrics_disabled():
                return
            sink = print
        for document in documents:
            sink(json.dumps(document, separators=(",", ":")))

    def log_metrics(self, handler: F) -> F:
        """Decorate a Lambda handler: what it recorded is flushed when it returns or raises."""

        @functools.wraps(handler)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return handler(*args, **kwargs)
            finally:
                self.flush()

        return cast(F, wrapper)


metrics = MetricsRecorder(NAMESPACE)


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
