"""`sign` and `send` refuse the mistakes a newcomer makes, in one line, before anything is posted."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import EVENTS, Run


@pytest.fixture
def body_file(tmp_path: Path) -> Path:
    path = tmp_path / "body.json"
    path.write_bytes(b'{"id": "evt_1", "type": "invoice.paid", "created": 1795000000}\n')
    return path


@pytest.fixture
def listening() -> Iterator[str]:
    """A loopback address something listens on (so a refusal is not a connection error)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()


@pytest.mark.parametrize("secret", ["", "   "], ids=["empty", "blank"])
@pytest.mark.parametrize("command", ["sign", "send"])
def test_an_empty_secret_is_refused_not_replaced_by_the_dev_secret(
    run: Run, body_file: Path, listening: str, command: str, secret: str
) -> None:
    # Given `--secret ''` (an unset shell variable: --secret "$STRIPE_SECRET")
    argv = [command, "stripe", str(body_file), "--secret", secret]
    if command == "send":
        argv += ["--url", listening]

    # When it is run / Then one line says the secret is empty, and nothing is signed
    result = run(*argv)
    assert result.one_line_error, result
    assert "--secret is empty" in result.err
    assert result.out == ""


@pytest.mark.parametrize(
    ("source", "path"),
    [
        ("stripe", "/webhooks/typeform"),
        ("stripe", "/webhooks/stripe%20"),
        ("typeform", "/prod/webhooks/stripe"),
    ],
    ids=["other-source", "whitespace", "stage-prefix"],
)
def test_send_to_another_sources_url_is_refused(
    run: Run, body_file: Path, listening: str, source: str, path: str
) -> None:
    # Given a webhook URL that names another source than SOURCE
    # When send is run / Then one line names both, and nothing is posted
    result = run("send", source, str(body_file), "--url", f"{listening}{path}", "--secret", "whsec_x")
    assert result.one_line_error, result
    assert f"not of {source}" in result.err
    assert result.out == ""


def test_send_of_a_sample_to_another_sources_url_is_refused(run: Run, listening: str) -> None:
    sample = str(EVENTS / "stripe/invoice-paid.json")
    result = run("send", "stripe", sample, "--url", f"{listening}/webhooks/tally")
    assert result.one_line_error, result
    assert "--url is the webhook URL of 'tally', not of stripe" in result.err


def test_send_to_the_webhooks_folder_appends_source(run: Run, body_file: Path) -> None:
    # Given a URL ending in /webhooks/ (nothing listens: the error names the URL it tried)
    result = run("send", "stripe", str(body_file), "--url", "http://127.0.0.1:9/webhooks/", "--secret", "whsec_x")
    assert result.one_line_error, result
    assert "cannot connect to http://127.0.0.1:9/webhooks/stripe" in result.err
