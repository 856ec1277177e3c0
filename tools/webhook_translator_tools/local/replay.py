"""Sign and send samples to a receiver: ``serve --replay DIR`` and ``send``.

Each sample is re-timed (its ``time_fields`` set to a few seconds ago, so that
Ours's seven-day window accepts it), signed with the source's first signing
secret the way the provider signs (:meth:`Source.sign_headers`), and POSTed to
``<receiver>/webhooks/<source>``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import requests

from webhook_translator.secrets import SecretDocument
from webhook_translator.sources.base import Source
from webhook_translator.sources.registry import REGISTRY
from webhook_translator_tools.local.console import Console
from webhook_translator_tools.local.samples import Sample, SampleError, is_sample, iter_samples

__all__ = ["ReplaySummary", "SignedRequest", "replay_directory", "sign_sample", "webhook_url"]

#: header names under which a sample may carry the provider's delivery id (kept when re-signing)
ID_HEADERS: Final = ("webhook-id", "svix-id")
TIMEOUT: Final = (3.05, 30.0)


@dataclass(frozen=True)
class SignedRequest:
    url: str
    headers: dict[str, str]
    body: bytes


def webhook_url(base: str, source: str) -> str:
    """``base`` if it already names a webhook path (``…/webhooks/…``), else ``base/webhooks/<source>``."""
    if "/webhooks/" in base:
        return base
    return f"{base.rstrip('/')}/webhooks/{source}"


def sign_sample(
    sample: Sample, source: Source, secret: str, *, base_url: str, now: float | None = None
) -> SignedRequest:
    """The request a provider would send for ``sample``: re-timed, signed with ``secret``."""
    now = time.time() if now is None else now
    timed = sample.retimed(now)
    body = timed.raw_body()
    ident = next((v for k, v in sample.headers.items() if k.lower() in ID_HEADERS), None)
    signature = source.sign_headers(body, secret, now=now, webhook_id=ident)
    return SignedRequest(webhook_url(base_url, source.name), timed.request_headers(signature), body)


@dataclass
class ReplaySummary:
    accepted: int = 0
    refused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    #: samples never posted because the replay was stopped (Ctrl-C, SIGTERM)
    not_sent: int = 0
    interrupted: bool = False

    @property
    def sent(self) -> int:
        return self.accepted + len(self.refused)

    def line(self) -> str:
        """``replay: 21 sent, 21 accepted`` — and, when interrupted, how many were never sent."""
        parts = [f"{self.accepted} accepted"]
        if self.refused:
            parts.append(f"{len(self.refused)} refused")
        if self.skipped:
            parts.append(f"{len(self.skipped)} skipped")
        if self.interrupted:
            return f"replay: interrupted: {self.sent} sent, {', '.join(parts)}, {self.not_sent} not sent"
        return f"replay: {self.sent} sent, {', '.join(parts)}"


def replay_directory(
    directory: Path,
    base_url: str,
    document: SecretDocument,
    *,
    console: Console,
    registry: Mapping[str, Source] = REGISTRY,
    session: requests.Session | None = None,
    stop: threading.Event | None = None,
    clock: Callable[[], float] = time.time,
) -> ReplaySummary:
    """POST every sample of ``directory`` (``DIR/<source>/<name>.json``) once; say what was refused or skipped."""
    http = session or requests.Session()
    summary = ReplaySummary()

    def skip(line: str) -> None:
        summary.skipped.append(line)
        console.line(f"replay: skipped {line}")

    def refuse(line: str) -> None:
        summary.refused.append(line)
        console.line(f"replay: refused {line}")

    loaded: list[tuple[str, Sample]] = []
    for path in iter_samples(directory):
        label = _label(path, directory)
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            skip(f"{label}: not readable as JSON ({type(exc).__name__})")
            continue
        if not is_sample(data):  # API Gateway or SQS events (events/apigw, events/sqs): not for replay
            continue
        try:
            loaded.append((label, Sample.from_json(data, path)))
        except SampleError as exc:
            skip(f"{label}: {exc}")
    console.say(
        f"Replaying {len(loaded)} sample{'s' if len(loaded) != 1 else ''} from {directory}/ (signed, re-timed to now)"
    )
    for index, (label, sample) in enumerate(loaded):
        if stop is not None and stop.is_set():
            summary.interrupted, summary.not_sent = True, len(loaded) - index
            break
        source = registry.get(sample.source)
        if source is None:
            skip(f"{label}: no source named {sample.source!r} is registered")
            continue
        secrets = document.signing_secrets_for(source.name)
        if not secrets:
            skip(f"{label}: the secret document has no signing secret for {source.name}")
            continue
        try:
            request = sign_sample(sample, source, secrets[0], base_url=base_url, now=clock())
        except (SampleError, ValueError, NotImplementedError) as exc:
            skip(f"{label}: {exc}")
            continue
        try:
            answer = http.post(request.url, data=request.body, headers=request.headers, timeout=TIMEOUT)
        except requests.RequestException as exc:
            refuse(f"{label}: the receiver did not answer ({type(exc).__name__})")
            continue
        if 200 <= answer.status_code < 300:
            summary.accepted += 1
        else:
            refuse(f"{label}: HTTP {answer.status_code} {answer.text[:200]}")
    return summary


def _label(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory))
    except ValueError:
        return str(path)
