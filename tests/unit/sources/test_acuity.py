"""Acuity Scheduling: the form-encoded notification, its signature keyed with the API key, the fetched
appointment mapped, ``changed`` skipped by default, intake form answers never forwarded.

Shapes: the notification from Acuity's "Webhooks" documentation (``action``, ``id``, ``calendarID``,
``appointmentTypeID``, form-encoded; ``X-Acuity-Signature`` = base64 HMAC-SHA256 of the body with the
API key); the appointment from its API reference (``GET /appointments/{id}``), served by the local
Acuity fake's seeded appointments (``tools/webhook_translator_tools/local/acuity-appointments.json``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.config import SourceConfig
from webhook_translator.errors import BadRequest, SignatureError
from webhook_translator.fetch import FetchRequest
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator_tools.local.acuity_server import LocalAcuity

API_KEY = "acuity-api-key-0123456789"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("acuity")


def note(action: str, ident: str = "1203456789") -> bytes:
    return f"action={action}&id={ident}&calendarID=6032114&appointmentTypeID=18733412".encode()


def signature(raw: bytes, key: str = API_KEY) -> dict[str, str]:
    """Acuity's scheme, computed here independently."""
    return {"X-Acuity-Signature": base64.b64encode(hmac.new(key.encode(), raw, hashlib.sha256).digest()).decode()}


class Acuity:
    def __init__(self, appointments: dict[str, Any] | None = None) -> None:
        self.fake = LocalAcuity(appointments=appointments) if appointments is not None else LocalAcuity()
        self.asked: list[FetchRequest] = []

    def __call__(self, request: FetchRequest) -> dict[str, Any]:
        self.asked.append(request)
        answer = self.fake.route(request.path, dict(request.params), {"authorization": "Basic dTprZXk="})
        assert answer.status == 200
        return dict(answer.body)


def mapped(h: Any, raw: bytes, fetch: Acuity | None = None, config: dict[str, Any] | None = None) -> MapResult:
    ctx = MapContext(
        source=h.source,
        now_ms=h.now_ms,
        config=SourceConfig.model_validate(config or {}),
        fetcher=fetch if fetch is not None else Acuity(),
    )
    return h.source.map(h.envelope(raw, content_type=FORM), ctx)  # type: ignore[no-any-return]


# --- the notification ----------------------------------------------------------------------------


def test_a_notification_signed_with_the_api_key_is_queued(h: Any) -> None:
    raw = note("scheduled")
    status, answer, envelope = h.receive(raw, {"Content-Type": FORM, **signature(raw)}, secrets=[API_KEY])
    assert (status, answer) == (200, {"received": True, "id": "scheduled:1203456789"})
    assert envelope is not None
    assert envelope.raw_body == raw


@pytest.mark.parametrize(
    "headers",
    [{}, signature(note("scheduled"), "another-key"), {"X-Acuity-Signature": "not base64!"}],
    ids=["missing", "other key", "malformed"],
)
def test_a_bad_signature_is_refused(h: Any, headers: dict[str, str]) -> None:
    with pytest.raises(SignatureError):
        h.source.verify(h.request(note("scheduled"), headers, content_type=FORM), [API_KEY])


def test_json_is_not_what_acuity_sends(h: Any) -> None:
    raw = b'{"action":"scheduled","id":1}'
    status, _, envelope = h.receive(raw, {"Content-Type": "application/json", **signature(raw)}, secrets=[API_KEY])
    assert status == 415
    assert envelope is None


@pytest.mark.parametrize(
    "raw", [b"action=scheduled", b"id=12", b"action=scheduled&id=abc"], ids=["no id", "no action", "id"]
)
def test_a_notification_without_action_or_numeric_id_is_a_400(h: Any, raw: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(raw, content_type=FORM))


# --- the appointment -------------------------------------------------------------------------------


def test_a_booking_is_fetched_and_mapped_without_its_intake_answers(h: Any) -> None:
    acuity = Acuity()
    [event] = [e.to_ours() for e in mapped(h, note("scheduled"), acuity).events]
    [asked] = acuity.asked
    assert (asked.path, asked.auth, asked.base_url) == (
        "/appointments/1203456789",
        "basic",
        "https://acuityscheduling.com/api/v1",
    )
    assert event["event"] == "Meeting Scheduled"
    assert event["distinctId"] == "acuity:scheduled:1203456789"
    assert event["time"] == h.now_ms - 60_000  # Acuity sends no time: when the receiver took it in
    assert event["email"] == "priya.natarajan@example.com"
    assert event["eventProperties"]["start"] == "2026-11-20T10:15:00-0600"
    text = json.dumps(event)
    for private in ("Asthma", "penicillin", "Medical history", "First visit", "needles", "Harbour", "schedule.php"):
        assert private not in text


def test_each_reschedule_is_its_own_event(h: Any) -> None:
    first = Acuity()
    moved = dict(first.fake.appointments)
    moved["1203456789"] = {**moved["1203456789"], "datetime": "2026-11-21T09:00:00-0600"}
    [a] = mapped(h, note("rescheduled"), first).events
    [b] = mapped(h, note("rescheduled"), Acuity(moved)).events
    assert a.distinct_id == "acuity:rescheduled:1203456789:2026-11-20T10:15:00-0600"
    assert b.distinct_id != a.distinct_id
    assert a.event == "Meeting Rescheduled"


def test_a_cancelation_maps_to_meeting_canceled(h: Any) -> None:
    [event] = mapped(h, note("canceled", "1203456790")).events
    body = event.to_ours()
    assert (body["event"], body["eventProperties"]["canceled"]) == ("Meeting Canceled", True)


def test_changed_is_skipped_by_default_and_nothing_is_fetched(h: Any) -> None:
    acuity = Acuity()
    assert mapped(h, note("changed"), acuity).skipped == "changed_not_mapped"
    assert acuity.asked == []


def test_changed_maps_when_asked_one_event_per_state(h: Any) -> None:
    config = {"options": {"map_changed": True}}
    [a] = mapped(h, note("changed"), config=config).events
    [again] = mapped(h, note("changed"), config=config).events
    edited = dict(LocalAcuity().appointments)
    edited["1203456789"] = {**edited["1203456789"], "email": "priya.n@example.com"}
    [b] = mapped(h, note("changed"), Acuity(edited), config=config).events
    assert a.event == "Appointment Changed"
    assert a.distinct_id == again.distinct_id != b.distinct_id


def test_order_completed_is_acknowledged_and_skipped(h: Any) -> None:
    acuity = Acuity()
    assert mapped(h, note("order.completed"), acuity).skipped == "ignored_type"
    assert acuity.asked == []
