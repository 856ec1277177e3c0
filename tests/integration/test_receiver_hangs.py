"""The receiver always answers: a hanging SQS or Secrets Manager still gets the designed 503 in time.

A real TCP server on loopback accepts connections, reads the request and never answers — the
way a service in trouble hangs. The receiver's real boto3 clients (``aws.py``: timeouts and
retries sized for it) point at it through ``AWS_ENDPOINT_URL``. The bound is the receiver's
Lambda timeout, read from ``template.yaml``: past it, Lambda would kill the function and the
provider would get a gateway error instead of our 503.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import stripe
import yaml

from support.apigw import http_event
from webhook_translator.aws import secrets_client, sqs_client
from webhook_translator.config import Settings
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import SecretStore, StaticSecrets

SIGNING = "whsec_hang_0123456789"
NOW = 1_795_000_000


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def receiver_timeout() -> int:
    template = yaml.load(Path(__file__).parents[2].joinpath("template.yaml").read_text(), Loader=_Loader)
    return int(template["Resources"]["ReceiverFunction"]["Properties"]["Timeout"])


class HangingEndpoint:
    """Accepts, reads, never answers (until stopped)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopping = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(conn)

    def stop(self) -> None:
        self.stopping.set()
        for conn in self.connections:
            conn.close()
        self.sock.close()


@pytest.fixture
def hanging(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[HangingEndpoint]:
    endpoint = HangingEndpoint()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{endpoint.port}")
    yield endpoint
    endpoint.stop()


def stripe_webhook() -> dict[str, object]:
    text = json.dumps({"id": "evt_hang", "object": "event", "type": "checkout.session.completed", "data": {}})
    header = stripe.WebhookSignature.generate_signature_header(text, SIGNING, NOW)
    return http_event("stripe", text, {"Content-Type": "application/json", "Stripe-Signature": header})


def test_a_hanging_sqs_gets_the_designed_503_well_inside_the_receivers_timeout(hanging: HangingEndpoint) -> None:
    # Given a receiver whose queue hangs (its secret is at hand)
    receiver = Receiver(
        Settings(QUEUE_URL=f"http://127.0.0.1:{hanging.port}/123456789012/webhooks"),
        StaticSecrets({"sources": {"stripe": {"signing_secrets": [SIGNING]}}}),
        sqs=sqs_client(),
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )
    # When a genuine webhook arrives
    started = time.monotonic()
    response = receiver.handle(stripe_webhook())
    elapsed = time.monotonic() - started
    # Then the provider gets the 503 (retry later), well before Lambda would kill the function
    print(f"hanging SQS: 503 after {elapsed:.2f} s (receiver timeout {receiver_timeout()} s)")
    assert response["statusCode"] == 503
    assert elapsed < receiver_timeout() * 0.6
    assert hanging.connections  # it did try


def test_a_hanging_secrets_manager_gets_a_503_well_inside_the_receivers_timeout(hanging: HangingEndpoint) -> None:
    # Given a receiver whose secret store hangs
    receiver = Receiver(
        Settings(QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/webhooks"),
        SecretStore("webhook-translator", max_age=300, client=secrets_client()),
        sqs=sqs_client(),
        clock=lambda: datetime.fromtimestamp(NOW, UTC),
    )
    started = time.monotonic()
    response = receiver.handle(stripe_webhook())
    elapsed = time.monotonic() - started
    print(f"hanging Secrets Manager: 503 after {elapsed:.2f} s (receiver timeout {receiver_timeout()} s)")
    assert response["statusCode"] == 503
    assert elapsed < receiver_timeout() * 0.6
