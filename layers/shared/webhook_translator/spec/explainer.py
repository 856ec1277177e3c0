"""``translate --explain``: each path of a spec with the value it found, personal values masked.

Ids, types, times and booleans are shown as found (they are what a user debugs a spec with);
every other text — e-mails, phones, names, free text — is masked: ``a***@e***.com``,
``<masked: 11 chars>``. Numbers are shown; objects and arrays are masked leaf by leaf.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from webhook_translator.errors import MappingError
from webhook_translator.spec.source import SpecSource, truthy

if TYPE_CHECKING:
    from webhook_translator.envelope import Envelope
    from webhook_translator.sources.context import MapContext
    from webhook_translator.spec.paths import Path

#: the paths whose text values are shown as found (ids, types, times, the batch itself)
_PLAIN: Final = ("item_id", "event_type", "time", "filters", "id.path", "batch")


@dataclass(frozen=True)
class ExplainRow:
    """One path of a spec: where it is, its expression, and what it found (masked where personal)."""

    path: str
    expression: str
    value: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "expression": self.expression, "value": self.value}


def mask_text(text: str) -> str:
    """``jane@example.com`` → ``j***@e***.com``; any other text → ``<masked: N chars>``."""
    local, at, domain = text.partition("@")
    if at and local and "." in domain and " " not in text:
        host, _, tld = domain.rpartition(".")
        return f"{local[0]}***@{host[:1]}***.{tld}"
    return f"<masked: {len(text)} chars>"


def masked(value: Any) -> Any:
    """``value`` with every text leaf masked (numbers, booleans and null kept)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def _shown(path: Path, value: Any) -> str:
    plain = path.where.startswith(_PLAIN)
    if path.where == "batch" and isinstance(value, list):
        return f"<{len(value)} items>"
    shown = value if plain else masked(value)
    text = json.dumps(shown, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:199] + "…"


def _row(prefix: str, path: Path, value: Any) -> ExplainRow:
    return ExplainRow(f"{prefix}{path.where}", path.text, _shown(path, value))


def _search(path: Path, data: Any) -> Any:
    try:
        return path.search(data)
    except MappingError as exc:
        return f"<error: {exc.message}>"


def _outcome(source: SpecSource, item: Any, index: int, envelope: Envelope, ctx: MapContext) -> str:
    try:
        _kind, outcome = source.map_item(item, index, envelope, ctx)
    except MappingError as exc:
        return f"error ({exc.reason}): {exc.message}"
    if isinstance(outcome, str):
        return f"skipped ({outcome})"
    return f"{outcome.event} (distinctId {outcome.distinct_id})"


def explain_rows(source: Any, envelope: Envelope, ctx: MapContext) -> list[ExplainRow]:
    """Each path of ``source``'s spec and what it found in ``envelope``; :class:`TypeError` for a built-in."""
    if not isinstance(source, SpecSource):
        raise TypeError(f"{getattr(source, 'name', source)!r} is not a declarative (spec) source")
    c = source.compiled
    rows: list[ExplainRow] = []
    try:
        items = source.items(envelope)
    except MappingError as exc:
        return [ExplainRow("body", "", f"<error: {exc.message}>")]
    if c.batch is not None:
        rows.append(ExplainRow("batch", c.batch.text, f"<{len(items)} items>"))
    if c.id_path is not None and c.batch is None:
        rows.append(_row("", c.id_path, _search(c.id_path, items[0])))
    for index, item in enumerate(items):
        prefix = f"items[{index}]." if c.batch is not None else ""
        if c.event_type is None:
            rows.append(ExplainRow(f"{prefix}event_type.value", "", json.dumps(c.spec.event_type.value)))
        for path in c.item_paths():
            value = _search(path, item)
            if path.where.startswith("filters"):
                value = truthy(value) if not isinstance(value, str) or not value.startswith("<error") else value
            rows.append(_row(prefix, path, value))
        rows.append(ExplainRow(f"{prefix}→", "", _outcome(source, item, index, envelope, ctx)))
    return rows
