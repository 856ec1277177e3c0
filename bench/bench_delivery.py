"""Delivery at scale: 1,000 webhooks through the forwarder against a loopback Ours with 100 ms latency.

* before: what the forwarder did until /batch delivery — SQS batches of 10 records, one ``/track``
  call per event, 10 at a time (``OURS_BATCH_ROWS=1`` gives exactly that path: a chunk of one
  event goes to ``/track``);
* after: the defaults — SQS batches of 100 records (``BatchSize`` 100 with a batching window), their
  events in as few ``/batch`` calls as the limits allow.

The local Ours runs in its own process (so the CPU figure is the forwarder's alone) and answers every
call after 100 ms. Printed: Ours HTTP calls per webhook (goal <= 0.15), wall time and CPU time per
webhook, and that every webhook was accepted exactly once. Run with ``make bench``; it prints figures
and fails only if a webhook was lost or doubled.
"""

from __future__ import annotations

import copy
import json
import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import requests
from bench.lambda_env import ROOT

from webhook_translator.config import Settings
from webhook_translator.envelope import Envelope
from webhook_translator.forwarder import Forwarder
from webhook_translator.observability import logger
from webhook_translator.ours.client import OursClient
from webhook_translator.secrets import StaticSecrets

WEBHOOKS = 1000
LATENCY = 0.1
GOAL_CALLS_PER_WEBHOOK = 0.15
TOKEN = "bench-ours-token-0123456789"
QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/bench"


def _serve_ours(ready: Any, stop: Any) -> None:
    from webhook_translator_tools.local.ours_server import Fault, LocalOurs

    with LocalOurs(tokens={TOKEN}) as ours:
        ours.inject(Fault(kind="slow", delay=LATENCY))
        ready.put(ours.url)
        stop.wait()


class NoSqs:
    """The forwarder's SQS client: nothing is retried or dead-lettered here (it would say so)."""

    def change_message_visibility(self, **kwargs: Any) -> None:
        raise RuntimeError("a record was retried")

    def send_message(self, **kwargs: Any) -> None:
        raise RuntimeError("a record was dead-lettered")


def messages(now: float) -> list[str]:
    template = json.loads((ROOT / "events" / "stripe" / "checkout-session-completed.json").read_text())["body"]
    out = []
    for n in range(WEBHOOKS):
        body = copy.deepcopy(template)
        body.update(id=f"evt_bench_{n:05d}", created=int(now) - 30)
        out.append(
            Envelope.wrap(
                source="stripe",
                webhook_id=body["id"],
                received_at=datetime.fromtimestamp(now, UTC),
                content_type="application/json",
                body=json.dumps(body).encode(),
            ).to_message()
        )
    return out


def batches(bodies: list[str], size: int) -> list[dict[str, Any]]:
    return [
        {
            "Records": [
                {
                    "messageId": f"m{start + i}",
                    "receiptHandle": f"r{start + i}",
                    "body": body,
                    "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(time.time() * 1000))},
                    "messageAttributes": {},
                }
                for i, body in enumerate(bodies[start : start + size])
            ]
        }
        for start in range(0, len(bodies), size)
    ]


def run(url: str, label: str, bodies: list[str], *, batch_size: int, rows: int) -> dict[str, float]:
    requests.delete(url.replace("/api/v1", "/_control/accepted"), timeout=5)
    config = Settings(QUEUE_URL=QUEUE_URL, DLQ_URL=QUEUE_URL + "-dlq", OURS_BATCH_ROWS=rows)
    client = OursClient(url, StaticSecrets({"ours_token": TOKEN}), read_timeout=10)
    forwarder = Forwarder(config, client, sqs=NoSqs())  # type: ignore[arg-type]
    events = batches(bodies, batch_size)
    wall0, cpu0 = time.perf_counter(), time.process_time()
    for event in events:
        if forwarder.handle(event)["batchItemFailures"]:
            raise RuntimeError(f"{label}: the forwarder failed records")
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    calls = requests.get(url.replace("/api/v1", "/_control/requests"), timeout=30).json()
    deliveries = Counter(requests.get(url.replace("/api/v1", "/_control/deliveries"), timeout=30).json())
    lost = [f"stripe:evt_bench_{n:05d}" for n in range(WEBHOOKS) if deliveries[f"stripe:evt_bench_{n:05d}"] == 0]
    doubled = [k for k, v in deliveries.items() if v > 1]
    if lost or doubled:
        raise RuntimeError(f"{label}: {len(lost)} webhooks lost, {len(doubled)} doubled")
    paths = Counter(c["path"] for c in calls)
    return {
        "calls": len(calls),
        "track": paths.get("/track", 0),
        "batch": paths.get("/batch", 0),
        "invocations": len(events),
        "wall_ms": wall * 1000 / WEBHOOKS,
        "cpu_ms": cpu * 1000 / WEBHOOKS,
        "wall_s": wall,
    }


def main() -> None:
    logger.setLevel("WARNING")
    now = time.time()
    bodies = messages(now)
    ctx = multiprocessing.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    server = ctx.Process(target=_serve_ours, args=(ready, stop), daemon=True)
    server.start()
    try:
        url = ready.get(timeout=60)
        print(f"delivery: {WEBHOOKS} webhooks through the forwarder, loopback Ours +{LATENCY * 1000:.0f} ms per call")
        before = run(url, "before", bodies, batch_size=10, rows=1)
        after = run(url, "after", bodies, batch_size=100, rows=Settings().ours_batch_rows)
    finally:
        stop.set()
        server.join(timeout=10)
    for label, r in (("before (batches of 10, /track per event)", before), ("after  (batches of 100, /batch)", after)):
        print(
            f"  {label:42} {r['calls'] / WEBHOOKS:5.3f} Ours calls/webhook ({r['track']:.0f} /track, "
            f"{r['batch']:.0f} /batch, {r['invocations']:.0f} invocations)   wall {r['wall_ms']:6.2f} ms/webhook "
            f"({r['wall_s']:.1f} s)   CPU {r['cpu_ms']:5.2f} ms/webhook"
        )
    verdict = "meets" if after["calls"] / WEBHOOKS <= GOAL_CALLS_PER_WEBHOOK else "MISSES"
    faster, cheaper = before["wall_ms"] / after["wall_ms"], before["cpu_ms"] / after["cpu_ms"]
    print(
        f"  after {verdict} the goal of <= {GOAL_CALLS_PER_WEBHOOK} calls/webhook; wall x{faster:.1f} faster, "
        f"CPU x{cheaper:.1f} less; every webhook accepted exactly once in both runs"
    )


if __name__ == "__main__":
    main()
