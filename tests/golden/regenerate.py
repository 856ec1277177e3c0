"""The golden files: what each sample in ``events/`` must become, and the script that rewrites them.

``tests/golden/<source>/<name>.json`` holds the exact list of ``/track`` bodies
(``TrackEvent.to_ours()``, no token) that ``events/<source>/<name>.json`` produces
— ``[]`` for a webhook that is acknowledged and skipped. The sample goes the way
a real webhook goes: the receiver's request and envelope (the source's own
webhook id and forwarded headers), then the mapper, on a fixed clock.

After a deliberate mapping change, rewrite them and review the diff::

    .venv/bin/python tests/golden/regenerate.py            # every source
    .venv/bin/python tests/golden/regenerate.py tally      # some sources
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
GOLDEN = Path(__file__).resolve().parent

if str(ROOT / "layers" / "shared") not in sys.path:  # run as a script from a fresh checkout
    sys.path.insert(0, str(ROOT / "layers" / "shared"))

from webhook_translator.envelope import Envelope  # noqa: E402
from webhook_translator.fetch import FetchRequest  # noqa: E402
from webhook_translator.sources.context import MapContext  # noqa: E402
from webhook_translator.sources.registry import REGISTRY  # noqa: E402
from webhook_translator.sources.request import InboundRequest, body_hash  # noqa: E402
from webhook_translator_tools.local.samples import Sample, is_sample, iter_samples  # noqa: E402

#: the goldens' clock: 2026-11-18T11:06:40Z (sample times are a few hours before it)
NOW_MS = 1_795_000_000_000
#: when the receiver took the samples in (a minute before the forwarder maps them)
RECEIVED_AT = datetime.fromtimestamp((NOW_MS - 60_000) / 1000, UTC)


def sample_paths(sources: list[str] | None = None) -> list[Path]:
    """Every file in ``events/<source>/`` that is in the sample shape (API Gateway / SQS events are not)."""
    paths = []
    for path in iter_samples(EVENTS):
        if sources and path.parent.name not in sources:
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if is_sample(document):
            paths.append(path)
    return paths


def golden_path(sample_path: Path) -> Path:
    return GOLDEN / sample_path.parent.name / sample_path.name


def envelope_for(sample: Sample) -> Envelope:
    """The queue envelope the receiver would make of ``sample`` (as received, no signature headers)."""
    source = REGISTRY[sample.source]
    body = sample.raw_body()
    headers = {k.lower(): v for k, v in sample.request_headers({}).items()}
    request = InboundRequest(source=source.name, body=body, headers=headers, received_at=RECEIVED_AT)
    webhook_id = source.webhook_id(request) or f"sha256:{body_hash(body)[:40]}"
    return Envelope.wrap(
        source=source.name,
        webhook_id=webhook_id,
        received_at=RECEIVED_AT,
        content_type=request.header("content-type") or "",
        body=body,
        headers={h: v for h in source.forwarded_headers if (v := request.header(h)) is not None},
    )


def fixture_fetch(request: FetchRequest) -> dict[str, Any]:
    """The fetch step against the local provider fakes' seeded objects, in-process (no socket): what
    the Graph API and Acuity answer for the samples' ids (``tools/.../local/*.json``)."""
    from webhook_translator_tools.local.acuity_server import LocalAcuity
    from webhook_translator_tools.local.graph_server import LocalGraph
    from webhook_translator_tools.local.hubspot_server import LocalHubSpot
    from webhook_translator_tools.local.provider_server import LocalProviderApi
    from webhook_translator_tools.local.stripe_server import LocalStripe

    fakes: dict[str, tuple[type[LocalProviderApi], str]] = {
        "facebook-leads": (LocalGraph, "Bearer golden"),
        "acuity": (LocalAcuity, "Basic Z29sZGVuOmdvbGRlbg=="),
        "hubspot": (LocalHubSpot, "Bearer golden"),
        "stripe": (LocalStripe, "Bearer golden"),
    }
    fake, auth = fakes[request.source]
    answer = fake().route(request.path, dict(request.params), {"authorization": auth})
    if answer.status != 200:
        raise AssertionError(f"the local {request.source} fake has no object at {request.path}")
    body: dict[str, Any] = answer.body
    return body


def translate(sample_path: Path) -> list[dict[str, Any]]:
    """The ``/track`` bodies the sample at ``sample_path`` produces on the goldens' clock."""
    sample = Sample.load(sample_path)
    source = REGISTRY[sample.source]
    envelope = Envelope.from_message(envelope_for(sample).to_message())  # through the queue's JSON, as in production
    result = source.map(envelope, MapContext(source=source, now_ms=NOW_MS, fetcher=fixture_fetch))
    if result.failures:
        raise AssertionError(f"{sample_path.name}: an item failed ({result.failures[0].reason})")
    return [event.to_ours() for event in result.events]


def render(bodies: list[dict[str, Any]]) -> str:
    return json.dumps(bodies, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    unknown = [name for name in argv if name not in REGISTRY]
    if unknown:
        print(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(REGISTRY)}", file=sys.stderr)
        return 2
    for path in sample_paths(argv or None):
        target = golden_path(path)
        text = render(translate(path))
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"{'updated' if old is not None else 'created'} {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
