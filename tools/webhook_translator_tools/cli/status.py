"""``status``: the dashboard's figures on the command line — per source, then Ours, then the queues.

The counts are the functions' own metrics (:data:`webhook_translator.observability.METRIC_NAMES`):
on AWS read from CloudWatch (ListMetrics + GetMetricData over ``--since``); under ``serve`` from the
EMF documents in the local stack's pipeline log (``WEBHOOK_TRANSLATOR_LOG``, which ``serve`` exports;
see :mod:`webhook_translator_tools.local.pipeline_log`). Queue depth and DLQ depth come from SQS
in both cases; the oldest message's age from CloudWatch's ``AWS/SQS`` metric on AWS, and locally
from the log (the oldest queued webhook without an outcome yet).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from webhook_translator import log_events, observability
from webhook_translator_tools.cli.common import EXIT_USAGE, CliError
from webhook_translator_tools.cli.dlq import _age, _aws_error, _client, _table, _url
from webhook_translator_tools.local.pipeline_log import LOG_ENV, read_documents

__all__ = ["Figures", "cloudwatch_series", "local_series", "register"]

#: the table's columns: (heading, metric)
COLUMNS: Final = (
    ("RECEIVED", observability.RECEIVED),
    ("REFUSED", observability.REFUSED),
    ("QUEUED", observability.QUEUED),
    ("DELIVERED", observability.DELIVERED),
    ("SKIPPED", observability.SKIPPED),
    ("RETRIED", observability.RETRIED),
    ("DEAD-LETTERED", observability.DEAD_LETTERED),
)
#: the breakdowns by reason printed under the table
BY_REASON: Final = (
    ("refused", observability.REFUSED),
    ("retried", observability.RETRIED),
    ("dead-lettered", observability.DEAD_LETTERED),
)
_DURATION = re.compile(r"^(\d+)([mhd])$")
_UNITS: Final = {"m": 60, "h": 3600, "d": 86400}
#: the outcome records that end a webhook's stay on the queue
_FINAL: Final = {log_events.WEBHOOK_DELIVERED, log_events.WEBHOOK_SKIPPED, log_events.WEBHOOK_DEAD_LETTERED}


@dataclass(frozen=True)
class Series:
    """One metric with one set of dimension values, summed over the window."""

    name: str
    dimensions: tuple[tuple[str, str], ...]
    total: float
    samples: float = 0
    maximum: float | None = None

    def dim(self, name: str) -> str:
        return dict(self.dimensions).get(name, "-")


@dataclass
class Figures:
    series: list[Series]
    waiting: int | None = None
    in_flight: int | None = None
    dead_letters: int | None = None
    oldest_seconds: float | None = None
    origin: str = ""
    notes: list[str] = field(default_factory=list)

    def table(self) -> dict[str, dict[str, float]]:
        """source → column heading → count."""
        rows: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys((h for h, _ in COLUMNS), 0.0))
        wanted = {metric: heading for heading, metric in COLUMNS}
        for s in self.series:
            if s.name in wanted:
                rows[s.dim(observability.SOURCE)][wanted[s.name]] += s.total
        return dict(sorted(rows.items()))

    def by(self, name: str, dimension: str) -> dict[tuple[str, str], float]:
        found: dict[tuple[str, str], float] = defaultdict(float)
        for s in self.series:
            if s.name == name and s.total:
                found[(s.dim(observability.SOURCE), s.dim(dimension))] += s.total
        return dict(sorted(found.items()))

    def latency(self) -> tuple[float, float] | None:
        """(average, maximum) milliseconds of the Ours calls."""
        timings = [s for s in self.series if s.name == observability.OURS_LATENCY and s.samples]
        if not timings:
            return None
        total, samples = sum(s.total for s in timings), sum(s.samples for s in timings)
        return total / samples, max(s.maximum or 0.0 for s in timings)

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "sources": self.table(),
            **{f"{label}_by_reason": _keyed(self.by(metric, observability.REASON)) for label, metric in BY_REASON},
            "ours_responses": _keyed(self.by(observability.OURS_RESPONSES, observability.STATUS)),
            "ours_latency_ms": dict(zip(("average", "maximum"), self.latency() or (), strict=False)),
            "queue": {"waiting": self.waiting, "in_flight": self.in_flight, "oldest_seconds": self.oldest_seconds},
            "dlq": {"messages": self.dead_letters},
        }


def _keyed(found: dict[tuple[str, str], float]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (source, key), value in found.items():
        out[source][key] = value
    return dict(out)


def parse_since(text: str) -> int:
    match = _DURATION.match(text.strip())
    if not match or int(match.group(1)) < 1:
        raise CliError(f"--since {text[:20]!r} is not a duration such as 15m, 6h or 7d", EXIT_USAGE)
    return int(match.group(1)) * _UNITS[match.group(2)]


# --- the local stack: the EMF documents of the pipeline log ------------------------------------------


def local_series(documents: Iterable[dict[str, Any]], *, since_ms: float) -> list[Series]:
    """The metrics of the EMF documents written at or after ``since_ms``."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = defaultdict(list)
    for doc in documents:
        aws = doc.get("_aws")
        if not isinstance(aws, dict) or float(aws.get("Timestamp") or 0) < since_ms:
            continue
        for directive in aws.get("CloudWatchMetrics") or []:
            names = (directive.get("Dimensions") or [[]])[0]
            dims = tuple(sorted((str(n), str(doc.get(n, "-"))) for n in names))
            for metric in directive.get("Metrics") or []:
                values = doc.get(metric.get("Name"))
                values = values if isinstance(values, list) else [values]
                found[(metric["Name"], dims)] += [float(v) for v in values if isinstance(v, int | float)]
    return [Series(n, d, sum(v), len(v), max(v, default=None)) for (n, d), v in found.items()]


def local_oldest(documents: Iterable[dict[str, Any]], now: float) -> float | None:
    """Seconds since the oldest queued webhook that has no outcome yet was queued."""
    from webhook_translator_tools.cli.find import record_time

    pending: dict[str, float] = {}
    for doc in documents:
        webhook_id, message = doc.get("webhook_id"), doc.get("message")
        if not isinstance(webhook_id, str):
            continue
        if message == log_events.WEBHOOK_QUEUED and (when := record_time(doc)) is not None:
            pending.setdefault(webhook_id, when)
        elif message in _FINAL:
            pending.pop(webhook_id, None)
    return now - min(pending.values()) if pending else None


# --- AWS: CloudWatch ------------------------------------------------------------------------------


#: the statistics read of each metric: (Series field, CloudWatch statistic)
_STATS: Final = {"total": "Sum", "samples": "SampleCount", "maximum": "Maximum"}


def _dimensions(metric: Any) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions") or []))


def _listed_metrics(cloudwatch: Any, namespace: str) -> list[Any]:
    """The functions' metrics of ``namespace`` (ListMetrics), each name and set of dimensions once."""
    metrics = [
        m for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace) for m in page["Metrics"]
    ]
    unique = {(m["MetricName"], _dimensions(m)): m for m in metrics if m["MetricName"] in observability.METRIC_NAMES}
    return list(unique.values())


def _metric_values(cloudwatch: Any, queries: list[dict[str, Any]], *, start: float, end: float) -> dict[str, float]:
    """GetMetricData's answer to ``queries`` (500 a call): query id → value over the window."""
    values: dict[str, float] = {}
    for chunk in range(0, len(queries), 500):
        kwargs = {"MetricDataQueries": queries[chunk : chunk + 500], "StartTime": start, "EndTime": end}
        for page in cloudwatch.get_paginator("get_metric_data").paginate(**kwargs):
            for result in page["MetricDataResults"]:
                if result.get("Values"):
                    values[result["Id"]] = _combine(result["Id"], result["Values"])
    return values


def cloudwatch_series(cloudwatch: Any, namespace: str, *, start: float, end: float) -> list[Series]:
    """Every metric of ``namespace`` (ListMetrics), summed over [start, end] (GetMetricData)."""
    metrics = _listed_metrics(cloudwatch, namespace)
    period = max(60, int((end - start) // 60) * 60)
    queries = [
        {"Id": f"m{index}_{key}", "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}, "ReturnData": True}
        for index, metric in enumerate(metrics)
        for key, stat in _STATS.items()
    ]
    values = _metric_values(cloudwatch, queries, start=start, end=end)
    out = []
    for index, metric in enumerate(metrics):
        got = {key: values.get(f"m{index}_{key}") for key in _STATS}
        total, samples, maximum = got["total"] or 0.0, got["samples"] or 0.0, got["maximum"]
        out.append(Series(metric["MetricName"], _dimensions(metric), total, samples, maximum))
    return out


def _combine(query_id: str, values: list[float]) -> float:
    return max(values) if query_id.endswith("_maximum") else sum(values)


def cloudwatch_oldest(cloudwatch: Any, queue_url: str, *, start: float, end: float) -> float | None:
    name = queue_url.rstrip("/").rsplit("/", 1)[-1]
    query = {
        "Id": "oldest",
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/SQS",
                "MetricName": "ApproximateAgeOfOldestMessage",
                "Dimensions": [{"Name": "QueueName", "Value": name}],
            },
            "Period": 60,
            "Stat": "Maximum",
        },
    }
    answer = cloudwatch.get_metric_data(MetricDataQueries=[query], StartTime=max(start, end - 900), EndTime=end)
    results = answer["MetricDataResults"]
    points = sorted(zip(results[0]["Timestamps"], results[0]["Values"], strict=True)) if results else []
    return float(points[-1][1]) if points else None


# --- the queues (SQS in both cases) --------------------------------------------------------------------


def queue_depths(figures: Figures, queue_url: str | None, dlq_url: str | None) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    for url, is_dlq in ((queue_url, False), (dlq_url, True)):
        if not url:
            continue
        try:
            attributes = _client(url).get_queue_attributes(
                QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
            )["Attributes"]
        except (BotoCoreError, ClientError) as exc:
            raise _aws_error(exc, url) from None
        visible = int(attributes.get("ApproximateNumberOfMessages", 0))
        if is_dlq:
            figures.dead_letters = visible
        else:
            figures.waiting, figures.in_flight = (
                visible,
                int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
            )


# --- the command ------------------------------------------------------------------------------------


def gather(args: argparse.Namespace, now: float) -> Figures:
    since = parse_since(args.since)
    log = args.log or os.environ.get(LOG_ENV)
    queue_url = args.queue_url or os.environ.get("QUEUE_URL")
    dlq_url = args.dlq_url or os.environ.get("DLQ_URL")
    if log:
        path = Path(log)
        if not path.is_file():
            raise CliError(f"no pipeline log at {path}: is `webhook-translator serve` running (its export line)?")
        figures = Figures(local_series(read_documents(path), since_ms=(now - since) * 1000))
        figures.oldest_seconds = local_oldest(read_documents(path), now)
        figures.origin = f"the local stack's log {path}, last {args.since}"
    else:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        url = queue_url or dlq_url or "CloudWatch"
        try:
            cloudwatch = boto3.client("cloudwatch")
            # the end is a minute ahead: CloudWatch's periods exclude their end, and this minute counts
            figures = Figures(cloudwatch_series(cloudwatch, args.namespace, start=now - since, end=now + 60))
            if queue_url:
                figures.oldest_seconds = cloudwatch_oldest(cloudwatch, queue_url, start=now - since, end=now)
        except (BotoCoreError, ClientError) as exc:
            raise _aws_error(exc, url) from None
        figures.origin = f"CloudWatch namespace {args.namespace}, last {args.since}"
    if queue_url or dlq_url:
        queue_depths(figures, _url(queue_url, "QUEUE_URL", "--queue-url") if queue_url else None, dlq_url)
    else:
        figures.notes.append("no queue figures: set QUEUE_URL and DLQ_URL (or --queue-url/--dlq-url)")
    return figures


def _count(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _reason_lines(figures: Figures) -> list[str]:
    lines = []
    for label, metric in BY_REASON:
        found = figures.by(metric, observability.REASON)
        if found:
            parts = ", ".join(f"{source} {reason} {_count(n)}" for (source, reason), n in found.items())
            lines.append(f"{label} by reason: {parts}")
    return lines


def _ours_lines(figures: Figures) -> list[str]:
    """``Ours: N calls (status: n, …), latency …`` when Ours was called."""
    responses = figures.by(observability.OURS_RESPONSES, observability.STATUS)
    if not responses:
        return []
    statuses: dict[str, float] = defaultdict(float)
    for (_, status), n in responses.items():
        statuses[status] += n
    ours = f"Ours: {_count(sum(statuses.values()))} calls (" + ", ".join(
        f"{status}: {_count(n)}" for status, n in sorted(statuses.items())
    )
    latency = figures.latency()
    return [ours + ")" + (f", latency {latency[0]:.0f} ms average, {latency[1]:.0f} ms max" if latency else "")]


def _queue_lines(figures: Figures) -> list[str]:
    lines = []
    if figures.waiting is not None:
        oldest = _age(figures.oldest_seconds) if figures.oldest_seconds is not None else "-"
        lines.append(f"queue: {figures.waiting} waiting, {figures.in_flight} in flight, oldest {oldest}")
    if figures.dead_letters is not None:
        noun = "message" if figures.dead_letters == 1 else "messages"
        see = " (`webhook-translator dlq list`)" if figures.dead_letters else ""
        lines.append(f"DLQ: {figures.dead_letters} {noun}{see}")
    return lines


def render(figures: Figures) -> str:
    table = figures.table()
    lines = []
    if table:
        rows = [["SOURCE", *(h for h, _ in COLUMNS)]]
        rows += [[source, *(_count(v) for v in counts.values())] for source, counts in table.items()]
        lines.append(_table(rows))
    else:
        lines.append("no webhooks in this window")
    lines += _reason_lines(figures) + _ours_lines(figures) + _queue_lines(figures) + figures.notes
    lines.append(f"(from {figures.origin})")
    return "\n".join(lines)


def status(args: argparse.Namespace) -> int:
    figures = gather(args, time.time())
    print(json.dumps(figures.to_json(), indent=2) if args.json else render(figures))
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "status",
        help="per source: received, refused by reason, queued, delivered, skipped, dead-lettered; Ours; the queues",
        description=(
            "The dashboard's figures: per source, webhooks received, refused (by reason), queued, delivered, "
            "skipped, retried and dead-lettered (by reason); Ours's answers and latency; queue depth, oldest "
            "message age and DLQ depth. On AWS from CloudWatch and SQS; under `webhook-translator serve` from its "
            f"pipeline log (${LOG_ENV}, in the export line serve prints) and the local SQS."
        ),
    )
    p.add_argument("--since", default="24h", metavar="DURATION", help="the window: 15m, 6h, 7d… (default 24h)")
    p.add_argument("--log", metavar="FILE", help=f"the local stack's pipeline log (default: ${LOG_ENV}; unset on AWS)")
    p.add_argument(
        "--namespace",
        default=observability.NAMESPACE,
        help=f"the CloudWatch namespace of the functions' metrics (default {observability.NAMESPACE})",
    )
    p.add_argument("--queue-url", metavar="URL", help="the webhook queue (default: $QUEUE_URL)")
    p.add_argument("--dlq-url", metavar="URL", help="the dead-letter queue (default: $DLQ_URL)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(run=status)
