"""Formstack: ``X-FS-Signature: sha256=<hex>`` when HMAC is on, a token otherwise (never unverified),
``UniqueID`` ids, form-encoded and JSON bodies through the shared resolver, ``HandshakeKey`` never forwarded."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from reasons import assert_reason

from webhook_translator.errors import BadRequest, MappingError, SignatureError

SECRET = "formstack-hmac-secret-8e2c4a"
TOKEN = "formstack-url-token-5b7d9f1a3c"
HANDSHAKE = "handshake-secret-0f9e8d7c"
URLENCODED = "application/x-www-form-urlencoded"
BODY = urlencode({"FormID": "901", "UniqueID": "7001", "HandshakeKey": HANDSHAKE, "Email": "ann@example.com"}).encode()


def hexsig(body: bytes, key: str = SECRET) -> str:
    """Computed here independently: ``sha256=`` + hex(HMAC-SHA256(secret, body))."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("formstack")


def test_the_published_vector_verifies(h: Any) -> None:
    # Given the card's third-party capture: key "test1" over this exact body → 30dff7f1…b970
    body = b"FormID=6606394&UniqueID=1500878955&HandshakeKey=test"
    signature = hexsig(body, "test1")
    assert signature.startswith("sha256=30dff7f1")
    assert signature.endswith("b970")
    assert signature == "sha256=30dff7f180b6d69eab397a5d51719474df490b730514c253e8b5832d3b51b970"
    # Then the verifier accepts it, and sign_headers produces it
    h.source.verify(h.request(body, {"X-FS-Signature": signature}), ["test1"])
    assert h.source.sign_headers(body, "test1", now=h.now_s)["X-FS-Signature"] == signature


@pytest.mark.parametrize(
    ("case", "body", "headers", "query", "code"),
    [
        ("tampered", BODY.replace(b"7001", b"7002"), {"X-FS-Signature": hexsig(BODY)}, {}, "no_matching_secret"),
        ("wrong secret", BODY, {"X-FS-Signature": hexsig(BODY, "other")}, {}, "no_matching_secret"),
        ("no sha256= prefix", BODY, {"X-FS-Signature": hexsig(BODY)[7:]}, {}, "malformed_signature"),
        ("not hex", BODY, {"X-FS-Signature": "sha256=zz"}, {}, "malformed_signature"),
        ("empty signature", BODY, {"X-FS-Signature": ""}, {}, "missing_signature"),
        (
            "a wrong signature is not rescued by a right token",
            BODY,
            {"X-FS-Signature": hexsig(BODY, "other")},
            {"key": TOKEN},
            "no_matching_secret",
        ),
        ("no signature and no token", b"FormID=901&UniqueID=7001", {}, {}, "missing_signature"),
        ("wrong URL token", b"FormID=901&UniqueID=7001", {}, {"key": "nope"}, "no_matching_secret"),
        ("wrong handshake key", BODY.replace(HANDSHAKE.encode(), b"guess"), {}, {}, "no_matching_secret"),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith(("sha", "Form")) else None,
)
def test_a_bad_signature_or_token_is_refused_with_its_reason(
    h: Any, case: str, body: bytes, headers: dict[str, str], query: dict[str, str], code: str
) -> None:
    with pytest.raises(SignatureError) as info:
        h.source.verify(h.request(body, headers, query=query), [SECRET, TOKEN, HANDSHAKE])
    assert_reason(info, code)
    for secret in (SECRET, TOKEN, HANDSHAKE):
        assert secret not in info.value.message


@pytest.mark.parametrize(
    ("case", "body", "headers", "query", "content_type"),
    [
        ("?key= in the URL", b"FormID=1&UniqueID=2", {}, {"key": TOKEN}, URLENCODED),
        ("X-Webhook-Token header", b"FormID=1&UniqueID=2", {"X-Webhook-Token": TOKEN}, {}, URLENCODED),
        ("Handshake Key, form post", BODY, {}, {}, URLENCODED),
        ("Handshake Key, JSON", json.dumps({"UniqueID": "2", "HandshakeKey": HANDSHAKE}), {}, {}, "application/json"),
    ],
    ids=["query", "header", "handshake form", "handshake json"],
)
def test_without_hmac_a_token_verifies(
    h: Any, case: str, body: Any, headers: dict[str, str], query: dict[str, str], content_type: str
) -> None:
    h.source.verify(h.request(body, headers, query=query, content_type=content_type), [TOKEN, HANDSHAKE])


def test_nothing_configured_is_refused(h: Any) -> None:
    with pytest.raises(SignatureError):
        h.source.verify(h.request(BODY, {"X-FS-Signature": hexsig(BODY)}), [])
    with pytest.raises(SignatureError):
        h.source.verify(h.request(BODY), [])


def test_the_webhook_id_is_the_unique_id_and_a_body_without_one_is_a_400(h: Any) -> None:
    assert h.source.webhook_id(h.request(BODY)) == "7001"
    assert h.source.webhook_id(h.request({"UniqueID": 7002}, content_type="application/json")) == "7002"
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(b"FormID=1"))
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(b"[1]", content_type="application/json"))


def test_the_sample_through_the_receiver_is_queued_under_its_unique_id(h: Any) -> None:
    sample = h.sample("submission")
    body = sample["body_text"].encode()
    headers = {**sample["headers"], **h.source.sign_headers(body, SECRET, now=h.now_s)}
    status, answer, envelope = h.receive(body, headers, secrets=[SECRET])
    assert (status, answer) == (200, {"received": True, "id": "1183364712"})
    assert envelope is not None
    unsigned = {"Content-Type": URLENCODED}
    assert h.receive(body, unsigned, secrets=[SECRET])[0] == 401  # the sample's handshake key is not configured


def test_the_handshake_key_and_free_text_are_never_forwarded(h: Any) -> None:
    # Given the form-encoded sample (field names as keys, a Handshake Key, free-text answers)
    sample = h.sample("submission")
    track = h.one(sample["body_text"], content_type=URLENCODED)
    text = json.dumps(track)
    # Then identity comes from the name / address lines and the labels, and no secret or free text is sent
    assert track["email"] == "jordan.ellis@example.com"
    assert track["distinctId"] == "formstack:1183364712"
    assert track["userProperties"]["first_name"] == "Jordan"
    assert track["userProperties"]["zip"] == "97201"
    assert "handshake" not in text.lower()
    assert "Example Avenue" not in text
    assert "Annual check-up" not in text
    assert "Search engine" not in text


def test_include_opts_a_text_answer_in_but_never_the_handshake_key(h: Any) -> None:
    sample = h.sample("submission")
    config = {"options": {"include": ["Reason for visit", "HandshakeKey"]}}
    track = h.one(sample["body_text"], content_type=URLENCODED, config=config)
    assert track["eventProperties"]["answers"] == {"Reason for visit": "Annual check-up"}


def test_the_distinct_id_is_deterministic_and_the_time_is_the_receive_time(h: Any) -> None:
    first, second = h.one(BODY, content_type=URLENCODED), h.one(BODY, content_type=URLENCODED)
    assert first["distinctId"] == second["distinctId"] == "formstack:7001"
    assert first["time"] == h.now_ms - 60_000


def test_a_body_that_is_no_formstack_post_is_a_mapping_error(h: Any) -> None:
    with pytest.raises(MappingError):
        h.map(b"[]", content_type="application/json")
    with pytest.raises(MappingError):
        h.map(b"FormID=1", content_type=URLENCODED)


def test_a_dropped_submission_is_skipped(h: Any) -> None:
    assert h.map(BODY, content_type=URLENCODED, config={"drop": ["submission"]}).skipped == "dropped_by_config"


def test_a_handshake_key_delivery_is_accepted_and_the_key_is_in_no_log_line(
    h: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given the sample verified by its Handshake Key (no HMAC, no URL token)
    sample = h.sample("submission")
    key = "handshake-devonly-7d21"
    status, answer, envelope = h.receive(sample["body_text"], {"Content-Type": URLENCODED}, secrets=[key])
    # Then it is queued, and neither the receiver's output nor the mapped event holds the key
    assert (status, answer) == (200, {"received": True, "id": "1183364712"})
    assert envelope is not None
    track = h.one(sample["body_text"], content_type=URLENCODED)
    captured = capsys.readouterr()
    assert key not in captured.out + captured.err + caplog.text
    assert key not in json.dumps(track)
