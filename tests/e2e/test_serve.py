"""End to end: ``webhook-translator serve`` as a subprocess, driven over HTTP like a provider and a user would.

Webhooks are signed by independent oracles (the ``stripe`` library; the providers'
documented HMAC schemes computed here), posted to the receiver, and observed at
the local Ours through its control endpoints. The ``dlq`` commands run as
subprocesses with the environment ``serve`` prints.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe

from webhook_translator_tools.local.samples import Sample

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
DEV_SECRETS = json.loads((ROOT / "tools/webhook_translator_tools/local/dev-secrets.json").read_text())
CLI = [sys.executable, "-m", "webhook_translator_tools.cli"]
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def secret(source: str) -> str:
    return str(DEV_SECRETS["sources"][source]["signing_secrets"][0])


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment without anything pointing at a real AWS account, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("TRANSLATOR_CONFIG", None)
    env.update(PYTHONUNBUFFERED="1", **extra)
    return env


@dataclass
class Serve:
    """A running ``serve`` subprocess and what it printed."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    ours_url: str = ""
    exports: dict[str, str] = field(default_factory=dict)
    _queue: queue.Queue[str | None] = field(default_factory=queue.Queue)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def control(self) -> str:
        return self.ours_url.removesuffix("/api/v1") + "/_control"

    def pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for_line(self, pattern: str, timeout: float = START_TIMEOUT) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        for line in self.lines:
            if match := regex.search(line):
                return match
        while time.monotonic() < deadline:
            try:
                printed = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if printed is None:
                raise AssertionError(f"serve exited ({self.process.poll()}) before printing {pattern!r}:\n" + self.text)
            self.lines.append(printed)
            if match := regex.search(printed):
                return match
        raise AssertionError(f"serve did not print {pattern!r} within {timeout} s:\n" + self.text)

    def drain_output(self) -> None:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line is None:
                return
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    # --- the local Ours ----------------------------------------------------------------------

    def accepted(self) -> list[dict[str, Any]]:
        answer = requests.get(f"{self.control}/accepted", timeout=5)
        answer.raise_for_status()
        rows: list[dict[str, Any]] = answer.json()
        return rows

    def deliveries(self, distinct_id: str) -> int:
        return sum(1 for row in self.accepted() if row.get("distinctId") == distinct_id)

    def statuses(self, distinct_id: str) -> list[int]:
        calls = requests.get(f"{self.control}/requests", timeout=5).json()
        return [
            c["status"] for c in calls if isinstance(c["body"], dict) and c["body"].get("distinctId") == distinct_id
        ]

    def fault(self, **fault: Any) -> None:
        requests.post(f"{self.control}/faults", json=fault, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        requests.delete(f"{self.control}/faults", timeout=5).raise_for_status()

    # --- the CLI, pointed at this stack with the lines serve printed -------------------------

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=child_env(**self.exports), capture_output=True, text=True, timeout=60, check=False
        )


def start_serve(*args: str, env: dict[str, str] | None = None) -> Serve:
    port = free_port()
    process = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--aws-port", str(free_port()), *args],
        cwd=ROOT,
        env=env or child_env(RETRY_MAX_DELAY="1", OUTAGE_BUDGET_SECONDS="180"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    serve = Serve(process, port)
    threading.Thread(target=serve.pump, daemon=True).start()
    return serve


def wait_until_ready(serve: Serve) -> None:
    serve.ours_url = serve.wait_for_line(r"^\s+Ours\s+(http://\S+)").group(1)
    exports = serve.wait_for_line(r"^\s+export (.+)$").group(1)
    serve.exports = dict(item.split("=", 1) for item in shlex.split(exports))
    serve.wait_for_line(r"^Ready: ")
    # poll until the receiver answers (API Gateway's 404 for an unknown route)
    deadline = time.monotonic() + 10
    while requests.get(f"{serve.url}/", timeout=5).status_code != 404:
        assert time.monotonic() < deadline, "receiver not answering"
        time.sleep(0.1)


def stop(serve: Serve, sig: int = signal.SIGTERM) -> int:
    if serve.process.poll() is None:
        serve.process.send_signal(sig)
        try:
            serve.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            serve.process.kill()
            serve.process.wait(timeout=5)
    return int(serve.process.returncode)


@pytest.fixture(scope="module")
def stack() -> Iterator[Serve]:
    serve = start_serve()
    try:
        wait_until_ready(serve)
        yield serve
    finally:
        stop(serve)


def eventually(check: Callable[[], Any], timeout: float = 20.0, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {getattr(check, '__name__', check)}")
        time.sleep(interval)


# --- webhooks, signed by oracles ----------------------------------------------------------------


def stripe_webhook(event_id: str) -> tuple[bytes, dict[str, str]]:
    """A checkout.session.completed event, created just now, signed by the stripe library."""
    body = Sample.load(EVENTS / "stripe/checkout-session-completed.json").retimed(time.time()).body
    body["id"] = event_id
    payload = json.dumps(body)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret("stripe"))
    return payload.encode(), {"Content-Type": "application/json", "Stripe-Signature": header}


def post(stack: Serve, source: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{stack.url}/webhooks/{source}", data=body, headers=headers, timeout=10)


def new_stripe_event(stack: Serve) -> str:
    event_id = f"evt_e2e_{uuid.uuid4().hex[:16]}"
    answer = post(stack, "stripe", *stripe_webhook(event_id))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "id": event_id}
    return event_id


def _b64_hmac(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def typeform_webhook(unique: str) -> tuple[bytes, dict[str, str], str]:
    sample = Sample.load(EVENTS / "typeform/form_response.json").retimed(time.time())
    sample.body["form_response"]["token"] = unique
    body = json.dumps(sample.body).encode()
    headers = {
        "Content-Type": "application/json",
        "Typeform-Signature": "sha256=" + _b64_hmac(secret("typeform"), body),
    }
    return body, headers, f"typeform:{unique}"


def tally_webhook(unique: str) -> tuple[bytes, dict[str, str], str]:
    sample = Sample.load(EVENTS / "tally/form_response.json").retimed(time.time())
    sample.body["data"]["submissionId"] = unique
    body = json.dumps(sample.body).encode()
    return (
        body,
        {"Content-Type": "application/json", "Tally-Signature": _b64_hmac(secret("tally"), body)},
        f"tally:{unique}",
    )


def webflow_webhook(unique: str) -> tuple[bytes, dict[str, str], str]:
    sample = Sample.load(EVENTS / "webflow/form_submission.json").retimed(time.time())
    sample.body["payload"]["id"] = unique
    body = json.dumps(sample.body).encode()
    ts = str(int(time.time() * 1000))
    signature = hmac.new(secret("webflow").encode(), ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "x-webflow-timestamp": ts, "x-webflow-signature": signature}
    return body, headers, f"webflow:{unique}"


FORMS = {"typeform": typeform_webhook, "tally": tally_webhook, "webflow": webflow_webhook}


# --- the tests ----------------------------------------------------------------------------------


def test_a_stripe_webhook_becomes_one_track_call_and_one_readable_line(stack: Serve) -> None:
    # Given a checkout.session.completed signed by Stripe's own library
    # When it is posted to the local receiver
    event_id = new_stripe_event(stack)

    # Then the local Ours accepts exactly one /track event for it, without the token
    eventually(lambda: stack.deliveries(f"stripe:{event_id}") == 1)
    [event] = [row for row in stack.accepted() if row["distinctId"] == f"stripe:{event_id}"]
    assert event["event"] == "Checkout Completed"
    assert "token" not in event
    # And serve printed one line for the webhook's outcome, with no personal data
    line = stack.wait_for_line(rf"stripe {event_id} checkout\.session\.completed → delivered", timeout=5).string
    assert line.endswith("(1 event)")
    stack.drain_output()
    assert "jane" not in stack.text.lower()


@pytest.mark.parametrize("source", sorted(FORMS))
def test_form_webhooks_signed_as_documented_reach_ours(stack: Serve, source: str) -> None:
    # Given a form submission signed with the provider's documented HMAC scheme
    body, headers, distinct_id = FORMS[source](uuid.uuid4().hex)

    # When it is posted to the local receiver
    answer = post(stack, source, body, headers)

    # Then it is acknowledged, and the local Ours accepts it once
    assert answer.status_code == 200, answer.text
    eventually(lambda: stack.deliveries(distinct_id) == 1)


def test_a_bad_signature_is_refused_and_nothing_reaches_ours(stack: Serve) -> None:
    # Given a Stripe event signed with the wrong secret
    event_id = f"evt_e2e_{uuid.uuid4().hex[:16]}"
    body, headers = stripe_webhook(event_id)
    headers["Stripe-Signature"] = stripe.WebhookSignature.generate_signature_header(body.decode(), "whsec_wrong")

    # When it is posted
    answer = post(stack, "stripe", body, headers)

    # Then it is refused with 401, and serve says so in one line
    assert answer.status_code == 401
    assert answer.json() == {"error": "signature does not match any configured secret", "reason": "no_matching_secret"}
    stack.wait_for_line(r"stripe → refused 401 \(no_matching_secret\)", timeout=5)
    assert stack.deliveries(f"stripe:{event_id}") == 0


def test_a_permanent_rejection_lands_in_the_dlq_and_a_redrive_delivers_it_once(stack: Serve) -> None:
    # Given the local Ours rejects one event permanently
    event_id = f"evt_e2e_{uuid.uuid4().hex[:16]}"
    stack.fault(kind="status", status=400, distinct_id=f"stripe:{event_id}", error="event is not allowed")
    body, headers = stripe_webhook(event_id)
    assert post(stack, "stripe", body, headers).status_code == 200

    # When the DLQ is listed with the environment serve printed
    def listed() -> dict[str, Any] | None:
        result = stack.cli("dlq", "list", "--json")
        assert result.returncode == 0, result.stderr
        rows = [row for row in json.loads(result.stdout) if row["webhook_id"] == event_id]
        return rows[0] if rows else None

    row = eventually(listed)

    # Then it is there, at once (not after retries), with the reason
    assert row["source"] == "stripe"
    assert row["event_type"] == "checkout.session.completed"
    assert row["reason"] == "ours_rejected"
    assert row["attempts"] == 1
    assert stack.deliveries(f"stripe:{event_id}") == 0
    # And the plain listing shows it in a table, with no body
    table = stack.cli("dlq", "list")
    row = rf"stripe\s+{event_id}\s+checkout\.session\.completed\s+ours_rejected\s+1\s+-\s+\d+s\s+\d+s"
    assert re.search(row, table.stdout)
    assert "@" not in table.stdout

    # When the fault is cleared and the DLQ re-driven
    stack.clear_faults()
    redrive = stack.cli("dlq", "redrive", "--source", "stripe", "--reason", "ours_rejected")

    # Then it is moved back, delivered exactly once, and gone from the DLQ
    assert redrive.returncode == 0, redrive.stderr
    assert f"moved   stripe {event_id}" in redrive.stdout
    eventually(lambda: stack.deliveries(f"stripe:{event_id}") == 1)
    assert listed() is None
    time.sleep(1.5)
    assert stack.deliveries(f"stripe:{event_id}") == 1


def test_transient_failures_are_retried_until_delivered(stack: Serve) -> None:
    # Given the local Ours answers 503 twice for one event, and 429 with Retry-After: 1 once for another
    unavailable = f"evt_e2e_{uuid.uuid4().hex[:16]}"
    limited = f"evt_e2e_{uuid.uuid4().hex[:16]}"
    stack.fault(kind="status", status=503, times=2, distinct_id=f"stripe:{unavailable}")
    stack.fault(kind="status", status=429, retry_after="1", times=1, distinct_id=f"stripe:{limited}")

    # When each is posted (one after the other: together they would share a /batch call)
    assert post(stack, "stripe", *stripe_webhook(limited)).status_code == 200
    # Then each is delivered once, after exactly the injected failures
    eventually(lambda: stack.deliveries(f"stripe:{limited}") == 1, timeout=15)
    assert stack.statuses(f"stripe:{limited}") == [429, 200]
    assert post(stack, "stripe", *stripe_webhook(unavailable)).status_code == 200
    eventually(lambda: stack.deliveries(f"stripe:{unavailable}") == 1, timeout=30)
    assert stack.statuses(f"stripe:{unavailable}") == [503, 503, 200]
    # And the retries were announced, the 429 one after Ours's Retry-After (plus at most a second of jitter)
    pattern = rf"stripe {limited} checkout\.session\.completed → will be retried in ([\d.]+) s \(rate_limited\)"
    assert 1 <= float(stack.wait_for_line(pattern, 5).group(1)) <= 2
    stack.wait_for_line(rf"stripe {unavailable} .* → will be retried in [\d.]+ s \(ours_unavailable\)", 5)


def test_a_second_serve_on_a_busy_port_fails_in_one_line(stack: Serve) -> None:
    # Given serve already listens on its port
    # When another serve is started on the same port
    result = subprocess.run(
        [*CLI, "serve", "--port", str(stack.port), "--aws-port", str(free_port())],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    # Then it exits 2 with one line saying which port and what to do
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"port {stack.port} on 127.0.0.1 is already in use" in result.stderr
    assert "--port" in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_sends_every_sample_and_sigterm_stops_cleanly() -> None:
    # Given serve started the way `make run` starts it
    serve = start_serve("--replay", "events")
    try:
        wait_until_ready(serve)
        count = int(serve.wait_for_line(r"Replaying (\d+) samples").group(1))

        # When the replay is over
        summary = serve.wait_for_line(r"replay: (\d+) sent, (\d+) accepted").groups()

        # Then every sample was accepted by the receiver, and each mapped one reached Ours
        assert summary == (str(count), str(count))
        samples = [Sample.load(p) for p in sorted(EVENTS.glob("*/*.json")) if "source" in json.loads(p.read_text())]
        ignored = sum(1 for s in samples if s.path and "ignored" in s.path.name)
        eventually(lambda: len(serve.accepted()) >= count - ignored, timeout=20)
        assert len({row["distinctId"] for row in serve.accepted()}) == len(serve.accepted())
    finally:
        # When it receives SIGTERM
        code = stop(serve, signal.SIGTERM)
    # Then it stops cleanly with exit status 0
    serve.drain_output()
    assert code == 0, serve.text
    assert serve.lines[-1] == "Stopped."
    assert "Traceback" not in serve.text
