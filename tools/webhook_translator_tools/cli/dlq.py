"""``dlq list`` and ``dlq redrive``: the dead-letter queue, on AWS or on the local stack.

The queue URLs come from ``--dlq-url`` / ``--queue-url`` or ``DLQ_URL`` / ``QUEUE_URL``;
the endpoint from the standard ``AWS_ENDPOINT_URL`` (boto3 reads it), so the same
command works against AWS and against ``webhook-translator serve``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from webhook_translator_tools.cli.common import CliError
from webhook_translator_tools.dlq import DeadLetter, DeadLetterQueue, RedriveResult

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = ["register"]

_REGION_IN_URL = re.compile(r"^https://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", re.IGNORECASE)
_AGO = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(?:/s)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def when(text: str) -> datetime:
    """``--since``/``--until``: ISO 8601 (UTC unless it says so), or a span ago (``30m``, ``2h``, ``3d``)."""
    value = text.strip()
    if match := _AGO.match(value):
        return datetime.now(UTC) - timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value[:40]!r} is not a time: give ISO 8601 (2026-12-01T10:00) or a span ago (30m, 2h, 3d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def rate(text: str) -> float:
    """``--rate N/s``: messages per second, more than 0."""
    match = _RATE.match(text.strip())
    if not match or float(match.group(1)) <= 0:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a rate: give messages per second, e.g. 10/s")
    return float(match.group(1))


def _url(given: str | None, env: str, flag: str) -> str:
    url = given or os.environ.get(env)
    if not url:
        raise CliError(
            f"no {'DLQ' if env == 'DLQ_URL' else 'queue'} URL: pass {flag} URL or set {env} "
            "(the stack's outputs on AWS; the export line `webhook-translator serve` prints locally)"
        )
    if not url.startswith(("http://", "https://")):
        raise CliError(f"{flag} {url[:80]!r} is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)")
    return url


def _client(url: str) -> SQSClient:
    import boto3
    from botocore.exceptions import BotoCoreError

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region and (match := _REGION_IN_URL.match(url)):
        region = match.group(1)
    try:
        return boto3.client("sqs", region_name=region)
    except BotoCoreError as exc:
        raise _aws_error(exc, url) from None


def _aws_error(exc: Exception, url: str) -> CliError:
    """One line for what boto3/botocore raised, saying what to do."""
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        ParamValidationError,
        ProfileNotFound,
    )

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if isinstance(exc, EndpointConnectionError):
        if endpoint:
            return CliError(
                f"cannot reach SQS at {endpoint} (AWS_ENDPOINT_URL): is `webhook-translator serve` running? "
                "For AWS itself, unset AWS_ENDPOINT_URL"
            )
        return CliError(f"cannot reach SQS for {url}: check the network and the queue URL's region")
    if isinstance(exc, NoCredentialsError):
        return CliError(
            "no AWS credentials: configure them (aws configure, AWS_PROFILE…), "
            "or for the local stack export the line `webhook-translator serve` prints"
        )
    if isinstance(exc, NoRegionError):
        return CliError("no AWS region: set AWS_DEFAULT_REGION")
    if isinstance(exc, ProfileNotFound):
        return CliError(f"{exc}: fix AWS_PROFILE")
    if isinstance(exc, ParamValidationError):
        return CliError(f"SQS refused the request parameters: {str(exc).splitlines()[-1][:200]}")
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "unknown")
        if code in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return CliError(f"no such queue: {url} (check the URL, the region and AWS_ENDPOINT_URL)")
        if code in ("AccessDenied", "AccessDeniedException", "InvalidClientTokenId", "SignatureDoesNotMatch"):
            return CliError(f"AWS refused access to {url} ({code}): check the credentials and their permissions")
        return CliError(f"SQS answered {code} for {url}")
    return CliError(f"SQS call failed for {url} ({type(exc).__name__})")


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def _listing(letters: list[DeadLetter], now: float) -> str:
    rows = [["SOURCE", "WEBHOOK ID", "EVENT TYPE", "REASON", "ATTEMPTS", "PREVIOUS REASONS", "AGE", "RECEIVED"]]
    for m in letters:
        attempts = "-" if m.attempts is None else str(m.attempts)
        row = [m.source, m.webhook_id, m.event_type, m.reason, attempts, m.previous_reasons()]
        rows.append([*row, _age(m.age_seconds(now)), _age(m.webhook_age(now))])
    return _table(rows)


def _run(action: Any, url: str) -> Any:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return action()
    except (BotoCoreError, ClientError) as exc:
        raise _aws_error(exc, url) from None


def dlq_list(args: argparse.Namespace) -> int:
    dlq_url = _url(args.dlq_url, "DLQ_URL", "--dlq-url")
    queue = DeadLetterQueue(_client(dlq_url), dlq_url)
    letters: list[DeadLetter] = _run(queue.list_messages, dlq_url)
    now = time.time()
    if args.json:
        print(json.dumps([m.to_json(now) for m in letters], indent=2))
        return 0
    if not letters:
        print(f"The DLQ is empty ({dlq_url}).")
        return 0
    print(_listing(letters, now))
    count = len(letters)
    print(f"\n{count} message{'s' if count != 1 else ''} in {dlq_url}")
    print(
        "Move them back with `webhook-translator dlq redrive [--source S] [--reason R] [--since T] [--until T] "
        "[--id ID] [--rate N/s] [--skip-stale]`."
    )
    return 0


def dlq_redrive(args: argparse.Namespace) -> int:
    dlq_url = _url(args.dlq_url, "DLQ_URL", "--dlq-url")
    queue_url = _url(args.queue_url, "QUEUE_URL", "--queue-url")
    queue = DeadLetterQueue(_client(dlq_url), dlq_url, queue_url=queue_url)
    ids = frozenset(args.ids) if args.ids else None
    result = _run(
        lambda: queue.redrive(
            source=args.source,
            reason=args.reason,
            since=args.since,
            until=args.until,
            ids=ids,
            skip_stale=args.skip_stale,
            rate=args.rate,
        ),
        dlq_url,
    )
    _print_redrive(result, args)
    return 1 if result.failed else 0


def _print_redrive(result: RedriveResult, args: argparse.Namespace) -> None:
    _print_redriven(result, skip_stale=args.skip_stale)
    print(_redrive_summary(result, args))
    _print_redrive_warnings(result, skip_stale=args.skip_stale)


def _attempts(letter: DeadLetter) -> str:
    if letter.attempts is None:
        return "? attempts"
    return f"{letter.attempts} attempt" + ("" if letter.attempts == 1 else "s")


def _print_redriven(result: RedriveResult, *, skip_stale: bool) -> None:
    """A line per message: moved, failed, not deleted, skipped as stale."""
    for letter in result.moved:
        history = f", previously {letter.previous_reasons()}" if letter.history.reasons else ""
        print(
            f"moved   {letter.source} {letter.webhook_id} {letter.event_type} "
            f"({letter.reason}, {_attempts(letter)}{history})"
        )
    for letter, error in result.failed:
        print(f"FAILED  {letter.source} {letter.webhook_id}: could not send it to the queue ({error}); left in the DLQ")
    for letter in result.not_deleted:
        print(f"warning {letter.source} {letter.webhook_id}: sent back but still in the DLQ (delete it by hand)")
    for letter in result.stale if skip_stale else []:
        print(f"skipped {letter.source} {letter.webhook_id}: received over 7 days ago (Ours refuses it); left")


def _redrive_summary(result: RedriveResult, args: argparse.Namespace) -> str:
    """``N moved back to the queue``, with what was left in the DLQ and why."""
    given = {"source": args.source, "reason": args.reason, "since": args.since, "until": args.until}
    filters = " ".join(f"{k}={v.isoformat() if isinstance(v, datetime) else v}" for k, v in given.items() if v)
    if args.ids:
        filters += f" {len(args.ids)} id(s)"
    summary = f"{len(result.moved)} moved back to the queue"
    if result.unmatched:
        summary += f", {result.unmatched} left in the DLQ (not matching {filters.strip()})"
    if result.stale and args.skip_stale:
        summary += f", {len(result.stale)} left in the DLQ (past Ours's 7-day window)"
    if result.failed:
        summary += f", {len(result.failed)} failed (left in the DLQ)"
    return summary


def _print_redrive_warnings(result: RedriveResult, *, skip_stale: bool) -> None:
    """What will become of old webhooks moved back: Ours's 7 days, the destinations' windows."""
    if result.stale and not skip_stale:
        print(
            f"warning: {len(result.stale)} moved webhook(s) were received over 7 days ago: Ours refuses their "
            "time (they go back to the DLQ as stale_event, unless STALE_EVENT_POLICY=send_without_time); "
            "--skip-stale leaves them in the DLQ"
        )
    if result.past_realtime:
        print(
            f"warning: {result.past_realtime} moved webhook(s) are over an hour old: Google Analytics takes "
            "real-time events only, so they will not reach it"
            + (f"; {result.past_meta} are past Meta's and Reddit's 7-day window too" if result.past_meta else "")
        )


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    dlq = commands.add_parser(
        "dlq",
        help="show the dead-letter queue, move messages back",
        description=(
            "The dead-letter queue. Queue URLs from --dlq-url/--queue-url or DLQ_URL/QUEUE_URL; the endpoint from "
            "AWS_ENDPOINT_URL (unset on AWS; `webhook-translator serve` prints the lines to export locally)."
        ),
    )
    actions = dlq.add_subparsers(dest="action", metavar="ACTION", required=True)

    def urls(p: argparse.ArgumentParser, *, queue: bool) -> None:
        p.add_argument("--dlq-url", metavar="URL", help="the dead-letter queue (default: $DLQ_URL)")
        p.add_argument(
            "--queue-url",
            metavar="URL",
            help="the webhook queue messages go back to (default: $QUEUE_URL)"
            if queue
            else "the webhook queue (not needed to list; accepted so that both commands take the same flags)",
        )

    p = actions.add_parser(
        "list",
        help="what is in the DLQ: source, webhook id, event type, reason, attempts, previous reasons, age",
        description=(
            "List the DLQ's messages: source, webhook id, event type, failure reason, attempts (every round), "
            "the reasons of earlier rounds (before a redrive), the age of the failure and of the webhook. "
            "Bodies are never printed. The messages stay in the DLQ."
        ),
    )
    urls(p, queue=False)
    p.add_argument(
        "--json", action="store_true", help="print a JSON array (adds message id, detail, Ours status, history)"
    )
    p.set_defaults(run=dlq_list)

    p = actions.add_parser(
        "redrive",
        help="move messages back to the queue for another try",
        description=(
            "Send DLQ messages back to the webhook queue (each is deleted from the DLQ only once its copy is queued); "
            "with --source/--reason/--since/--until/--id only those that match, the others stay. Each keeps its "
            "history (attempts, previous reasons), shown by `dlq list`. Webhooks past Ours's 7-day window are "
            "reported (left in the DLQ with --skip-stale), and those past Google Analytics' real time and "
            "Meta's 7 days counted. Exits 1 if any could not be moved."
        ),
    )
    urls(p, queue=True)
    p.add_argument("--source", metavar="S", help="only messages from this source")
    p.add_argument("--reason", metavar="R", help="only messages with this failure reason (as `dlq list` shows it)")
    p.add_argument(
        "--since", metavar="T", type=when, help="only messages that failed at or after T (ISO 8601, or 30m/2h/3d ago)"
    )
    p.add_argument("--until", metavar="T", type=when, help="only messages that failed at or before T")
    p.add_argument(
        "--id", dest="ids", metavar="ID", action="append", help="only this webhook id (or message id); repeatable"
    )
    p.add_argument("--rate", metavar="N/s", type=rate, help="send at most N messages per second (e.g. 10/s)")
    p.add_argument(
        "--skip-stale", action="store_true", help="leave webhooks received over 7 days ago (Ours's window) in the DLQ"
    )
    p.set_defaults(run=dlq_redrive)
