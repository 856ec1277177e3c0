"""CallRail: the ``signature`` header (HMAC-SHA1 of the body, base64 or hex), ids from ``resource_id``, calls,
texts and forms mapped to the caller's phone — and never a text body, transcript or recording URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest
from reasons import assert_reason

from webhook_translator.errors import BadRequest, MappingError, SignatureError

TOKEN = "callrail-company-webhook-token-5d41402abc4b2a76"
OTHER = "callrail-company-webhook-token-rotated-7d793037a0"
BODY = b'{"answered":true,"customer_phone_number":"+14045550147","resource_id":"CAL1"}'


def b64(body: bytes, key: str = TOKEN) -> str:
    """Computed here independently: base64(HMAC-SHA1(token, body))."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha1).digest()).decode()


def hexsig(body: bytes, key: str = TOKEN) -> str:
    return hmac.new(key.encode(), body, hashlib.sha1).hexdigest()


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("callrail")


def test_a_known_answer_vector_pins_the_scheme() -> None:
    # RFC 2202 test case 2 for HMAC-SHA1 ("Jefe", "what do ya want for nothing?") in both encodings
    assert hexsig(b"what do ya want for nothing?", "Jefe") == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
    assert b64(b"what do ya want for nothing?", "Jefe") == "7/zfauXrL6LSdBbV8YTfnCWafHk="


@pytest.mark.parametrize(
    ("case", "signature", "secrets"),
    [
        ("base64", lambda: b64(BODY), [TOKEN]),
        ("hex", lambda: hexsig(BODY), [TOKEN]),
        ("hex, upper case", lambda: hexsig(BODY).upper(), [TOKEN]),
        ("rotation", lambda: b64(BODY, OTHER), [TOKEN, OTHER]),
    ],
    ids=["base64", "hex", "hex upper", "rotation"],
)
def test_a_genuine_signature_verifies(h: Any, case: str, signature: Callable[[], str], secrets: list[str]) -> None:
    h.source.verify(h.request(BODY, {"Signature": signature()}), secrets)


def test_sign_headers_send_base64_and_verify(h: Any) -> None:
    headers = h.source.sign_headers(BODY, TOKEN, now=h.now_s)
    assert headers["Signature"] == b64(BODY)
    h.source.verify(h.request(BODY, headers), [TOKEN])


@pytest.mark.parametrize(
    ("case", "body", "headers", "code"),
    [
        ("tampered body", BODY.replace(b"true", b"false"), {"Signature": b64(BODY)}, "no_matching_secret"),
        ("tampered body, hex", BODY.replace(b"CAL1", b"CAL2"), {"Signature": hexsig(BODY)}, "no_matching_secret"),
        ("wrong secret", BODY, {"Signature": b64(BODY, "nope")}, "no_matching_secret"),
        ("missing", BODY, {}, "missing_signature"),
        ("garbage", BODY, {"Signature": "not base64!"}, "malformed_signature"),
        (
            "sha256 instead",
            BODY,
            {"Signature": hmac.new(TOKEN.encode(), BODY, "sha256").hexdigest()},
            "no_matching_secret",
        ),
    ],
    ids=["tampered", "tampered hex", "wrong secret", "missing", "garbage", "sha256"],
)
def test_a_bad_signature_is_refused(h: Any, case: str, body: bytes, headers: dict[str, str], code: str) -> None:
    with pytest.raises(SignatureError) as info:
        h.source.verify(h.request(body, headers), [TOKEN])
    assert_reason(info, code, scheme=True)


def test_through_the_receiver_the_sample_is_queued_under_its_resource_id(h: Any) -> None:
    body = h.raw(h.body("post_call_answered"))
    status, answer, queued = h.receive(
        body, {"Content-Type": "application/json", "Signature": b64(body)}, secrets=[TOKEN]
    )
    assert (status, answer) == (200, {"received": True, "id": "CAL8154748ae6bd4e278a7cddd38a662f4f"})
    assert queued is not None
    status, _, queued = h.receive(
        body, {"Content-Type": "application/json", "Signature": b64(body, OTHER)}, secrets=[TOKEN]
    )
    assert (status, queued) == (401, None)


@pytest.mark.parametrize("body", [b"[]", b'{"hello":1}', b'{"answered":true}', b'{"answered":true,"resource_id":""}'])
def test_a_body_that_is_no_call_text_or_form_is_a_bad_request(h: Any, body: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body))


# --- mapping ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "event", "phone"),
    [
        ("post_call_answered", "Call Completed", "+14045550147"),
        ("post_call_missed_voicemail", "Call Missed", "+14705550199"),
        ("text_message_received", "Text Received", "+16785550123"),
        ("form_submission", "Form Submitted", "+17705550166"),
    ],
)
def test_each_kind_gets_its_event_and_the_callers_phone(h: Any, sample: str, event: str, phone: str) -> None:
    body = h.body(sample)
    out = h.one(body)
    assert (out["event"], out["userProperties"]["phone_number"]) == (event, phone)
    assert out["distinctId"] == f"callrail:{body['resource_id']}"


def test_attribution_goes_to_user_properties(h: Any) -> None:
    props = h.one(h.body("post_call_answered"))["userProperties"]
    assert props["gclid"] == "EAIaIQobChMI-example-gclid"
    assert (props["utm_source"], props["utm_campaign"]) == ("google", "knee")
    assert h.one(h.body("post_call_missed_voicemail"))["userProperties"]["fbclid"] == "IwAR2-example-fbclid"


@pytest.mark.parametrize(
    "sample", ["post_call_answered", "post_call_missed_voicemail", "text_message_received", "form_submission"]
)
def test_never_a_message_body_transcript_note_recording_or_form_answer(h: Any, sample: str) -> None:
    text = json.dumps(h.one(h.body(sample))).lower()
    for private in ("acl", "recording", "results", "back pain is worse", "sciatica?", "pregnant", "your-message"):
        assert private not in text, private


def test_a_call_modified_delivery_maps_onto_the_same_event(h: Any) -> None:
    body = h.body("post_call_answered")
    modified = {**body, "lead_status": "not_a_lead", "note": "updated"}
    assert h.one(modified)["distinctId"] == h.one(body)["distinctId"]


def test_an_outbound_text_is_skipped(h: Any) -> None:
    assert h.map(h.body("text_message_sent_ignored")).skipped == "ignored_type"


def test_a_call_without_a_phone_is_no_identity(h: Any) -> None:
    body = {k: v for k, v in h.body("post_call_answered").items() if k != "customer_phone_number"}
    with pytest.raises(MappingError) as info:
        h.map(body)
    assert info.value.reason == "no_identity"
