"""Throughput of the hot paths, in-process: verify, receive (to an in-memory queue), forward (to the local Ours).

Prints figures; asserts nothing about speed. Run with ``make bench``.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from webhook_translator.config import Settings
from webhook_translator.envelope import Envelope
from webhook_translator.forwarder import Forwarder
from webhook_translator.observability import logger
from webhook_translator.ours.client import OursClient
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets
from webhook_translator.sources.base import InboundRequest, MapContext
from webhook_translator.sources.stripe import StripeSource
from webhook_translator_tools.local.ours_server import Fault, LocalOurs

ROOT = Path(__file__).resolve().parents[1]
SECRET = "whsec_bench_0123456789"
TOKEN = "bench-token-0123456789"


class MemoryQueue:
    """Just enough of the SQS client for the receiver and forwarder."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_message(self, **kwargs: Any) -> dict[str, str]:
        self.sent.append(kwargs["MessageBody"])
        return {"MessageId": str(len(self.sent))}

    def change_message_visibility(self, **kwargs: Any) -> None:
        return None


def timed(label: str, fn: Callable[[], object], n: int) -> None:
    durations = []
    with contextlib.redirect_stdout(io.StringIO()):  # the EMF metric lines Powertools prints
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            durations.append(time.perf_counter() - t0)
    durations.sort()
    median = statistics.median(durations) * 1e6
    p99 = durations[int(len(durations) * 0.99) - 1] * 1e6
    print(f"  {label:<46} median {median:8.1f} µs   p99 {p99:8.1f} µs   ({n} runs, {n / sum(durations):,.0f}/s)")


def main() -> None:
    logger.setLevel("WARNING")
    sample = json.loads((ROOT / "events" / "stripe" / "checkout-session-completed.json").read_text())
    now = time.time()
    sample["body"]["created"] = int(now) - 5
    body = json.dumps(sample["body"]).encode()
    source = StripeSource()
    header = source.scheme.sign(body, SECRET, timestamp=str(int(now)))
    headers = {"content-type": "application/json", "stripe-signature": header}
    print(f"hot paths, in-process (Stripe checkout.session.completed, {len(body)} byte body)")

    request = InboundRequest(source="stripe", body=body, headers=headers, received_at=datetime.now(UTC))
    timed("verify signature (HMAC-SHA256, 2 secrets)", lambda: source.verify(request, ["whsec_other", SECRET]), 20000)

    queue = MemoryQueue()
    secrets = StaticSecrets({"sources": {"stripe": {"signing_secrets": [SECRET]}}})
    receiver = Receiver(Settings(QUEUE_URL="memory://q"), secrets, sqs=queue)  # type: ignore[arg-type]
    event = {
        "version": "2.0",
        "rawPath": "/webhooks/stripe",
        "headers": headers,
        "pathParameters": {"source": "stripe"},
        "requestContext": {"http": {"method": "POST"}, "domainName": "bench"},
        "body": body.decode(),
        "isBase64Encoded": False,
    }
    timed("receiver: verify + envelope + enqueue", lambda: receiver.handle(event), 5000)

    envelope = Envelope.from_message(queue.sent[0])
    ctx = MapContext(source=source, now_ms=int(time.time() * 1000))
    timed("map: envelope -> TrackEvent (validated)", lambda: source.map(envelope, ctx), 5000)

    with LocalOurs(tokens={TOKEN}) as ours:
        for latency in (0.0, 0.05):
            ours.clear_faults()
            if latency:
                ours.inject(Fault(kind="slow", delay=latency))
            for workers in (1, 10):
                client = OursClient(ours.url, StaticSecrets({"ours_token": TOKEN}))
                config = Settings(QUEUE_URL="memory://q", DLQ_URL="memory://d", FORWARD_CONCURRENCY=workers)
                forwarder = Forwarder(config, client, sqs=queue)  # type: ignore[arg-type]
                records = {
                    "Records": [
                        {
                            "messageId": str(i),
                            "receiptHandle": str(i),
                            "body": queue.sent[0],
                            "attributes": {"ApproximateReceiveCount": "1"},
                            "messageAttributes": {},
                        }
                        for i in range(10)
                    ]
                }
                label = f"forwarder: 10 records, Ours +{latency * 1000:.0f} ms, {workers:>2} worker(s)"
                timed(label, functools.partial(forwarder.handle, records), 20)
        print(f"  (local Ours accepted {len(ours.accepted)} events, all with one distinctId)")


if __name__ == "__main__":
    main()
