"""``serve``: the whole pipeline on this machine (see :mod:`webhook_translator_tools.local.stack`)."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from webhook_translator.secrets import SecretDocument
from webhook_translator.sources.registry import REGISTRY
from webhook_translator_tools.cli.common import EXIT_USAGE, CliError, dev_document, load_document
from webhook_translator_tools.local.console import Console
from webhook_translator_tools.local.functions import FunctionsNotFound, find_functions_dir
from webhook_translator_tools.local.stack import (
    DEFAULT_AWS_PORT,
    DEFAULT_HOST,
    DEFAULT_MAX_RECEIVE_COUNT,
    DEFAULT_PORT,
    DEV_SECRETS,
    LocalStack,
    PortInUse,
    StackOptions,
)

__all__ = ["register"]


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535)")
    return value


def _max_receive_count() -> int:
    raw = os.environ.get("MAX_RECEIVE_COUNT", "").strip()
    if not raw:
        return DEFAULT_MAX_RECEIVE_COUNT
    if not raw.isdigit() or int(raw) < 1:
        raise CliError(f"MAX_RECEIVE_COUNT={raw[:20]!r} is not a whole number >= 1")
    return int(raw)


def _check_delivery(max_receive_count: int) -> None:
    """The forwarder's delivery settings (RETRY_MAX_DELAY, OUTAGE_BUDGET_SECONDS…) fit together: one line if not."""
    from webhook_translator.budget import check_budget
    from webhook_translator.config import Settings

    try:
        check_budget(Settings.from_env().model_copy(update={"max_receive_count": max_receive_count}))
    except RuntimeError as exc:
        raise CliError(str(exc)) from None


def _notes(document: SecretDocument) -> list[str]:
    notes = []
    unsigned = sorted(name for name in REGISTRY if not document.signing_secrets_for(name))
    if unsigned:
        notes.append(f"no signing secret for {', '.join(unsigned)}: their webhooks are answered 503")
    tokenless = []
    for name in sorted(REGISTRY):
        entry = document.sources.get(name)
        if not document.ours_token and not (entry and entry.ours_token):
            tokenless.append(name)
    if tokenless:
        notes.append(f"no Ours token for {', '.join(tokenless)}: set ours_token in the secret document")
    return notes


def serve(args: argparse.Namespace) -> int:
    if args.secrets:
        document, text = load_document(args.secrets)
        secret_label = f"from {args.secrets}"
    else:
        document, text = dev_document()
        secret_label = f"the development document ({DEV_SECRETS.name}, not for production)"
    try:
        functions_dir = find_functions_dir(Path(args.functions_dir) if args.functions_dir else None)
    except FunctionsNotFound as exc:
        raise CliError(str(exc)) from None
    replay_dir = Path(args.replay) if args.replay else None
    if replay_dir is not None and not replay_dir.is_dir():
        raise CliError(f"--replay {args.replay}: no such directory (expected DIR/<source>/<name>.json samples)")
    if args.ours_url and not args.ours_url.startswith(("http://", "https://")):
        raise CliError(f"--ours-url {args.ours_url[:80]!r} is not an http(s) URL")
    options = StackOptions(
        functions_dir=functions_dir,
        secret_text=text,
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        ours_url=args.ours_url.rstrip("/") if args.ours_url else None,
        max_receive_count=_max_receive_count(),
    )
    _check_delivery(options.max_receive_count)
    console = Console()
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    for which in (signal.SIGINT, signal.SIGTERM):
        previous[which] = signal.signal(which, on_signal)
    stack = LocalStack(options, console)
    try:
        try:
            stack.start()
        except PortInUse as exc:
            raise CliError(str(exc), EXIT_USAGE) from None
        notes = _notes(document)
        if args.ours_url and not args.secrets:
            notes.append("the development document's Ours token is a placeholder: pass --secrets FILE with yours")
        _banner(console, stack, secret_label, notes)
        if replay_dir is not None and not stop.is_set():
            _replay(console, stack, replay_dir, document, stop)
        while not stop.wait(0.5):
            pass
        console.say("\nStopping…")
    finally:
        stack.stop()
        for which, handler in previous.items():
            signal.signal(which, handler)
    console.say("Stopped.")
    return 0


def _banner(console: Console, stack: LocalStack, secret_label: str, notes: list[str]) -> None:
    o = stack.options
    ours = (
        f"{stack.ours_url}  (local: checks every call against the Ours contract)"
        if stack.ours is not None
        else f"{stack.ours_url}  (--ours-url)"
    )
    console.say("webhook-translator serve: the whole pipeline on this machine. Ctrl-C stops it.")
    console.say()
    console.say(f"  receiver  POST {stack.receiver_url}/webhooks/{{source}}   ({', '.join(sorted(REGISTRY))})")
    console.say(
        f"  queue     {stack.queue_url}  (visibility {o.visibility_timeout} s, maxReceiveCount {o.max_receive_count})"
    )
    console.say(f"  DLQ       {stack.dlq_url}")
    console.say(f"  secret    webhook-translator/local in moto's Secrets Manager, {secret_label}")
    console.say(f"  Ours      {ours}")
    for note in notes:
        console.say(f"  note      {note}")
    console.say()
    console.say("For `webhook-translator dlq list|redrive` (or the AWS CLI) in another shell:")
    console.say(f"  {stack.exports()}")
    platform_exports = stack.platform_exports()
    if platform_exports is not None:
        console.say("For `webhook-translator ours allowlist` against the local Ours Platform API (allowlist, publish):")
        console.say(f"  {platform_exports}")
    console.say()
    example = sorted(Path("events/stripe").glob("*.json")) if Path("events/stripe").is_dir() else []
    sample = str(example[0]) if example else "events/stripe/<sample>.json"
    console.say(f"Send a webhook:  webhook-translator send stripe {sample} --url {stack.local_receiver_url}")
    console.say()
    console.say(f"Ready: POST webhooks to {stack.receiver_url}/webhooks/{{source}}")


def _replay(
    console: Console, stack: LocalStack, directory: Path, document: SecretDocument, stop: threading.Event
) -> None:
    from webhook_translator_tools.local.replay import replay_directory

    summary = replay_directory(directory, stack.local_receiver_url, document, console=console, stop=stop)
    parts = [f"{summary.accepted} accepted"]
    if summary.refused:
        parts.append(f"{len(summary.refused)} refused")
    if summary.skipped:
        parts.append(f"{len(summary.skipped)} skipped")
    console.line(f"replay: {summary.sent} sent, {', '.join(parts)}")


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "serve",
        help="run the whole pipeline on this machine (no AWS account, no network)",
        description=(
            "Run the whole pipeline on this machine: the receiver on http://HOST:PORT/webhooks/{source}, "
            "SQS (queue + DLQ) and Secrets Manager emulated by moto's server on 127.0.0.1:AWS_PORT, the forwarder "
            "polling the queue the way Lambda does, and a local Ours that checks every call against the Ours "
            "contract (unless --ours-url is given). Prints one line per webhook and per Ours call, and the "
            "export line for the dlq commands. Ctrl-C stops it."
        ),
    )
    p.add_argument("--host", default=DEFAULT_HOST, metavar="H", help=f"the receiver's address (default {DEFAULT_HOST})")
    p.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, metavar="P", help=f"the receiver's port (default {DEFAULT_PORT})"
    )
    p.add_argument(
        "--ours-url",
        metavar="URL",
        help="deliver to this Ours API base URL (e.g. https://api.oursprivacy.com/api/v1) instead of the local Ours",
    )
    p.add_argument(
        "--secrets",
        metavar="FILE",
        help="the secret document (JSON: ours_token and per-source signing_secrets) "
        "(default: the shipped development document)",
    )
    p.add_argument(
        "--aws-port",
        type=_port,
        default=DEFAULT_AWS_PORT,
        metavar="N",
        help=f"the port of moto's AWS endpoint on 127.0.0.1 (default {DEFAULT_AWS_PORT})",
    )
    p.add_argument(
        "--replay",
        metavar="DIR",
        help="on start, sign and post every sample DIR/<source>/<name>.json once (`make run` uses events/)",
    )
    p.add_argument(
        "--functions-dir",
        metavar="DIR",
        help="the folder with receiver/app.py and forwarder/app.py (default: functions/ of this checkout)",
    )
    p.set_defaults(run=serve)
