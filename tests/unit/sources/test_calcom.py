"""Cal.com: ``X-Cal-Signature-256`` (hex), ``no-secret-provided`` refused, a non-JSON custom template refused
with a clear 415, ids from triggerEvent + uid, bookings and routing forms mapped without notes or answers."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from reasons import assert_reason

from webhook_translator.errors import BadRequest, SignatureError

SECRET = "calcom-webhook-secret-4f1c2b"
BODY = b'{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-11-18T08:30:00Z","payload":{"uid":"u1"}}'


def hexsig(body: bytes, key: str = SECRET) -> str:
    """Computed here independently: hex(HMAC-SHA256(secret, body))."""
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("calcom")


def test_the_scheme_matches_the_rfc_4231_vector() -> None:
    assert hexsig(b"what do ya want for nothing?", "Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_a_genuine_signature_verifies_and_sign_headers_agree(h: Any) -> None:
    h.source.verify(h.request(BODY, {"X-Cal-Signature-256": hexsig(BODY)}), [SECRET])
    assert h.source.sign_headers(BODY, SECRET, now=h.now_s)["X-Cal-Signature-256"] == hexsig(BODY)


@pytest.mark.parametrize(
    ("case", "body", "headers", "code"),
    [
        ("tampered", BODY.replace(b"u1", b"u2"), {"X-Cal-Signature-256": hexsig(BODY)}, "no_matching_secret"),
        ("wrong secret", BODY, {"X-Cal-Signature-256": hexsig(BODY, "other")}, "no_matching_secret"),
        ("missing", BODY, {}, "missing_signature"),
        ("no-secret-provided", BODY, {"X-Cal-Signature-256": "no-secret-provided"}, "missing_signature"),
        ("garbage", BODY, {"X-Cal-Signature-256": "xyz"}, "malformed_signature"),
    ],
    ids=["tampered", "wrong secret", "missing", "no-secret-provided", "garbage"],
)
def test_a_bad_signature_is_refused(h: Any, case: str, body: bytes, headers: dict[str, str], code: str) -> None:
    with pytest.raises(SignatureError) as info:
        h.source.verify(h.request(body, headers), [SECRET])
    assert_reason(info, code, scheme=case != "no-secret-provided")
    if case == "no-secret-provided":
        assert "set a secret on the webhook" in info.value.message


def test_through_the_receiver_no_secret_provided_is_a_401_and_nothing_is_queued(h: Any) -> None:
    status, answer, queued = h.receive(
        BODY, {"Content-Type": "application/json", "X-Cal-Signature-256": "no-secret-provided"}, secrets=[SECRET]
    )
    assert (status, queued) == (401, None)
    assert "no-secret-provided" in answer["error"]


def test_a_form_encoded_custom_template_is_a_clear_415(h: Any) -> None:
    body = b"event=BOOKING_CREATED&email=quinn%40example.com"
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Cal-Signature-256": hexsig(body)}
    status, answer, queued = h.receive(body, headers, secrets=[SECRET])
    assert (status, queued) == (415, None)
    assert "clear the webhook's template" in answer["error"]
    # unsigned, the same body is a 401 first
    status, _, _ = h.receive(body, {"Content-Type": "application/x-www-form-urlencoded"}, secrets=[SECRET])
    assert status == 401


def test_another_content_type_is_a_415(h: Any) -> None:
    status, _, queued = h.receive(
        BODY, {"Content-Type": "text/plain", "X-Cal-Signature-256": hexsig(BODY)}, secrets=[SECRET]
    )
    assert (status, queued) == (415, None)


def test_through_the_receiver_the_sample_is_queued_under_trigger_and_uid(h: Any) -> None:
    body = h.raw(h.body("booking_created"))
    headers = {"Content-Type": "application/json", "X-Cal-Signature-256": hexsig(body)}
    status, answer, queued = h.receive(body, headers, secrets=[SECRET])
    assert (status, answer["id"], queued is not None) == (200, "BOOKING_CREATED:bFJeNb2uX8ANpT3JL5EfXw", True)


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"payload":{}}',
        b'{"triggerEvent":"BOOKING_CREATED"}',
        b'{"triggerEvent":"BOOKING_CREATED","payload":{}}',
    ],
)
def test_a_json_body_without_cal_coms_fields_is_a_bad_request(h: Any, body: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body))


def test_ids_for_a_reschedule_a_no_show_a_form_and_a_ping(h: Any) -> None:
    ids = {
        name: h.source.webhook_id(h.request(h.body(name)))
        for name in ("booking_rescheduled", "booking_no_show_updated", "form_submitted", "ping_ignored")
    }
    assert ids == {
        "booking_rescheduled": "BOOKING_RESCHEDULED:n3wB00kingUid42xYz:bFJeNb2uX8ANpT3JL5EfXw",
        "booking_no_show_updated": "BOOKING_NO_SHOW_UPDATED:bFJeNb2uX8ANpT3JL5EfXw",
        "form_submitted": None,
        "ping_ignored": None,
    }


# --- mapping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "event", "email"),
    [
        ("booking_created", "Meeting Scheduled", "quinn.taylor@example.com"),
        ("booking_rescheduled", "Meeting Rescheduled", "quinn.taylor@example.com"),
        ("booking_cancelled", "Meeting Canceled", "quinn.taylor@example.com"),
        ("booking_no_show_updated", "Meeting No-Show", "quinn.taylor@example.com"),
        ("form_submitted", "Routing Form Submitted", "harper.lin@example.org"),
    ],
)
def test_each_trigger_gets_its_event_and_email(h: Any, sample: str, event: str, email: str) -> None:
    out = h.one(h.body(sample))
    assert (out["event"], out["email"]) == (event, email)
    assert out["distinctId"].startswith("calcom:")


def test_a_booking_brings_the_ours_user_id_phone_and_utm(h: Any) -> None:
    out = h.one(h.body("booking_created"))
    assert out["userId"] == "ours-visitor-7f3a9c"
    assert out["userProperties"]["phone_number"] == "+13035550181"
    assert out["userProperties"]["utm_campaign"] == "migraine-clinic"


@pytest.mark.parametrize("sample", ["booking_created", "booking_cancelled", "form_submitted"])
def test_never_notes_answers_titles_locations_or_reasons(h: Any, sample: str) -> None:
    text = json.dumps(h.one(h.body(sample))).lower()
    for private in ("migraines for", "blue shield", "between dr", "cal.com/video", "headaches", "back pain", "dr.ames"):
        assert private not in text, private


def test_the_ping_is_skipped(h: Any) -> None:
    assert h.map(h.body("ping_ignored")).skipped == "ignored_type"
