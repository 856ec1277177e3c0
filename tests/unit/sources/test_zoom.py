"""Zoom: ``x-zm-signature`` (v0, ±5 min), the ``endpoint.url_validation`` challenge answered by the receiver
(nothing queued, re-validation included), registrant and participant mapping."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from reasons import assert_reason

from webhook_translator.errors import BadRequest, SignatureError

SECRET = "zoom-secret-token-Xy12Ab34"
OTHER = "zoom-secret-token-rotated-9876"
BODY = b'{"event":"meeting.participant_joined","event_ts":1794996000456,"payload":{"object":{"id":1}}}'


def v0(body: bytes, ts: int | str, secret: str) -> str:
    """Zoom's scheme, computed here independently: 'v0=' + hex(HMAC-SHA256('v0:{ts}:{body}'))."""
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("zoom")


def signed(h: Any, body: bytes = BODY, *, secret: str = SECRET, age_s: int = 5) -> dict[str, str]:
    ts = h.now_s - age_s
    return {
        "Content-Type": "application/json",
        "x-zm-request-timestamp": str(ts),
        "x-zm-signature": v0(body, ts, secret),
    }


# --- signature -------------------------------------------------------------------------------------


def test_a_genuine_signature_verifies_and_sign_headers_agree(h: Any) -> None:
    h.source.verify(h.request(BODY, signed(h), received_at=h.at(0)), [SECRET])
    h.source.verify(h.request(BODY, signed(h, secret=OTHER), received_at=h.at(0)), [SECRET, OTHER])
    headers = h.source.sign_headers(BODY, SECRET, now=h.now_s)
    assert headers["x-zm-signature"] == v0(BODY, h.now_s, SECRET)
    h.source.verify(h.request(BODY, headers, received_at=h.at(0)), [SECRET])


@pytest.mark.parametrize(
    ("case", "body", "headers", "code"),
    [
        ("tampered body", BODY.replace(b"456", b"457"), lambda h: signed(h), "no_matching_secret"),
        ("wrong secret", BODY, lambda h: signed(h, secret="nope"), "no_matching_secret"),
        ("stale: 301 s", BODY, lambda h: signed(h, age_s=301), "stale_timestamp"),
        ("future: 301 s ahead", BODY, lambda h: signed(h, age_s=-301), "future_timestamp"),
        ("missing signature", BODY, lambda h: {"x-zm-request-timestamp": str(h.now_s)}, "missing_signature"),
        (
            "missing timestamp",
            BODY,
            lambda h: {"x-zm-signature": v0(BODY, h.now_s, SECRET)},
            "missing_signature",
        ),
        (
            "no v0= prefix",
            BODY,
            lambda h: {**signed(h), "x-zm-signature": signed(h)["x-zm-signature"][3:]},
            "malformed_signature",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and not v.startswith("{") else "",
)
def test_a_bad_signature_is_refused_with_its_reason(
    h: Any, case: str, body: bytes, headers: Callable[[Any], dict[str, str]], code: str
) -> None:
    with pytest.raises(SignatureError) as info:
        h.source.verify(h.request(body, headers(h), received_at=h.at(0)), [SECRET])
    assert_reason(info, code, scheme=True)


# --- the URL validation challenge ------------------------------------------------------------------


def challenge(token: str) -> bytes:
    return json.dumps(
        {"payload": {"plainToken": token}, "event_ts": 1794999940000, "event": "endpoint.url_validation"}
    ).encode()


def test_the_url_validation_is_answered_by_the_receiver_and_nothing_is_queued(h: Any) -> None:
    # Given Zoom's signed URL validation request
    body = challenge("qgg8vlvZRS6UYooatFL8Aw")
    # When it reaches the receiver
    status, answer, queued = h.receive(body, signed(h, body, age_s=60), secrets=[SECRET])
    # Then the answer is the plain token and its HMAC, keyed with the Secret Token; nothing is queued
    expected = hmac.new(SECRET.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert (status, answer, queued) == (200, {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}, None)


def test_a_re_validation_after_a_secret_rotation_is_keyed_with_the_secret_that_signed_it(h: Any) -> None:
    # Given the secret document lists the new Secret Token beside the old one, and Zoom re-validates 72 h later
    body = challenge("second-token-72h-later")
    for zoom_secret in (OTHER, SECRET):
        # When Zoom signs the re-validation with the token it holds
        status, answer, queued = h.receive(body, signed(h, body, secret=zoom_secret, age_s=60), secrets=[SECRET, OTHER])
        # Then the encryptedToken is keyed with that same token
        expected = hmac.new(zoom_secret.encode(), b"second-token-72h-later", hashlib.sha256).hexdigest()
        assert (status, answer["encryptedToken"], queued) == (200, expected, None)


def test_an_unsigned_or_wrongly_signed_challenge_is_refused_without_an_answer(h: Any) -> None:
    body = challenge("attacker-chosen-text")
    for headers in ({"Content-Type": "application/json"}, signed(h, body, secret="guess", age_s=60)):
        status, answer, queued = h.receive(body, headers, secrets=[SECRET])
        assert status == 401
        assert "encryptedToken" not in answer
        assert queued is None


def test_a_challenge_without_a_plain_token_is_a_bad_request(h: Any) -> None:
    body = b'{"event":"endpoint.url_validation","payload":{}}'
    with pytest.raises(BadRequest):
        h.source.handshake(h.request(body), [SECRET])
    status, _, queued = h.receive(body, signed(h, body, age_s=60), secrets=[SECRET])
    assert (status, queued) == (400, None)


def test_an_ordinary_event_is_no_handshake(h: Any) -> None:
    assert h.source.handshake(h.request(h.body("webinar_participant_joined")), [SECRET]) is None


# --- ids and mapping -------------------------------------------------------------------------------


def test_the_webhook_id_is_event_object_person_and_event_ts(h: Any) -> None:
    assert h.source.webhook_id(h.request(h.body("meeting_registration_created"))) == (
        "meeting.registration_created:4444AAAiAAAAAiAiAiiAii==:abcdefghij0-klmnopq23456:1794992400123"
    )
    assert h.source.webhook_id(h.request(h.body("meeting_started_ignored"))) is None


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"event":"meeting.participant_joined","event_ts":1,"payload":{}}',
        b'{"event":"meeting.participant_joined","event_ts":1,"payload":{"object":{"id":1,"participant":{}}}}',
        b'{"event":"meeting.participant_joined","payload":{"object":{"id":1,"participant":{"id":"p"}}}}',
    ],
)
def test_a_malformed_body_is_a_bad_request(h: Any, body: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body))


def test_a_registrant_maps_identity_and_never_free_text_or_the_join_url(h: Any) -> None:
    out = h.one(h.body("meeting_registration_created"))
    assert (out["event"], out["email"], out["time"]) == (
        "Meeting Registered",
        "jordan.reyes@example.com",
        1794992400123,
    )
    assert out["userProperties"]["company_name"] == "Reyes Pediatrics"
    text = json.dumps(out)
    for private in ("asthma", "Acme Health", "join_url", "zoom.us/w", "1800 Amazing"):
        assert private not in text


def test_a_participant_display_name_is_split_into_first_and_last(h: Any) -> None:
    out = h.one(h.body("webinar_participant_joined"))
    assert out["event"] == "Webinar Joined"
    assert out["userProperties"] == {"first_name": "Avery", "last_name": "Chen"}


def test_other_events_are_skipped(h: Any) -> None:
    assert h.map(h.body("meeting_started_ignored")).skipped == "ignored_type"
