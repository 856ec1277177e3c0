"""`serve` and `dlq` fail in one line, with a non-zero exit and no traceback, on everything a user can get wrong.

Nothing here starts the stack: every case fails before moto or the functions start.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Run


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port something already listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVE_SETS = ("QUEUE_URL", "DLQ_URL", "SECRET_ID", "OURS_API_URL", "AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AWS settings or queue URLs inherited from the developer's shell."""
    for name in [k for k in os.environ if k.startswith("AWS_")] + list(SERVE_SETS):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def serve_env(clean_env: None) -> Iterator[None]:
    """…and, after a serve that failed, still none: it fails before pointing anything at a stack."""
    yield
    assert [name for name in SERVE_SETS if name in os.environ] == []


# --- serve -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "--secrets {path} is not valid JSON (line 1, column 2)"),
        ('["whsec_1"]', "--secrets {path} must be a JSON object, not an array"),
        ('{"sources": {"stripe": {"signing_secrets": "whsec_1"}}}', "--secrets {path} is invalid: sources.stripe"),
        ('{"ours_token": "t", "extra": 1}', "--secrets {path} is invalid: extra"),
    ],
    ids=["not-json", "not-an-object", "secrets-not-a-list", "unknown-key"],
)
def test_a_bad_secrets_file_is_one_line_naming_the_rule(
    run: Run, tmp_path: Path, serve_env: None, text: str, message: str
) -> None:
    # Given a secret document that is not valid
    path = tmp_path / "secrets.json"
    path.write_text(text)

    # When serve is started with it
    result = run("serve", "--secrets", str(path))

    # Then it stops at once, in one line naming the file and the rule, never a value
    assert result.one_line_error, result
    assert result.code == 1
    assert message.format(path=path) in result.err
    assert "whsec_1" not in result.err


def test_an_unreadable_secrets_file_is_one_line(run: Run, serve_env: None) -> None:
    result = run("serve", "--secrets", "/no/such/secrets.json")
    assert result.one_line_error
    assert "cannot read --secrets /no/such/secrets.json: No such file or directory" in result.err


def test_a_busy_receiver_port_is_one_line_and_exit_2(
    run: Run, busy_port: int, closed_port: int, serve_env: None
) -> None:
    # Given something listens on the receiver's port
    # When serve is started on it
    result = run("serve", "--port", str(busy_port), "--aws-port", str(closed_port))

    # Then it exits 2 with one line naming the port and the flag to change
    assert result.one_line_error
    assert result.code == 2
    assert f"port {busy_port} on 127.0.0.1 is already in use (the receiver): stop what uses it or pass --port N" in (
        result.err
    )
    assert result.out == ""


def test_a_busy_aws_port_is_one_line_and_exit_2(run: Run, busy_port: int, closed_port: int, serve_env: None) -> None:
    # Given something listens on moto's port
    # When serve is started / Then the AWS port is named, and the receiver's port is free again
    result = run("serve", "--port", str(closed_port), "--aws-port", str(busy_port))
    assert result.one_line_error
    assert result.code == 2
    assert f"port {busy_port} on 127.0.0.1 is already in use (moto's AWS endpoint)" in result.err
    assert "--aws-port N" in result.err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", closed_port))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--functions-dir", "/nowhere"], "no receiver/app.py, forwarder/app.py in /nowhere (--functions-dir)"),
        (["--replay", "/nowhere"], "--replay /nowhere: no such directory"),
        (["--ours-url", "api.oursprivacy.com"], "--ours-url 'api.oursprivacy.com' is not an http(s) URL"),
    ],
    ids=["functions-dir", "replay-dir", "ours-url"],
)
def test_bad_serve_arguments_are_one_line(run: Run, serve_env: None, argv: list[str], message: str) -> None:
    result = run("serve", *argv)
    assert result.one_line_error, result
    assert message in result.err


def test_a_bad_max_receive_count_is_one_line(run: Run, serve_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_RECEIVE_COUNT", "zero")
    result = run("serve")
    assert result.one_line_error
    # (the functions' own settings refuse it, as their init would)
    assert "MAX_RECEIVE_COUNT: Input should be a valid integer" in result.err


def test_a_port_out_of_range_is_a_usage_error(run: Run) -> None:
    result = run("serve", "--port", "70000")
    assert result.code == 2
    assert "70000 is not a port number" in result.err


# --- dlq -------------------------------------------------------------------------------------------


def test_dlq_without_a_queue_url_says_where_to_get_one(run: Run, clean_env: None) -> None:
    # Given no --dlq-url and no DLQ_URL / When the DLQ is listed / Then one line says what to pass or export
    result = run("dlq", "list")
    assert result.one_line_error
    assert "no DLQ URL: pass --dlq-url URL or set DLQ_URL" in result.err


def test_dlq_redrive_needs_the_queue_too(run: Run, clean_env: None) -> None:
    result = run("dlq", "redrive", "--dlq-url", "http://127.0.0.1:1/123456789012/dlq")
    assert result.one_line_error
    assert "no queue URL: pass --queue-url URL or set QUEUE_URL" in result.err


def test_dlq_against_an_unreachable_endpoint_is_one_line(
    run: Run, clean_env: None, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the exported lines of a local stack that is no longer running
    endpoint = f"http://127.0.0.1:{closed_port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("DLQ_URL", f"{endpoint}/123456789012/webhook-translator-webhooks-dlq")

    # When the DLQ is listed
    result = run("dlq", "list")

    # Then one line names the endpoint and asks whether serve is running
    assert result.one_line_error
    assert f"cannot reach SQS at {endpoint} (AWS_ENDPOINT_URL): is `webhook-translator serve` running?" in result.err


def test_dlq_a_url_that_is_not_a_queue_url_is_one_line(run: Run, clean_env: None) -> None:
    result = run("dlq", "list", "--dlq-url", "webhook-translator-webhooks-dlq")
    assert result.one_line_error
    assert "is not a queue URL" in result.err
