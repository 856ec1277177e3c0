"""Cal.com — ``POST /webhooks/calcom``.

Signature: ``X-Cal-Signature-256``, hex HMAC-SHA256 of the raw body keyed with the webhook's
secret. A webhook saved without a secret sends ``no-secret-provided`` there: refused (401).

Cal.com delivers each webhook **once** (no retry): the receiver's 2xx comes only after the raw
body is queued, and the body must be the default JSON payload ``{triggerEvent, createdAt,
payload}``. A custom payload template that is not JSON arrives form-encoded: refused with a 415
that says to clear the template (the mapping needs Cal.com's own fields).

Ids: ``{triggerEvent}:{payload.uid}`` (``bookingUid`` for no-shows; ``:{rescheduleUid}`` added when
present) is the webhook id; a routing form submission has none (the body hash is used);
``distinctId`` = ``calcom:`` + the webhook id; ``time`` = ``createdAt``. ``PING`` is skipped.

Identity: the first attendee's ``email``, ``name`` and ``timeZone``; the booking questions'
``responses`` (``email``, ``name``, ``attendeePhoneNumber``); ``metadata`` ``utm_*`` and
``ours_user_id``. Properties: booking uid and id, event type (id, slug, title), start, end,
status, length, price and currency, reschedule uid, payment id, no-show flags, routing form id
and name — never the notes, the title (it holds the attendee's name), the location, a
cancellation reason or the other answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError, SignatureError, UnsupportedMediaType
from webhook_translator.sources.base import HmacSource, require, require_id
from webhook_translator.sources.common import Person, clean, fit_properties, iso_to_ms
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

NO_SECRET = "no-secret-provided"
URLENCODED = "application/x-www-form-urlencoded"
CREATED = "BOOKING_CREATED"
RESCHEDULED = "BOOKING_RESCHEDULED"
CANCELLED = "BOOKING_CANCELLED"
NO_SHOW = "BOOKING_NO_SHOW_UPDATED"
PAID = "BOOKING_PAID"
FORM = "FORM_SUBMITTED"
_UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _answer(responses: dict[str, Any], key: str) -> Any:
    """A booking question's answer: ``{"label", "value"}`` in bookings, the plain value in routing forms."""
    raw = responses.get(key)
    return raw.get("value") if isinstance(raw, dict) else raw


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _person(payload: dict[str, Any]) -> Person:
    attendees = payload.get("attendees")
    first = _dict(attendees[0]) if isinstance(attendees, list) and attendees else {}
    responses, metadata = _dict(payload.get("responses")), _dict(payload.get("metadata"))
    person = Person()
    person.offer("user_id", metadata.get("ours_user_id"))
    person.offer("email", first.get("email"))
    person.offer("email", _answer(responses, "email"))
    person.offer("full_name", first.get("name") or _answer(responses, "name"))
    person.offer("phone_number", _answer(responses, "attendeePhoneNumber") or first.get("phoneNumber"))
    for key in _UTM:
        person.offer(key, metadata.get(key))
    return person


def _properties(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    raw = payload.get("attendees")
    attendees = raw if isinstance(raw, list) else []
    no_show = [bool(a.get("noShow")) for a in attendees if isinstance(a, dict)] if kind == NO_SHOW else []
    first = _dict(attendees[0]) if attendees else {}
    return {
        "booking_uid": clean(payload.get("uid") or payload.get("bookingUid")),
        "booking_id": clean(payload.get("bookingId") or payload.get("id")),
        "event_type_id": clean(payload.get("eventTypeId")),
        "event_type": clean(payload.get("type")),
        "event_title": clean(payload.get("eventTitle")),
        "start_time": clean(payload.get("startTime")),
        "end_time": clean(payload.get("endTime")),
        "status": clean(payload.get("status")),
        "length": payload.get("length") if isinstance(payload.get("length"), int) else None,
        "price": payload.get("price") if isinstance(payload.get("price"), (int, float)) else None,
        "currency": clean(payload.get("currency")),
        "time_zone": clean(first.get("timeZone")),
        "reschedule_uid": clean(payload.get("rescheduleUid")),
        "payment_id": clean(payload.get("paymentId")),
        "no_show": no_show[0] if no_show else None,
        "form_id": clean(payload.get("formId")) if kind == FORM else None,
        "form_name": clean(payload.get("formName")) if kind == FORM else None,
    }


class CalComSource(HmacSource):
    name: ClassVar[str] = "calcom"
    title: ClassVar[str] = "Cal.com"
    content_types: ClassVar[tuple[str, ...]] = ("application/json", URLENCODED)
    scheme: ClassVar[HmacScheme] = HmacScheme(header="x-cal-signature-256", display_header="X-Cal-Signature-256")
    events: ClassVar[dict[str, str]] = {
        CREATED: "Meeting Scheduled",
        RESCHEDULED: "Meeting Rescheduled",
        CANCELLED: "Meeting Canceled",
        NO_SHOW: "Meeting No-Show",
        PAID: "Booking Paid",
        FORM: "Routing Form Submitted",
    }

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        if (request.header("x-cal-signature-256") or "").strip() == NO_SECRET:
            raise SignatureError(
                "Cal.com sent no signature (no-secret-provided): set a secret on the webhook",
                reason="missing_signature",
            )
        self.scheme.verify(request, secrets)

    def webhook_id(self, request: InboundRequest) -> str | None:
        if request.content_type == URLENCODED:
            raise UnsupportedMediaType(
                "a custom Cal.com payload template that is not JSON cannot be mapped: clear the webhook's template"
            )
        data = request.json()
        require(isinstance(data, dict), "not a Cal.com webhook: expected a JSON object")
        kind, payload = data.get("triggerEvent"), data.get("payload")
        require(isinstance(kind, str) and kind, "not a Cal.com webhook: missing triggerEvent (a custom template?)")
        if kind not in self.events or kind == FORM:
            return None  # skipped (PING…), or a form submission keyed on its body
        require(isinstance(payload, dict), "not a Cal.com webhook: missing payload")
        assert isinstance(payload, dict)
        uid = require_id(payload.get("uid") or payload.get("bookingUid"), "not a Cal.com booking: missing payload.uid")
        reschedule = clean(payload.get("rescheduleUid"))
        return f"{kind}:{uid}" + (f":{require_id(reschedule, 'malformed rescheduleUid')}" if reschedule else "")

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        data = envelope.json_body()
        kind = data.get("triggerEvent") if isinstance(data, dict) else None
        if not isinstance(kind, str) or not kind:
            raise MappingError("Cal.com webhook does not match the expected shape (triggerEvent)")
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        payload, created = data.get("payload"), data.get("createdAt")
        if not isinstance(payload, dict) or not isinstance(created, str):
            raise MappingError("Cal.com webhook does not match the expected shape (payload, createdAt)")
        track = ctx.track(
            kind,
            distinct_id=f"calcom:{envelope.webhook_id}",
            time=iso_to_ms(created),
            event_properties=fit_properties(_properties(kind, payload)),
            **_person(payload).track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
