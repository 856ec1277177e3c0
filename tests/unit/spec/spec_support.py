"""Spec sources the way the pipeline runs them: through the real receiver (a fake queue), then the mapper."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from webhook_translator.config import Settings, SourceConfig
from webhook_translator.envelope import Envelope
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets
from webhook_translator.sources.base import Source
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.request import InboundRequest

#: the tests' clock: 2026-11-18T11:06:40Z; the receiver took the webhook in a minute before
NOW_MS = 1_795_000_000_000
RECEIVED_AT = datetime.fromtimestamp((NOW_MS - 60_000) / 1000, UTC)
RECEIVED_S = int(RECEIVED_AT.timestamp())
EVENTS = Path(__file__).resolve().parents[3] / "events"


def raw(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def sample_body(source: str, name: str) -> Any:
    return json.loads((EVENTS / source / f"{name}.json").read_text(encoding="utf-8"))["body"]


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    envelope: Envelope | None


def receive(
    source: Source,
    body: Any,
    headers: dict[str, str],
    *,
    secrets: list[str],
    query: dict[str, str] | None = None,
    path: str | None = None,
) -> Answer:
    """POST through the real receiver (its registry holds only ``source``; a fake queue; a fixed clock)."""
    sent: list[dict[str, Any]] = []

    class FakeSqs:
        def send_message(self, **kwargs: Any) -> dict[str, str]:
            sent.append(kwargs)
            return {"MessageId": "m-1"}

    receiver = Receiver(
        Settings(QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/webhooks"),
        StaticSecrets({"sources": {source.name: {"signing_secrets": secrets}}}),
        sqs=FakeSqs(),  # type: ignore[arg-type]
        registry={source.name: source},
        clock=lambda: RECEIVED_AT,
    )
    event = {
        "version": "2.0",
        "rawPath": path or f"/webhooks/{source.name}",
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {k.lower(): v for k, v in headers.items()},
        "queryStringParameters": dict(query or {}) or None,
        "requestContext": {"domainName": "hooks.example.com", "http": {"method": "POST"}},
        "pathParameters": {"source": source.name},
        "body": raw(body).decode("utf-8"),
        "isBase64Encoded": False,
    }
    answer = receiver.handle(event)
    envelope = Envelope.from_message(sent[0]["MessageBody"]) if sent else None
    return Answer(answer["statusCode"], json.loads(answer["body"]), envelope)


def context(source: Source, config: dict[str, Any] | None = None, now_ms: int = NOW_MS) -> MapContext:
    return MapContext(source=source, now_ms=now_ms, config=SourceConfig.model_validate(config or {}))


def translate(source: Source, envelope: Envelope, config: dict[str, Any] | None = None) -> MapResult:
    """The forwarder's step: the envelope through the queue's JSON, then the mapper."""
    queued = Envelope.from_message(envelope.to_message())
    return source.map(queued, context(source, config))


def envelope(
    source: Source, body: Any, headers: dict[str, str] | None = None, *, content_type: str = "application/json"
) -> Envelope:
    """The envelope the receiver would queue (no signature check)."""
    request = InboundRequest(
        source=source.name,
        body=raw(body),
        headers={"content-type": content_type, **{k.lower(): v for k, v in (headers or {}).items()}},
        received_at=RECEIVED_AT,
    )
    webhook_id = source.webhook_id(request) or "sha256:body"
    return Envelope.wrap(
        source=source.name,
        webhook_id=webhook_id,
        received_at=RECEIVED_AT,
        content_type=content_type,
        body=request.body,
    )


def bodies(result: MapResult) -> list[dict[str, Any]]:
    return [event.to_ours() for event in result.events]
