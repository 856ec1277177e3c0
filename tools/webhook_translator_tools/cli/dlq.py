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
from typing import TYPE_CHECKING, Any

from webhook_translator_tools.cli.common import CliError
from webhook_translator_tools.dlq import DeadLetter, DeadLetterQueue

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

__all__ = ["register"]

_REGION_IN_URL = re.compile(r"^https://sqs[.-]([a-z0-9-]+)\.amazonaws\.com", re.IGNORECASE)


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
    rows = [["SOURCE", "WEBHOOK ID", "EVENT TYPE", "REASON", "ATTEMPTS", "AGE"]]
    for m in letters:
        attempts = "-" if m.attempts is None else str(m.attempts)
        rows.append([m.source, m.webhook_id, m.event_type, m.reason, attempts, _age(m.age_seconds(now))])
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
    print("Move them back with `webhook-translator dlq redrive [--source S] [--reason R]`.")
    return 0


def dlq_redrive(args: argparse.Namespace) -> int:
    dlq_url = _url(args.dlq_url, "DLQ_URL", "--dlq-url")
    queue_url = _url(args.queue_url, "QUEUE_URL", "--queue-url")
    queue = DeadLetterQueue(_client(dlq_url), dlq_url, queue_url=queue_url)
    result = _run(lambda: queue.redrive(source=args.source, reason=args.reason), dlq_url)
    for letter in result.moved:
        print(f"moved   {letter.source} {letter.webhook_id} {letter.event_type} ({letter.reason})")
    for letter, error in result.failed:
        print(f"FAILED  {letter.source} {letter.webhook_id}: could not send it to the queue ({error}); left in the DLQ")
    for letter in result.not_deleted:
        print(f"warning {letter.source} {letter.webhook_id}: sent back but still in the DLQ (delete it by hand)")
    filters = " ".join(f"{k}={v}" for k, v in (("source", args.source), ("reason", args.reason)) if v)
    summary = f"{len(result.moved)} moved back to the queue"
    if result.unmatched:
        summary += f", {result.unmatched} left in the DLQ (not matching {filters})"
    if result.failed:
        summary += f", {len(result.failed)} failed (left in the DLQ)"
    print(summary)
    return 1 if result.failed else 0


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
        help="what is in the DLQ: source, webhook id, event type, reason, attempts, age",
        description=(
            "List the DLQ's messages: source, webhook id, event type, failure reason, attempts and age. "
            "Bodies are never printed. The messages stay in the DLQ."
        ),
    )
    urls(p, queue=False)
    p.add_argument("--json", action="store_true", help="print a JSON array (adds message id, detail, Ours status)")
    p.set_defaults(run=dlq_list)

    p = actions.add_parser(
        "redrive",
        help="move messages back to the queue for another try",
        description=(
            "Send DLQ messages back to the webhook queue (each is deleted from the DLQ only once its copy is queued); "
            "with --source/--reason only those that match, the others stay. Exits 1 if any could not be moved."
        ),
    )
    urls(p, queue=True)
    p.add_argument("--source", metavar="S", help="only messages from this source")
    p.add_argument("--reason", metavar="R", help="only messages with this failure reason (as `dlq list` shows it)")
    p.set_defaults(run=dlq_redrive)
