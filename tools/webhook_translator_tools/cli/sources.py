"""``sources``: every source, the provider event types it maps, and the Ours event names to allowlist."""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from webhook_translator.config import TranslatorConfig
from webhook_translator.sources.base import Source
from webhook_translator.translation import map_context
from webhook_translator_tools.cli.common import add_config_argument, configured

__all__ = ["allowlist_names", "register", "source_rows"]

#: the ``events`` key of a source that maps any event type its sender names
ANY = "*"
ANY_LABEL = "(any type)"
GENERIC_NAME = "(the type the sender names)"


def source_rows(registry: Mapping[str, Source], config: TranslatorConfig) -> list[tuple[str, str, str]]:
    """(source, provider event type, Ours event name or why none) — renames and drops from the configuration applied."""
    rows: list[tuple[str, str, str]] = []
    for name in sorted(registry):
        source = registry[name]
        ctx = map_context(source, config, now_ms=0)
        types = [t for t in source.events if t != ANY]
        if ANY in source.events or not source.events:
            # a generic source: the payload names its own events; configured renames are known names too
            types += [t for t in ctx.config.rename if t not in types]
            rows.append((name, ANY_LABEL, GENERIC_NAME))
        for event_type in types:
            ours = "(dropped by TRANSLATOR_CONFIG)" if ctx.dropped(event_type) else ctx.event_name(event_type)
            rows.append((name, event_type, ours))
    return rows


def allowlist_names(rows: list[tuple[str, str, str]]) -> list[str]:
    """The Ours event names in :func:`source_rows` (not a "(dropped …)" or "(any type)" placeholder), sorted."""
    return sorted({ours for _, _, ours in rows if not ours.startswith("(")}, key=str.lower)


def sources(args: argparse.Namespace) -> int:
    translation = configured(args)[1]
    rows = source_rows(translation.registry, translation.config)
    table = [("SOURCE", "PROVIDER EVENT TYPE", "OURS EVENT NAME"), *rows]
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    names = allowlist_names(rows)
    print()
    print(f"Allowlist these {len(names)} event names in Ours (events not on the allowlist are silently dropped):")
    for name in names:
        print(f"  {name}")
    generic = [name for name, event_type, _ in rows if event_type == ANY_LABEL]
    if generic:
        print(f"…and the event types your own senders name when they post to: {', '.join(generic)}")
    print("Every other provider event type is acknowledged (200) and skipped.")
    return 0


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "sources",
        help="list the sources, the event types they map and the Ours event names",
        description=(
            "List every source, the provider event types it maps and the Ours event name each becomes "
            "(renames and drops from TRANSLATOR_CONFIG applied): the names to allowlist in Ours."
        ),
    )
    add_config_argument(p)
    p.set_defaults(run=sources)
