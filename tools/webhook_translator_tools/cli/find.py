"""``find WEBHOOK_ID``: one webhook's journey, from the functions' structured log records.

The receiver logs ``webhook queued`` (with the time it was received) and the forwarder one outcome
record per receive of the message (:data:`webhook_translator.log_events.OUTCOMES`: delivered, skipped,
will be retried, dead-lettered — with the attempt, the reason and Ours's status), each keyed by
``webhook_id``. On AWS they are found with CloudWatch Logs Insights over the functions' log groups
(``--log-group`` or ``WEBHOOK_TRANSLATOR_LOG_GROUPS``, the stack's ``LogGroups`` output); under
``serve`` in its pipeline log (``WEBHOOK_TRANSLATOR_LOG``). Only the fields the pipeline logs on
purpose are printed (times, steps, event type, reasons, statuses, counts): never a body or a token.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from webhook_translator import log_events
from webhook_translator_tools.cli.common import EXIT_USAGE, CliError
from webhook_translator_tools.cli.status import parse_since
from webhook_translator_tools.local.pipeline_log import LOG_ENV, read_documents

__all__ = ["insights_query", "journey", "record_time", "register", "render"]

LOG_GROUPS_ENV: Final = "WEBHOOK_TRANSLATOR_LOG_GROUPS"
EXIT_NOT_FOUND: Final = 1
#: the records of a journey (others — the Ours client's, keyed by distinctId — are not printed)
STEPS: Final = frozenset(
    {
        log_events.WEBHOOK_QUEUED,
        *log_events.OUTCOMES.values(),
        log_events.DEAD_LETTER_FAILED,
    }
)
#: the fields printed (everything else a record holds is left out)
SAFE_FIELDS: Final[tuple[str, ...]] = (
    "message",
    "timestamp",
    "source",
    "webhook_id",
    "event_type",
    "outcome",
    "reason",
    "attempt",
    "delay",
    "events",
    "ours_status",
    "received_at",
)
QUERY_TIMEOUT: Final = 60.0


def record_time(record: dict[str, Any]) -> float | None:
    """Epoch seconds of a Powertools record's ``timestamp`` (``2026-12-02 01:03:33,590+0000``)."""
    value = record.get("timestamp")
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)
    if not isinstance(value, str):
        return None
    for parse in (lambda v: datetime.strptime(v, "%Y-%m-%d %H:%M:%S,%f%z"), datetime.fromisoformat):
        try:
            when = parse(value)
        except ValueError:
            continue
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    return None


def journey(records: Iterable[dict[str, Any]], webhook_id: str) -> list[dict[str, Any]]:
    """The records of one webhook, in time order, each cut down to :data:`SAFE_FIELDS`."""
    steps: list[dict[str, Any]] = [
        {str(k): r[k] for k in SAFE_FIELDS if k in r}
        for r in records
        if r.get("webhook_id") == webhook_id and r.get("message") in STEPS
    ]
    return sorted(steps, key=lambda r: record_time(r) or 0.0)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + "Z"


def _step(record: dict[str, Any]) -> str:
    message, reason = record.get("message"), record.get("reason")
    ours = f", Ours answered {record['ours_status']}" if record.get("ours_status") is not None else ""
    why = f" ({reason}{ours})" if reason else ""
    attempt = f"attempt {record['attempt']}: " if record.get("attempt") is not None else ""
    if message == log_events.WEBHOOK_DELIVERED:
        events = record.get("events")
        return f"{attempt}delivered to Ours" + (f" ({events} event{'s' if events != 1 else ''})" if events else "")
    if message == log_events.WEBHOOK_SKIPPED:
        return f"{attempt}skipped{why}: nothing sent to Ours"
    if message == log_events.WEBHOOK_RETRIED:
        delay = record.get("delay")
        return f"{attempt}will be retried" + (f" in {delay:g} s" if isinstance(delay, int | float) else "") + why
    if message == log_events.WEBHOOK_DEAD_LETTERED:
        return f"{attempt}dead-lettered{why}"
    return str(message)


def render(webhook_id: str, steps: list[dict[str, Any]]) -> str:
    first = steps[0]
    event_type = next((s["event_type"] for s in steps if s.get("event_type") not in (None, "-")), "-")
    lines = [f"{first.get('source', '-')} {webhook_id}" + (f" {event_type}" if event_type != "-" else "")]
    for step in steps:
        when = _clock(record_time(step))
        if step.get("message") == log_events.WEBHOOK_QUEUED:
            received = record_time({"timestamp": step.get("received_at")}) if step.get("received_at") else None
            lines.append(f"  {_clock(received or record_time(step))}  received")
            lines.append(f"  {when}  queued")
        else:
            lines.append(f"  {when}  {_step(step)}")
    last = steps[-1].get("message")
    if last == log_events.WEBHOOK_DELIVERED:
        lines.append("delivered")
    elif last == log_events.WEBHOOK_SKIPPED:
        lines.append("skipped: acknowledged, nothing sent to Ours")
    elif last == log_events.WEBHOOK_DEAD_LETTERED:
        lines.append(f"dead-lettered ({steps[-1].get('reason', '-')}): see `webhook-translator dlq list`")
    else:
        lines.append("not finished yet: still on the queue")
    return "\n".join(lines)


# --- AWS: CloudWatch Logs Insights -------------------------------------------------------------------


def insights_query(webhook_id: str) -> str:
    """The Logs Insights query for one webhook's records (JSON fields are discovered by Insights)."""
    literal = webhook_id.replace("\\", "\\\\").replace('"', '\\"')
    return f'fields @timestamp, @message | filter webhook_id = "{literal}" | sort @timestamp asc | limit 500'


def insights_records(
    logs: Any, groups: list[str], webhook_id: str, *, start: float, end: float
) -> list[dict[str, Any]]:
    """Run the query and parse each result's ``@message`` (the JSON record) — the records, unfiltered."""
    query_id = logs.start_query(
        logGroupNames=groups, startTime=int(start), endTime=int(end), queryString=insights_query(webhook_id), limit=500
    )["queryId"]
    deadline = time.monotonic() + QUERY_TIMEOUT
    while True:
        answer = logs.get_query_results(queryId=query_id)
        if answer["status"] in ("Complete", "Failed", "Cancelled", "Timeout", "Unknown"):
            break
        if time.monotonic() > deadline:
            raise CliError(f"the Logs Insights query did not finish within {QUERY_TIMEOUT:g} s; try a shorter --since")
        time.sleep(0.5)
    if answer["status"] != "Complete":
        raise CliError(f"the Logs Insights query ended {answer['status']}")
    records = []
    for row in answer.get("results") or []:
        fields = {cell["field"]: cell.get("value") for cell in row}
        try:
            record = json.loads(fields.get("@message") or "")
        except ValueError:
            continue  # a line that is not a structured record (START, END, REPORT…)
        if isinstance(record, dict):
            records.append(record)
    return records


def _aws_records(args: argparse.Namespace, now: float, since: int) -> tuple[list[dict[str, Any]], str]:
    groups = args.log_group or [g.strip() for g in os.environ.get(LOG_GROUPS_ENV, "").split(",") if g.strip()]
    if not groups:
        raise CliError(
            f"no log groups: pass --log-group NAME (twice) or set {LOG_GROUPS_ENV} to the stack's LogGroups output; "
            f"for the local stack, export the line `webhook-translator serve` prints ({LOG_ENV})"
        )
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from webhook_translator_tools.cli.dlq import _aws_error

    try:
        logs = boto3.client("logs")
        records = insights_records(logs, groups, args.webhook_id.strip(), start=now - since, end=now + 60)
    except (BotoCoreError, ClientError) as exc:
        raise _aws_error(exc, ", ".join(groups)) from None
    return records, f"CloudWatch Logs Insights over {', '.join(groups)}, last {args.since}"


def find(args: argparse.Namespace) -> int:
    webhook_id = args.webhook_id.strip()
    if not webhook_id or not webhook_id.isprintable():
        raise CliError("WEBHOOK_ID is empty or unprintable: pass the id the provider shows (evt_…, msg_…)", EXIT_USAGE)
    now, since = time.time(), parse_since(args.since)
    log = args.log or os.environ.get(LOG_ENV)
    if log:
        path = Path(log)
        if not path.is_file():
            raise CliError(f"no pipeline log at {path}: is `webhook-translator serve` running (its export line)?")
        records, origin = list(read_documents(path)), f"the local stack's log {path}"
    else:
        records, origin = _aws_records(args, now, since)
    steps = [s for s in journey(records, webhook_id) if (record_time(s) or now) >= now - since]
    if args.json:
        print(json.dumps(steps, indent=2))
        return 0 if steps else EXIT_NOT_FOUND
    if not steps:
        print(f"{webhook_id}: not found in {origin}")
        print("(refused webhooks have no id: see `webhook-translator status` for refusals by reason)")
        return EXIT_NOT_FOUND
    print(render(webhook_id, steps))
    print(f"(from {origin})")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "find",
        help="one webhook's journey: received, queued, each attempt and its outcome, delivered or dead-lettered",
        description=(
            "Follow one webhook by the id the provider shows (Stripe's evt_…, a webhook-id…) through the functions' "
            "structured logs: received, queued, each attempt with its outcome, then delivered, skipped or "
            "dead-lettered with the reason. On AWS with CloudWatch Logs Insights over the functions' log groups; "
            f"under `webhook-translator serve` from its pipeline log (${LOG_ENV}). No personal data is printed. "
            "Exits 1 when the id is not found."
        ),
    )
    p.add_argument("webhook_id", metavar="WEBHOOK_ID", help="the webhook id (the receiver's answer `id`)")
    p.add_argument("--since", default="24h", metavar="DURATION", help="how far back: 15m, 6h, 7d… (default 24h)")
    p.add_argument("--log", metavar="FILE", help=f"the local stack's pipeline log (default: ${LOG_ENV}; unset on AWS)")
    p.add_argument(
        "--log-group",
        action="append",
        metavar="NAME",
        help=f"a function's log group (repeatable; default: ${LOG_GROUPS_ENV}, comma-separated)",
    )
    p.add_argument("--json", action="store_true", help="print the journey's records as JSON")
    p.set_defaults(run=find)
