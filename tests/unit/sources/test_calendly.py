"""Calendly: the ``Calendly-Webhook-Signature`` check (180 s window), ids from event + uri, invitee mapping."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.errors import BadRequest, MappingError, SignatureError
from webhook_translator.ours.models import InvalidTrackEvent

SECRET = "calendly-signing-key-1"
OTHER = "calendly-signing-key-2"
BODY = b'{"event":"invitee.created","created_at":"2026-11-18T10:00:00Z","payload":{"uri":"https://api.calendly.com/x"}}'
INVITEE = "https://api.calendly.com/scheduled_events/8e2b7c1d-3f4a-4b5c-9d6e-0f1a2b3c4d5e/invitees/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def v1(body: bytes, t: int | str, secret: str) -> str:
    """Calendly's scheme, computed here independently: hex(HMAC-SHA256("{t}.{body}"))."""
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def cases(*rows: tuple[Any, ...]) -> list[Any]:
    """Parametrize rows named by their first item (the case), so that test ids never show test data."""
    return [pytest.param(*row, id=str(row[0])) for row in rows]


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("calendly")


def header(h: Any, *, age_s: int = 5, secret: str = SECRET, body: bytes = BODY) -> dict[str, str]:
    t = h.now_s - age_s
    return {"Calendly-Webhook-Signature": f"t={t},v1={v1(body, t, secret)}"}


# --- signature -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "headers", "secrets"),
    cases(
        ("fresh", lambda h: header(h), [SECRET]),
        ("179 s old", lambda h: header(h, age_s=179), [SECRET]),
        ("rotation", lambda h: header(h), [OTHER, SECRET]),
        (
            "several v1, the second matches",
            lambda h: {"Calendly-Webhook-Signature": f"t={h.now_s},v1={'0' * 64},v1={v1(BODY, h.now_s, SECRET)}"},
            [SECRET],
        ),
    ),
)
def test_a_genuine_signature_verifies(
    h: Any, case: str, headers: Callable[[Any], dict[str, str]], secrets: list[str]
) -> None:
    h.source.verify(h.request(BODY, headers(h), received_at=h.at(0)), secrets)


@pytest.mark.parametrize(
    ("case", "body", "headers", "secrets"),
    cases(
        ("tampered body", BODY.replace(b"created", b"canceled"), lambda h: header(h), [SECRET]),
        ("wrong secret", BODY, lambda h: header(h, secret=OTHER), [SECRET]),
        ("stale: 181 s old", BODY, lambda h: header(h, age_s=181), [SECRET]),
        ("future: 181 s ahead", BODY, lambda h: header(h, age_s=-181), [SECRET]),
        ("missing header", BODY, lambda h: {}, [SECRET]),
        ("no timestamp", BODY, lambda h: {"Calendly-Webhook-Signature": f"v1={v1(BODY, h.now_s, SECRET)}"}, [SECRET]),
        ("no v1", BODY, lambda h: {"Calendly-Webhook-Signature": f"t={h.now_s}"}, [SECRET]),
        ("garbage", BODY, lambda h: {"Calendly-Webhook-Signature": "garbage"}, [SECRET]),
        (
            "timestamp swapped",
            BODY,
            lambda h: {
                "Calendly-Webhook-Signature": header(h)["Calendly-Webhook-Signature"].replace(
                    f"t={h.now_s - 5}", f"t={h.now_s - 4}"
                )
            },
            [SECRET],
        ),
        ("no secret configured", BODY, lambda h: header(h), []),
    ),
)
def test_a_bad_signature_is_refused(
    h: Any, case: str, body: bytes, headers: Callable[[Any], dict[str, str]], secrets: list[str]
) -> None:
    with pytest.raises(SignatureError):
        h.source.verify(h.request(body, headers(h), received_at=h.at(0)), secrets)


def test_sign_headers_match_the_independent_vector(h: Any) -> None:
    headers = h.source.sign_headers(BODY, SECRET, now=h.now_s)
    assert headers["Calendly-Webhook-Signature"] == f"t={h.now_s},v1={v1(BODY, h.now_s, SECRET)}"
    h.source.verify(h.request(BODY, headers, received_at=h.at(0)), [SECRET])


# --- webhook id ------------------------------------------------------------------------------


def test_the_webhook_id_is_event_and_payload_uri(h: Any) -> None:
    assert h.source.webhook_id(h.request(h.body("invitee_created"))) == f"invitee.created:{INVITEE}"
    assert h.source.webhook_id(h.request({"event": "invitee_no_show.deleted", "payload": {}})) is None


@pytest.mark.parametrize(
    "body", [b"nope", b'{"event":"invitee.created"}', b'{"event":"invitee.created","payload":{"uri":""}}']
)
def test_a_malformed_body_is_a_bad_request(h: Any, body: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body))


# --- mapping ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "event", "kind", "email", "time"),
    [
        ("invitee_created", "Meeting Scheduled", "invitee.created", "riley.patel@example.com", 1794988511000),
        ("invitee_canceled", "Meeting Canceled", "invitee.canceled", "riley.patel@example.com", 1794994203000),
        ("invitee_no_show", "Meeting No-Show", "invitee_no_show.created", "drew.kim@example.org", 1794996301000),
        (
            "routing_form_submission",
            "Routing Form Submitted",
            "routing_form_submission.created",
            "taylor.brooks@example.com",
            1794991520000,
        ),
    ],
    ids=["invitee_created", "invitee_canceled", "invitee_no_show", "routing_form_submission"],
)
def test_each_event_type_gets_its_name_distinct_id_time_and_email(
    h: Any, sample: str, event: str, kind: str, email: str, time: int
) -> None:
    body = h.body(sample)
    out = h.one(body)
    assert (out["event"], out["email"], out["time"]) == (event, email, time)
    assert out["distinctId"] == f"calendly:{kind}:{body['payload']['uri']}"


def test_an_invitee_brings_names_sms_number_utm_and_known_answers(h: Any) -> None:
    out = h.one(h.body("invitee_created"))
    assert out["userProperties"] == {
        "first_name": "Riley",
        "last_name": "Patel",
        "phone_number": "+1 555-555-0123",
        "company_name": "Patel Logistics",
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "fall-webinar",
        "utm_term": "privacy analytics",
    }
    props = out["eventProperties"]
    # the free-text answer is left out by default
    assert "answers" not in props
    assert (props["meeting_name"], props["meeting_start"]) == (
        "30 Minute Discovery Call",
        "2026-11-20T15:00:00.000000Z",
    )


def test_a_cancellation_keeps_who_canceled_and_a_reschedule_is_two_distinct_events(h: Any) -> None:
    # Given the canceled and created webhooks of the same invitee (a reschedule fires both)
    canceled = h.one(h.body("invitee_canceled"))
    created = h.one(h.body("invitee_created"))
    # Then they never share a distinctId, and the cancellation says who canceled
    assert canceled["distinctId"] != created["distinctId"]
    assert canceled["eventProperties"]["canceler_type"] == "invitee"


def test_a_full_name_is_split_when_first_and_last_are_absent(h: Any) -> None:
    out = h.one(h.body("invitee_no_show"))
    assert out["userProperties"] == {"first_name": "Drew", "last_name": "Kim"}


def test_an_ours_user_id_in_tracking_is_the_user_id(h: Any) -> None:
    body = h.body("invitee_created")
    body["payload"]["tracking"]["ours_user_id"] = "ours-abc"
    assert h.one(body)["userId"] == "ours-abc"


def test_a_routing_form_without_an_email_answer_has_no_identity(h: Any) -> None:
    body = h.body("routing_form_submission")
    body["payload"]["questions_and_answers"] = [{"question": "Company size", "answer": "1-10"}]
    with pytest.raises(InvalidTrackEvent) as caught:
        h.map(body)
    assert caught.value.reason == "no_identity"


@pytest.mark.parametrize(
    ("config", "event", "skipped"),
    [
        ({"rename": {"invitee.created": "Demo Booked"}}, "Demo Booked", None),
        ({"rename": {"Meeting Scheduled": "Call Booked"}}, "Call Booked", None),
        ({"drop": ["invitee.created"]}, None, "dropped_by_config"),
    ],
)
def test_configuration_renames_and_drops(
    h: Any, config: dict[str, Any], event: str | None, skipped: str | None
) -> None:
    result = h.map(h.body("invitee_created"), config=config)
    assert result.skipped == skipped
    assert [e.event for e in result.events] == ([event] if event else [])


def test_other_events_are_skipped(h: Any) -> None:
    assert (
        h.map({"event": "invitee_no_show.deleted", "created_at": "2026-11-18T10:00:00Z", "payload": {}}).skipped
        == "ignored_type"
    )


@pytest.mark.parametrize(
    "body",
    [
        {"event": "invitee.created", "created_at": "2026-11-18T10:00:00Z"},
        {"event": "invitee.created", "created_at": "2026-11-18T10:00:00Z", "payload": {"email": "m@example.com"}},
        {"event": "invitee.created", "payload": {"uri": "u", "email": "m@example.com"}},
        {
            "event": "invitee.created",
            "created_at": "2026-11-18T10:00:00Z",
            "payload": {"uri": "u", "questions_and_answers": "x"},
        },
    ],
)
def test_a_malformed_payload_is_a_mapping_error(h: Any, body: dict[str, Any]) -> None:
    with pytest.raises(MappingError) as caught:
        h.map(body)
    assert "m@example.com" not in caught.value.message
