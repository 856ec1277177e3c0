"""``config check FILE``: validate a translator configuration document exactly as the functions' init does."""

from __future__ import annotations

import argparse
import sys

from webhook_translator.config import TranslatorConfig
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.translator_config import ConfigInvalid, parse, resolve
from webhook_translator_tools.cli.common import EXIT_ERROR, read_bytes

__all__ = ["register"]


def check(args: argparse.Namespace) -> int:
    raw = read_bytes(args.file)
    origin = args.file
    try:
        translation = resolve(parse(raw, origin), REGISTRY, origin)
    except ConfigInvalid as exc:
        for fault in exc.faults:
            print(f"{origin}: {fault}", file=sys.stderr)
        print(f"{origin}: invalid ({len(exc.faults)} fault(s)); the functions would fail their init", file=sys.stderr)
        return EXIT_ERROR
    print(f"{origin}: valid — {_summary(translation.config)}")
    return 0


def _summary(config: TranslatorConfig) -> str:
    declarative = sorted(name for name, entry in config.sources.items() if entry.spec is not None)
    configured = sorted(name for name in config.sources if name not in declarative)
    parts = [f"{len(configured)} built-in source(s) configured" + (f" ({', '.join(configured)})" if configured else "")]
    parts.append(f"{len(declarative)} declarative" + (f" ({', '.join(declarative)})" if declarative else ""))
    return ", ".join(parts)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = commands.add_parser(
        "config",
        help="the translator configuration document: check it",
        description="Work with translator configuration documents (docs/custom-sources.md).",
    )
    sub = group.add_subparsers(dest="config_command", metavar="SUBCOMMAND", required=True)
    p = sub.add_parser(
        "check",
        help="validate a translator configuration document (declarative sources included)",
        description=(
            "Validate FILE as the functions validate TRANSLATOR_CONFIG / TRANSLATOR_CONFIG_FILE / "
            "TRANSLATOR_CONFIG_PARAMETER at init: JSON syntax, unique keys, known sources, each source's options, "
            "each declarative spec. Exit 0 when valid; otherwise one line per fault on stderr and exit 1."
        ),
    )
    p.add_argument("file", metavar="FILE", help="the document (JSON)")
    p.set_defaults(run=check)
