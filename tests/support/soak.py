"""A soak through ``webhook-translator serve``: many signed webhooks at a steady rate, Ours failing some.

``serve`` runs as a subprocess (moto's SQS + DLQ, the receiver, the poller batching like the event
source mapping, the forwarder, the local Ours). The local Ours is told to fail a share of the calls
(``rate``: a 503 for that share of ``/track`` calls and of ``/batch`` rows). Stripe webhooks, signed by
the ``stripe`` library, are posted at a steady rate (moto's receive and delete scan the whole queue,
so a steady trickle keeps its backlog small) until all are sent; then the pipeline drains.

The books must balance exactly: every webhook the receiver accepted (200) is delivered (at the local
Ours) or dead-lettered; printed with throughput, Ours calls per webhook and duplicates.

``make soak`` runs 5,000 (``python -m support.soak --webhooks 5000`` with ``tests`` on the path);
``tests/e2e/test_soak.py`` runs 500 in ``make test``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import stripe

ROOT = Path(__file__).resolve().parents[2]
DEV_SECRETS = json.loads((ROOT / "tools/webhook_translator_tools/local/dev-secrets.json").read_text())
SAMPLE = json.loads((ROOT / "events/stripe/checkout-session-completed.json").read_text())["body"]
#: the soak's delivery settings: a short backoff cap and a budget it fits (MAX_RECEIVE_COUNT 200 x 2 s)
SOAK_ENV = {"RETRY_MAX_DELAY": "2", "OUTAGE_BUDGET_SECONDS": "300", "SECRET_MAX_AGE": "300"}


@dataclass
class Figures:
    sent: int
    accepted: int
    refused: int
    delivered: int
    dead_lettered: int
    duplicates: int
    ours_calls: int
    ours_faults: int
    send_seconds: float
    total_seconds: float

    @property
    def balanced(self) -> bool:
        return self.accepted == self.delivered + self.dead_lettered

    def lines(self) -> list[str]:
        return [
            f"soak through serve: {self.sent} webhooks sent, {self.accepted} accepted (200), {self.refused} refused",
            f"  delivered {self.delivered} + dead-lettered {self.dead_lettered} = "
            f"{self.delivered + self.dead_lettered}: {'balanced' if self.balanced else 'NOT BALANCED'}",
            f"  duplicates at Ours: {self.duplicates}",
            f"  Ours calls: {self.ours_calls} ({self.ours_calls / max(1, self.accepted):.3f} per webhook), "
            f"{self.ours_faults} of them answered 503 (an injected fault on the call or on some of its rows)",
            f"  throughput: {self.accepted / self.send_seconds:.0f} webhooks/s received, "
            f"{self.delivered / self.total_seconds:.0f} webhooks/s delivered end to end "
            f"(all delivered {self.total_seconds:.1f} s after the first was sent)",
        ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Stack:
    def __init__(self) -> None:
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.pop("TRANSLATOR_CONFIG", None)
        env.update(PYTHONUNBUFFERED="1", **SOAK_ENV)
        command = [sys.executable, "-m", "webhook_translator_tools.cli", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--aws-port", str(_free_port())],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.exports: dict[str, str] = {}
        self.ours = ""
        threading.Thread(target=self._pump, daemon=True).start()
        if not self.ready.wait(60):
            self.stop()
            raise RuntimeError("serve did not start:\n" + "\n".join(self.lines[-30:]))

    def _pump(self) -> None:
        import shlex

        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.rstrip("\n")
            if len(self.lines) < 200 or "error" in line.lower():
                self.lines.append(line)
            stripped = line.strip()
            if stripped.startswith("Ours ") and stripped.split()[1].startswith("http") and not self.ours:
                self.ours = stripped.split()[1].removesuffix("/api/v1")
            if stripped.startswith("export ") and not self.exports:
                self.exports = dict(item.split("=", 1) for item in shlex.split(stripped[len("export ") :]))
            if line.startswith("Ready: "):
                self.ready.set()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def depth(self, url_name: str) -> int:
        import boto3

        sqs = boto3.client(
            "sqs",
            endpoint_url=self.exports["AWS_ENDPOINT_URL"],
            region_name=self.exports.get("AWS_DEFAULT_REGION", "us-east-1"),
            aws_access_key_id=self.exports.get("AWS_ACCESS_KEY_ID", "testing"),
            aws_secret_access_key=self.exports.get("AWS_SECRET_ACCESS_KEY", "testing"),
        )
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        attrs = sqs.get_queue_attributes(QueueUrl=self.exports[url_name], AttributeNames=names)["Attributes"]
        return sum(int(attrs[n]) for n in names)

    def control(self, path: str) -> Any:
        answer = requests.get(f"{self.ours}/_control/{path}", timeout=30)
        answer.raise_for_status()
        return answer.json()


def _webhook(n: int, run: str) -> tuple[bytes, dict[str, str]]:
    body = dict(SAMPLE, id=f"evt_soak_{run}_{n:06d}", created=int(time.time()))
    payload = json.dumps(body)
    signing = DEV_SECRETS["sources"]["stripe"]["signing_secrets"][0]
    header = stripe.WebhookSignature.generate_signature_header(payload, signing)
    return payload.encode(), {"Content-Type": "application/json", "Stripe-Signature": header}


def soak(webhooks: int, *, rate: float, fault_rate: float, drain_timeout: float = 300.0) -> Figures:
    stack = Stack()
    run = f"{int(time.time())}"
    try:
        requests.post(
            f"{stack.ours}/_control/faults",
            json={"kind": "status", "status": 503, "rate": fault_rate, "error": "soak: transient"},
            timeout=5,
        ).raise_for_status()
        session = requests.Session()
        statuses: Counter[int] = Counter()
        lock = threading.Lock()

        def send(n: int) -> None:
            body, headers = _webhook(n, run)
            try:
                status = session.post(
                    f"http://127.0.0.1:{stack.port}/webhooks/stripe", data=body, headers=headers, timeout=30
                ).status_code
            except requests.RequestException:
                status = 0
            with lock:
                statuses[status] += 1

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            for n in range(webhooks):
                pause = started + n / rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                pool.submit(send, n)
        send_seconds = time.monotonic() - started
        accepted = statuses[200]

        def settled() -> tuple[int, int, Counter[str]]:
            deliveries = Counter({k: v for k, v in stack.control("deliveries").items() if f"_{run}_" in k})
            return len(deliveries), stack.depth("DLQ_URL"), deliveries

        deadline = time.monotonic() + drain_timeout
        delivered, dead, deliveries = settled()
        while delivered + dead < accepted or stack.depth("QUEUE_URL"):
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
            delivered, dead, deliveries = settled()
        total_seconds = time.monotonic() - started
        calls = stack.control("requests")
        return Figures(
            sent=webhooks,
            accepted=accepted,
            refused=webhooks - accepted,
            delivered=delivered,
            dead_lettered=dead,
            duplicates=sum(v - 1 for v in deliveries.values() if v > 1),
            ours_calls=len(calls),
            ours_faults=sum(1 for c in calls if c["status"] >= 500 or c["status"] == 0),
            send_seconds=send_seconds,
            total_seconds=total_seconds,
        )
    finally:
        requests.delete(f"{stack.ours}/_control/faults", timeout=5)
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--webhooks", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=100.0, help="webhooks per second sent")
    parser.add_argument("--fault-rate", type=float, default=0.1, help="share of Ours calls / batch rows failed")
    args = parser.parse_args()
    figures = soak(args.webhooks, rate=args.rate, fault_rate=args.fault_rate)
    print("\n".join(figures.lines()))
    if not figures.balanced or figures.duplicates:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
