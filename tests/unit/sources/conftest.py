"""A harness for one source: build requests and envelopes the way the receiver does, map on a fixed clock."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from webhook_translator.config import Settings, SourceConfig
from webhook_translator.envelope import Envelope
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets
from webhook_translator.sources.base import Source
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.sources.request import InboundRequest, body_hash

#: the mappers' clock in these tests: 2026-11-18T11:06:40Z (sample times are a few hours before)
NOW_MS = 1_795_000_000_000
NOW_S = NOW_MS // 1000
RECEIVED_AT = datetime.fromtimestamp((NOW_MS - 60_000) / 1000, UTC)
EVENTS = Path(__file__).resolve().parents[3] / "events"


@dataclass
class Harness:
    """Test modules reach the clock through the fixture: ``h.now_ms``, ``h.now_s``, ``h.at(seconds_ago)``."""

    source: Source
    now_ms: int = NOW_MS
    now_s: int = NOW_S

    def at(self, seconds_before_now: float) -> datetime:
        """A receive time ``seconds_before_now`` before the tests' clock."""
        return datetime.fromtimestamp(NOW_S - seconds_before_now, UTC)

    # --- inputs --------------------------------------------------------------------------------

    def sample(self, name: str) -> dict[str, Any]:
        """A deep copy of ``events/<source>/<name>.json``."""
        return copy.deepcopy(json.loads((EVENTS / self.source.name / f"{name}.json").read_text(encoding="utf-8")))

    def body(self, name: str) -> Any:
        return self.sample(name)["body"]

    @staticmethod
    def raw(body: Any) -> bytes:
        if isinstance(body, bytes):
            return body
        if isinstance(body, str):
            return body.encode("utf-8")
        return json.dumps(body, separators=(",", ":")).encode("utf-8")

    def request(
        self,
        body: Any,
        headers: Mapping[str, str] | None = None,
        *,
        query: Mapping[str, str] | None = None,
        content_type: str | None = None,
        received_at: datetime | None = None,
    ) -> InboundRequest:
        """An :class:`InboundRequest` as the receiver makes it: raw bytes, lower-cased header names."""
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        lowered.setdefault("content-type", content_type or self.source.content_types[0])
        return InboundRequest(
            source=self.source.name,
            body=self.raw(body),
            headers=lowered,
            query=dict(query or {}),
            received_at=received_at or RECEIVED_AT,
        )

    def envelope(
        self, body: Any, headers: Mapping[str, str] | None = None, *, content_type: str | None = None
    ) -> Envelope:
        """The queued envelope for ``body``; the webhook id falls back to a body hash (no receiver checks here)."""
        request = self.request(body, headers, content_type=content_type)
        try:
            webhook_id = self.source.webhook_id(request)
        except Exception:  # a malformed body still reaches the mapper in these tests
            webhook_id = None
        return Envelope.wrap(
            source=self.source.name,
            webhook_id=webhook_id or f"sha256:{body_hash(request.body)[:40]}",
            received_at=RECEIVED_AT,
            content_type=request.header("content-type") or "",
            body=request.body,
            headers={h: v for h in self.source.forwarded_headers if (v := request.header(h)) is not None},
        )

    def receive(
        self,
        body: Any,
        headers: Mapping[str, str],
        *,
        secrets: list[str],
        query: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any], Envelope | None]:
        """POST through the real receiver (fake queue, fixed clock): (status, answer body, queued envelope)."""
        sent: list[dict[str, Any]] = []

        class FakeSqs:
            def send_message(self, **kwargs: Any) -> dict[str, str]:
                sent.append(kwargs)
                return {"MessageId": "m-1"}

        receiver = Receiver(
            Settings(QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/webhooks"),
            StaticSecrets({"sources": {self.source.name: {"signing_secrets": secrets}}}),
            sqs=FakeSqs(),  # type: ignore[arg-type]
            clock=lambda: RECEIVED_AT,
        )
        raw_query = "&".join(f"{k}={v}" for k, v in (query or {}).items())
        event = {
            "version": "2.0",
            "rawPath": f"/webhooks/{self.source.name}",
            "rawQueryString": raw_query,
            "headers": {k.lower(): v for k, v in headers.items()},
            "queryStringParameters": dict(query or {}) or None,
            "requestContext": {"domainName": "hooks.example.com", "http": {"method": "POST"}},
            "pathParameters": {"source": self.source.name},
            "body": self.raw(body).decode("utf-8"),
            "isBase64Encoded": False,
        }
        answer = receiver.handle(event)
        envelope = Envelope.from_message(sent[0]["MessageBody"]) if sent else None
        return answer["statusCode"], json.loads(answer["body"]), envelope

    # --- mapping -------------------------------------------------------------------------------

    def map(
        self,
        body: Any,
        headers: Mapping[str, str] | None = None,
        *,
        content_type: str | None = None,
        config: Mapping[str, Any] | None = None,
        now_ms: int = NOW_MS,
    ) -> MapResult:
        ctx = MapContext(source=self.source, now_ms=now_ms, config=SourceConfig.model_validate(config or {}))
        return self.source.map(self.envelope(body, headers, content_type=content_type), ctx)

    def one(self, body: Any, headers: Mapping[str, str] | None = None, **kwargs: Any) -> dict[str, Any]:
        """The single ``/track`` body ``body`` maps to."""
        result = self.map(body, headers, **kwargs)
        assert result.skipped is None, f"skipped: {result.skipped}"
        assert len(result.events) == 1
        return result.events[0].to_ours()


@pytest.fixture
def harness() -> Callable[[str], Harness]:
    return lambda name: Harness(REGISTRY[name])
