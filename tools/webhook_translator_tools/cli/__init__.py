"""The ``webhook-translator`` command: ``serve``, ``translate``, ``sign``, ``send``, ``dlq``, ``sources``, ``ours``,
``config``, ``verify``, ``status``, ``find``.

Each command group lives in its own module and registers its parser here. A
failure the user can fix is a :class:`~webhook_translator_tools.cli.common.CliError`:
one line on stderr saying what is wrong and what to do, and a non-zero exit —
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from webhook_translator import __version__
from webhook_translator_tools.cli import config, dlq, find, ours, samples, serve, sources, status, verify
from webhook_translator_tools.cli.common import EXIT_ERROR, CliError

__all__ = ["build_parser", "main"]

PROG = "webhook-translator"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Third-party webhooks into Ours Privacy /track events: run the pipeline locally, "
        "dry-run mappings, sign and send samples, and manage the dead-letter queue.",
        epilog="`webhook-translator COMMAND --help` describes each command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve.register(commands)
    samples.register(commands)
    dlq.register(commands)
    sources.register(commands)
    ours.register(commands)
    config.register(commands)
    verify.register(commands)
    status.register(commands)
    find.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (argparse's own exits included)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        status: int = args.run(args)
        return status
    except CliError as exc:
        print(f"{PROG} {args.command}: error: {exc.message}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `webhook-translator sources | head`
        return 0
    except Exception as exc:
        if os.environ.get("WEBHOOK_TRANSLATOR_DEBUG"):
            raise
        print(
            f"{PROG} {args.command}: unexpected error ({type(exc).__name__}); "
            "rerun with WEBHOOK_TRANSLATOR_DEBUG=1 for the traceback and please report it",
            file=sys.stderr,
        )
        return EXIT_ERROR
