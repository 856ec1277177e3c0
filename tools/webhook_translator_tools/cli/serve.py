"""``serve``: the whole pipeline on this machine (see :mod:`webhook_translator_tools.local.stack`)."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from webhook_translator.config import Settings
from webhook_translator.secrets import SecretDocument
from webhook_translator.sources.base import Source
from webhook_translator_tools.cli.common import (
    CONFIG_VARIABLES,
    EXIT_USAGE,
    CliError,
    add_config_argument,
    configured,
    dev_document,
    load_document,
)
from webhook_translator_tools.local.console import Console
from webhook_translator_tools.local.functions import FunctionsNotFound, find_functions_dir
from webhook_translator_tools.local.pipeline_log import default_state_dir
from webhook_translator_tools.local.stack import (
    DEFAULT_AWS_PORT,
    DEFAULT_HOST,
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


def _enabled_sources(settings: Settings, registry: Mapping[str, Source]) -> frozenset[str] | None:
    """``ENABLED_SOURCES`` as the receiver reads it; a name that is no source is one line, before anything starts."""
    enabled = settings.enabled_sources
    unknown = sorted((enabled or frozenset()) - set(registry))
    if unknown:
        raise CliError(
            f"ENABLED_SOURCES names no registered source: {', '.join(n[:64] for n in unknown)}; "
            f"known: {', '.join(sorted(registry))}"
        )
    return enabled


def _check_delivery(settings: Settings) -> None:
    """The forwarder's delivery settings (MAX_RECEIVE_COUNT, RETRY_MAX_DELAY, OUTAGE_BUDGET_SECONDS…) fit
    together, as the forwarder's init checks them: one line if not."""
    from webhook_translator.budget import check_budget

    try:
        check_budget(settings)
    except RuntimeError as exc:
        raise CliError(str(exc)) from None


def _notes(document: SecretDocument, registry: Mapping[str, Source], enabled: frozenset[str] | None) -> list[str]:
    notes = []
    if enabled is not None:
        notes.append(f"ENABLED_SOURCES: only {', '.join(sorted(enabled)) or 'no source'}; every other answers 404")
    unsigned = sorted(n for n in registry if not document.signing_secrets_for(n) and (enabled is None or n in enabled))
    if unsigned:
        notes.append(f"no signing secret for {', '.join(unsigned)}: their webhooks are answered 503")
    tokenless = []
    for name in sorted(registry):
        entry = document.sources.get(name)
        if not document.ours_token and not (entry and entry.ours_token):
            tokenless.append(name)
    if tokenless:
        notes.append(f"no Ours token for {', '.join(tokenless)}: set ours_token in the secret document")
    return notes


def _use_config(args: argparse.Namespace) -> tuple[Settings, Mapping[str, Source]]:
    """Validate the settings and the translator configuration as the functions' init will (before anything
    starts), and point the local functions at ``--config FILE`` (or at a copy of TRANSLATOR_CONFIG_PARAMETER's
    document: they talk to moto, not to your account); the settings and the sources in force."""
    settings, translation = configured(args)
    path = Path(args.config).resolve() if args.config else None
    if path is None and settings.translator_config_parameter:
        # read from your AWS account just now; the local functions talk to moto, so they get a copy
        handle, name = tempfile.mkstemp(prefix="translator-config-", suffix=".json")
        os.close(handle)
        path = Path(name)
        path.write_text(translation.config.model_dump_json(exclude_defaults=True), encoding="utf-8")
    if path is not None:
        for variable in CONFIG_VARIABLES:
            os.environ.pop(variable, None)
        os.environ["TRANSLATOR_CONFIG_FILE"] = str(path)
    return settings, translation.registry


def _secret_document(args: argparse.Namespace) -> tuple[SecretDocument, str, str]:
    """The secret document ``--secrets FILE`` (default: the development one): the document, its text, a label."""
    if args.secrets:
        document, text = load_document(args.secrets)
        return document, text, f"from {args.secrets}"
    document, text = dev_document()
    return document, text, f"the development document ({DEV_SECRETS.name}, not for production)"


def _stack_options(args: argparse.Namespace, settings: Settings, secret_text: str) -> StackOptions:
    """The local stack's options from the arguments; a folder or URL that cannot work is one line."""
    try:
        functions_dir = find_functions_dir(Path(args.functions_dir) if args.functions_dir else None)
    except FunctionsNotFound as exc:
        raise CliError(str(exc)) from None
    if args.replay and not Path(args.replay).is_dir():
        raise CliError(f"--replay {args.replay}: no such directory (expected DIR/<source>/<name>.json samples)")
    if args.ours_url and not args.ours_url.startswith(("http://", "https://")):
        raise CliError(f"--ours-url {args.ours_url[:80]!r} is not an http(s) URL")
    return StackOptions(
        functions_dir=functions_dir,
        secret_text=secret_text,
        host=args.host,
        port=args.port,
        aws_port=args.aws_port,
        ours_url=args.ours_url.rstrip("/") if args.ours_url else None,
        max_receive_count=settings.max_receive_count,
        state_dir=Path(args.state_dir) if args.state_dir else default_state_dir(),
    )


@contextlib.contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[list[int]]:
    """SIGINT and SIGTERM set ``stop`` (the signals received are listed) until the block ends."""
    received: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    previous: dict[signal.Signals, Any] = {}
    for which in (signal.SIGINT, signal.SIGTERM):
        previous[which] = signal.signal(which, on_signal)
    try:
        yield received
    finally:
        for which, handler in previous.items():
            signal.signal(which, handler)


def serve(args: argparse.Namespace) -> int:
    settings, registry = _use_config(args)
    document, text, secret_label = _secret_document(args)
    options = _stack_options(args, settings, text)
    enabled = _enabled_sources(settings, registry)
    _check_delivery(settings)
    console = Console()
    stop = threading.Event()
    with _stopped_by_signals(stop) as received:
        stack = LocalStack(options, console)
        try:
            try:
                stack.start()
            except PortInUse as exc:
                raise CliError(str(exc), EXIT_USAGE) from None
            notes = _notes(document, registry, enabled)
            if args.ours_url and not args.secrets:
                notes.append("the development document's Ours token is a placeholder: pass --secrets FILE with yours")
            _banner(console, stack, secret_label, notes, registry)
            replay_dir = Path(args.replay) if args.replay else None
            interrupted = replay_dir is not None and not _replay(console, stack, replay_dir, document, stop, registry)
            while not stop.wait(0.5):
                pass
            console.say("\nStopping…")
        finally:
            stack.stop()
    console.say("Stopped.")
    # stopped before every sample was sent: the shell's status for the signal (130 for Ctrl-C)
    return 128 + (received[-1] if received else signal.SIGINT) if interrupted else 0


def _command() -> str:
    """How a shell in this folder runs the command: ``webhook-translator`` when that is on PATH, else the
    script beside this Python (``.venv/bin/webhook-translator`` after ``make run``)."""
    script = Path(sys.executable).parent / "webhook-translator"
    found = shutil.which("webhook-translator")
    if not script.is_file() or (found is not None and Path(found).resolve() == script.resolve()):
        return "webhook-translator"
    relative = os.path.relpath(script)
    return relative if not relative.startswith("..") else str(script)


def _banner(
    console: Console, stack: LocalStack, secret_label: str, notes: list[str], registry: Mapping[str, Source]
) -> None:
    o = stack.options
    ours = (
        f"{stack.ours_url}  (local: checks every call against the Ours contract)"
        if stack.ours is not None
        else f"{stack.ours_url}  (--ours-url)"
    )
    console.say("webhook-translator serve: the whole pipeline on this machine. Ctrl-C stops it.")
    console.say()
    console.say(f"  receiver  POST {stack.receiver_url}/webhooks/{{source}}   ({', '.join(sorted(registry))})")
    console.say(
        f"  queue     {stack.queue_url}  (visibility {o.visibility_timeout} s, maxReceiveCount {o.max_receive_count})"
    )
    console.say(f"  DLQ       {stack.dlq_url}")
    console.say(f"  secret    webhook-translator/local in moto's Secrets Manager, {secret_label}")
    console.say(f"  Ours      {ours}")
    for name, url in sorted(stack.fetch_urls.items()):
        fake = stack.providers.get(name)
        where = "local fake of its provider API" if fake is not None and fake.url == url else "--config api_base_url"
        console.say(f"  fetch     {name} {url}  ({where})")
    for note in notes:
        console.say(f"  note      {note}")
    console.say()
    command = _command()
    console.say(f"For `{command} dlq list|redrive`, `status` and `find` (or the AWS CLI) in another shell:")
    console.say(f"  {stack.exports()}")
    platform_exports = stack.platform_exports()
    if platform_exports is not None:
        console.say("For `webhook-translator ours allowlist` against the local Ours Platform API (allowlist, publish):")
        console.say(f"  {platform_exports}")
    console.say()
    example = sorted(Path("events/stripe").glob("*.json")) if Path("events/stripe").is_dir() else []
    sample = str(example[0]) if example else "events/stripe/<sample>.json"
    console.say(f"Send a webhook:  {command} send stripe {sample} --url {stack.local_receiver_url}")
    console.say()
    console.say(f"Ready: POST webhooks to {stack.receiver_url}/webhooks/{{source}}")


def _replay(
    console: Console,
    stack: LocalStack,
    directory: Path,
    document: SecretDocument,
    stop: threading.Event,
    registry: Mapping[str, Source],
) -> bool:
    """Post every sample once; False when stopped before all were sent (the summary says how many were not)."""
    from webhook_translator_tools.local.replay import replay_directory

    if stop.is_set():
        console.line("replay: interrupted before it started: nothing sent")
        return False
    summary = replay_directory(
        directory, stack.local_receiver_url, document, console=console, stop=stop, registry=registry
    )
    console.line(summary.line())
    return not summary.interrupted


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
    add_config_argument(p)
    p.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where the pipeline log goes (pipeline-<port>.jsonl: the functions' JSON log records and metrics, "
        "read by `status` and `find`; default $XDG_STATE_HOME/webhook-translator)",
    )
    p.set_defaults(run=serve)
