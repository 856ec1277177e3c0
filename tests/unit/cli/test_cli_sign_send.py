"""`sign` prints the headers a provider would send; `send` signs and posts. Checked by the providers' own libraries."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
import stripe
from cli_support import DEV_SECRETS, EVENTS, Run

DEV = json.loads(DEV_SECRETS.read_text())


def dev_secret(source: str) -> str:
    return str(DEV["sources"][source]["signing_secrets"][0])


def headers_of(output: str) -> dict[str, str]:
    return dict(line.split(": ", 1) for line in output.splitlines())


@pytest.fixture
def body_file(tmp_path: Path) -> Path:
    path = tmp_path / "body.json"
    path.write_bytes(b'{"id": "evt_1", "type": "invoice.paid", "created": 1795000000}\n')
    return path


# --- sign ----------------------------------------------------------------------------------------


def test_sign_prints_a_stripe_signature_stripe_accepts(run: Run, body_file: Path) -> None:
    # Given a raw body and a secret
    # When it is signed for Stripe
    result = run("sign", "stripe", str(body_file), "--secret", "whsec_test_secret")

    # Then the printed Stripe-Signature verifies with Stripe's own library, over the exact bytes
    assert result.code == 0, result.err
    headers = headers_of(result.out)
    assert headers["Content-Type"] == "application/json"
    assert stripe.WebhookSignature.verify_header(
        body_file.read_text(), headers["Stripe-Signature"], "whsec_test_secret", tolerance=300
    )


def test_sign_uses_the_development_secret_by_default(run: Run, body_file: Path) -> None:
    # Given no --secret / When a body is signed
    result = run("sign", "stripe", str(body_file))

    # Then it is signed with the secret `serve` uses by default
    assert result.code == 0, result.err
    header = headers_of(result.out)["Stripe-Signature"]
    assert stripe.WebhookSignature.verify_header(body_file.read_text(), header, dev_secret("stripe"), tolerance=300)


def test_sign_prints_standard_webhooks_headers_the_reference_library_accepts(run: Run, body_file: Path) -> None:
    # Given a Standard Webhooks sender's secret
    secret = dev_secret("standard-webhooks")

    # When a body is signed
    result = run("sign", "standard-webhooks", str(body_file), "--secret", secret)

    # Then the standardwebhooks library verifies the three headers
    assert result.code == 0, result.err
    headers = {k.lower(): v for k, v in headers_of(result.out).items()}
    assert set(headers) >= {"webhook-id", "webhook-timestamp", "webhook-signature"}
    standardwebhooks.Webhook(secret).verify(body_file.read_bytes(), headers)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sign", "nope", "BODY"], "unknown source 'nope'"),
        (["sign", "stripe", "/no/such/body"], "cannot read FILE /no/such/body"),
        (["sign", "stripe", "SAMPLE"], "is a sample file, not a raw body"),
        (["sign", "standard-webhooks", "BODY", "--secret", "whsec_!!notbase64"], "the secret is not valid for"),
    ],
    ids=["unknown-source", "unreadable", "sample-file", "bad-secret"],
)
def test_sign_errors_are_one_line(run: Run, body_file: Path, argv: list[str], message: str) -> None:
    # Given input sign cannot use
    files = {"BODY": str(body_file), "SAMPLE": str(EVENTS / "stripe/invoice-paid.json")}

    # When sign is run / Then one line says what is wrong
    result = run(*[files.get(a, a) for a in argv])
    assert result.one_line_error, result
    assert message in result.err


# --- send ----------------------------------------------------------------------------------------


class Captured:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.status = 200
        self.answer: dict[str, Any] = {"received": True, "id": "evt_1"}


@pytest.fixture
def receiver() -> Iterator[tuple[str, Captured]]:
    """A loopback HTTP server that records what it receives and answers ``captured.status``."""
    captured = Captured()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            captured.requests.append((self.path, dict(self.headers.items()), body))
            payload = json.dumps(captured.answer).encode()
            self.send_response(captured.status)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", captured
    finally:
        server.shutdown()
        server.server_close()


def test_send_posts_a_sample_signed_and_re_timed(run: Run, receiver: tuple[str, Captured]) -> None:
    url, captured = receiver
    # Given a Stripe sample created weeks ago
    # When it is sent to a receiver's base URL
    result = run("send", "stripe", str(EVENTS / "stripe/invoice-paid.json"), "--url", url)

    # Then it is posted to /webhooks/stripe, the status and answer are printed, exit 0
    assert result.code == 0, result.err
    assert result.out.splitlines()[0] == "HTTP 200"
    [(path, headers, body)] = captured.requests
    assert path == "/webhooks/stripe"
    # And the body is the sample's, created just now, signed as Stripe signs
    event = stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], dev_secret("stripe"))
    assert event["id"] == "evt_1SampleInvoicePaid"
    assert abs(event["created"] - datetime.now(UTC).timestamp()) < 60
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"].startswith("Stripe/")


def test_send_posts_a_raw_body_to_a_full_webhook_url(run: Run, receiver: tuple[str, Captured], body_file: Path) -> None:
    url, captured = receiver
    # Given a raw body / When it is sent to a full webhook URL
    result = run("send", "stripe", str(body_file), "--url", f"{url}/webhooks/stripe", "--secret", "whsec_x")

    # Then the exact bytes are posted there, signed with the given secret
    assert result.code == 0, result.err
    [(path, headers, body)] = captured.requests
    assert path == "/webhooks/stripe"
    assert body == body_file.read_bytes()
    assert stripe.WebhookSignature.verify_header(body.decode(), headers["Stripe-Signature"], "whsec_x", tolerance=300)


def test_send_exits_1_when_the_receiver_refuses(run: Run, receiver: tuple[str, Captured], body_file: Path) -> None:
    url, captured = receiver
    # Given a receiver that answers 401
    captured.status, captured.answer = 401, {"error": "signature does not match"}

    # When a body is sent
    result = run("send", "stripe", str(body_file), "--url", url)

    # Then the answer is printed and the exit status is 1
    assert result.code == 1
    assert result.out.splitlines() == ["HTTP 401", '{"error": "signature does not match"}']


def test_send_to_nothing_listening_is_one_line(run: Run, body_file: Path) -> None:
    # Given nothing listens on the URL (port 9 on loopback: discard, closed)
    # When a body is sent / Then one line says the receiver is not there
    result = run("send", "stripe", str(body_file), "--url", "http://127.0.0.1:9")
    assert result.one_line_error
    assert "cannot connect to http://127.0.0.1:9/webhooks/stripe" in result.err


def test_send_refuses_a_url_that_is_not_http(run: Run, body_file: Path) -> None:
    result = run("send", "stripe", str(body_file), "--url", "127.0.0.1:3000")
    assert result.one_line_error
    assert "is not an http(s) URL" in result.err
