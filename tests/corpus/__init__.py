"""The corpus: real-shaped payloads, each with the ``/track`` bodies a person reading it would expect.

``tests/corpus/<source>/<name>.json`` is a sample (``events/README.md``'s shape) plus two keys:

* ``documented`` — one line: where this shape is documented (the provider's docs page, API
  changelog entry or OpenAPI fixture it was written from — written here, never copied);
* ``config`` (optional) — the source's ``TRANSLATOR_CONFIG`` entry for it (``options``…).

``<name>.track.json`` beside it is the golden: the ``/track`` bodies (no token), or
``{"error": "<reason>"}`` (a permanent failure, e.g. ``no_identity``), or ``{"skipped": "<reason>"}``,
or — a webhook of several items where some failed on their own — ``{"events": [...], "failed": [<reasons>]}``.
Each payload goes the production way: the receiver's envelope (webhook id, forwarded headers),
the queue's JSON, then ``webhook_translator.translation.translate`` — the forwarder's step.

After a deliberate change: ``.venv/bin/python tests/corpus/regenerate.py`` and review the diff.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from webhook_translator.config import SourceConfig, TranslatorConfig
from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.sources.request import InboundRequest, body_hash
from webhook_translator.translation import translate
from webhook_translator_tools.local.samples import Sample

ROOT = Path(__file__).resolve().parent
#: the corpus clock: 2026-11-18T11:06:40Z (payload times are a few hours before it)
NOW_MS = 1_795_000_000_000
RECEIVED_AT = datetime.fromtimestamp((NOW_MS - 60_000) / 1000, UTC)
GOLDEN_SUFFIX = ".track.json"


def payload_paths() -> list[Path]:
    return sorted(p for p in ROOT.glob("*/*.json") if not p.name.endswith(GOLDEN_SUFFIX))


def golden_path(path: Path) -> Path:
    return path.with_name(path.stem + GOLDEN_SUFFIX)


def load(path: Path) -> tuple[Sample, dict[str, Any], str]:
    """(the sample, its source's configuration entry, where its shape is documented)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    documented = document.pop("documented")
    config = document.pop("config", {})
    return Sample.from_json(document, path), config, documented


def envelope_for(sample: Sample) -> Envelope:
    """The queue message the receiver would make of ``sample``, read back as the forwarder reads it."""
    source = REGISTRY[sample.source]
    body = sample.raw_body()
    headers = {k.lower(): v for k, v in sample.request_headers({}).items()}
    request = InboundRequest(source=source.name, body=body, headers=headers, received_at=RECEIVED_AT)
    webhook_id = source.webhook_id(request) or f"sha256:{body_hash(body)[:40]}"
    envelope = Envelope.wrap(
        source=source.name,
        webhook_id=webhook_id,
        received_at=RECEIVED_AT,
        content_type=request.header("content-type") or "",
        body=body,
        headers={h: v for h in source.forwarded_headers if (v := request.header(h)) is not None},
    )
    return Envelope.from_message(envelope.to_message())


def outcome(path: Path) -> Any:
    """What the forwarder's translation makes of the payload at ``path``."""
    sample, config, _ = load(path)
    return outcome_of(sample, config)


def outcome_of(sample: Sample, config: dict[str, Any]) -> Any:
    """What the forwarder's translation makes of ``sample`` with its source's configuration ``config``."""
    translator = TranslatorConfig(sources={sample.source: SourceConfig.model_validate(config)})
    try:
        _, result = translate(envelope_for(sample), translator, registry=REGISTRY, now_ms=NOW_MS)
    except MappingError as exc:
        return {"error": exc.reason}
    if result.skipped:
        return {"skipped": result.skipped}
    events = [event.to_ours() for event in result.events]
    if result.failures:  # a webhook of several items, some failed on their own: the others still go out
        return {"events": events, "failed": [failure.reason for failure in result.failures]}
    return events


def differences(actual: Any, expected: Any, path: str = "$") -> list[str]:
    """The JSON paths where ``actual`` and ``expected`` differ (no values: payloads look like personal data)."""
    if isinstance(actual, dict) and isinstance(expected, dict):
        out = [f"{path}.{k} (unexpected)" for k in sorted(set(actual) - set(expected))]
        out += [f"{path}.{k} (missing)" for k in sorted(set(expected) - set(actual))]
        for key in sorted(set(actual) & set(expected)):
            out += differences(actual[key], expected[key], f"{path}.{key}")
        return out
    if isinstance(actual, list) and isinstance(expected, list):
        if len(actual) != len(expected):
            return [f"{path} (length {len(actual)}, expected {len(expected)})"]
        return [
            d for i, (a, e) in enumerate(zip(actual, expected, strict=True)) for d in differences(a, e, f"{path}[{i}]")
        ]
    if type(actual) is not type(expected) or actual != expected:
        return [path]
    return []


def render(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
