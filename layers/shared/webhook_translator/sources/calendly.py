"""Calendly — ``POST /webhooks/calendly``.

Signature: ``Calendly-Webhook-Signature: t=<s>,v1=<hex>``, HMAC-SHA256 over
``{t}.{body}`` with the subscription's signing key; timestamps more than 180 s
(Calendly's ~3 min) away from our clock are refused.

Ids: ``{event}:{payload.uri}`` is the webhook id (Calendly has no delivery id; a
reschedule fires ``invitee.canceled`` for the old invitee and ``invitee.created``
for the new one, so the pair is unique); ``distinctId`` = ``calendly:{event}:{payload.uri}``;
``time`` = ``created_at``.

Identity: ``payload.email``, ``first_name`` / ``last_name`` (else ``name``), the
``text_reminder_number`` (phone), ``tracking.utm_*`` / ``ours_user_id`` first; then the
answers to the booking's (or routing form's) questions through the shared resolver
(:mod:`.identity`: "Company", "Teléfono", "Email of contact person"…; options ``fields``,
``consent``, ``synonyms``, ``include``, per event type or routing form URI under ``forms``).
Properties: the meeting (name, start, end, status, location type, event type),
cancellation, routing result; question answers are free text, so they go to ``answers``
only when option ``include`` names their question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, ModelRef, mapped_part, require_id
from webhook_translator.sources.common import Person, fit_properties, iso_to_ms
from webhook_translator.sources.context import MapContext, MapResult, parse_body, parse_model
from webhook_translator.sources.forms import form_policy
from webhook_translator.sources.identity import Answer
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.sources import calendly_models as models
    from webhook_translator.sources.calendly_models import (
        Cancellation,
        Payload,
        QuestionAnswer,
        RoutingResult,
        ScheduledEvent,
    )
else:  # the pydantic models: imported by the forwarder's first Calendly webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.calendly_models")

CREATED = "invitee.created"
CANCELED = "invitee.canceled"
NO_SHOW = "invitee_no_show.created"
ROUTING = "routing_form_submission.created"


# --- the mapper's steps: identity and user properties → answers → event properties ----------------

_UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _person(payload: Payload, tracking: dict[str, Any]) -> Person:
    """The invitee's (or submitter's) identity and user properties, from its own fields and its tracking."""
    person = Person()
    person.offer("user_id", tracking.get("ours_user_id"))
    person.offer("email", payload.email)
    person.offer("first_name", payload.first_name)
    person.offer("last_name", payload.last_name)
    person.offer("full_name", payload.name)
    person.offer("phone_number", payload.text_reminder_number)
    for key in _UTM_KEYS:
        person.offer(key, tracking.get(key))
    return person


def _answers(items: list[QuestionAnswer]) -> list[Answer]:
    """The non-empty answers, keyed and labelled by their question (Calendly sends no types: text)."""
    return [
        Answer(key=(item.question or "").strip() or "answer", label=item.question, kind="text", value=item.answer)
        for item in items
        if item.answer is not None and item.answer not in ("", [])
    ]


def _form_id(payload: Payload) -> str | None:
    """What ``forms`` options are keyed by: the event type's URI (invitees) or the routing form's."""
    if payload.routing_form:
        return payload.routing_form
    return payload.scheduled_event.event_type if payload.scheduled_event else None


def _event_properties(kind: str, payload: Payload, tracking: dict[str, Any], answers: dict[str, Any]) -> dict[str, Any]:
    routing = kind == ROUTING
    return {
        "invitee_uri": None if routing else payload.uri,
        **_meeting(payload.scheduled_event, payload.event),
        "invitee_status": payload.status,
        "timezone": payload.timezone,
        "rescheduled": payload.rescheduled,
        "old_invitee_uri": payload.old_invitee,
        "new_invitee_uri": payload.new_invitee,
        **_cancellation(payload.cancellation),
        "routing_form_uri": payload.routing_form,
        "routing_form_submission_uri": payload.uri if routing else None,
        **_routing_result(payload.result),
        "salesforce_uuid": tracking.get("salesforce_uuid"),
        "answers": answers or None,
    }


def _meeting(meeting: ScheduledEvent | None, event_uri: str | None) -> dict[str, Any]:
    """The scheduled meeting's properties (a meeting's missing ones are omitted, as every unknown)."""
    if meeting is None:
        return {"scheduled_event_uri": event_uri}
    return {
        "scheduled_event_uri": meeting.uri or event_uri,
        "meeting_name": meeting.name,
        "meeting_start": meeting.start_time,
        "meeting_end": meeting.end_time,
        "meeting_status": meeting.status,
        "event_type_uri": meeting.event_type,
        "location_type": meeting.location.type if meeting.location else None,
    }


def _cancellation(cancellation: Cancellation | None) -> dict[str, Any]:
    if cancellation is None:
        return {}
    return {"canceler_type": cancellation.canceler_type, "cancel_reason": cancellation.reason}


def _routing_result(result: RoutingResult | None) -> dict[str, Any]:
    if result is None:
        return {}
    return {"routing_result_type": result.type, "routing_result": result.value}


class CalendlySource(HmacSource):
    name: ClassVar[str] = "calendly"
    options_model = ModelRef("webhook_translator.sources.forms_models:FormOptions")
    title: ClassVar[str] = "Calendly"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="calendly-webhook-signature",
        display_header="Calendly-Webhook-Signature",
        signed="{t}.{body}",
        layout="kv",
        encoding="hex",
        tolerance=180,
    )
    events: ClassVar[dict[str, str]] = {
        CREATED: "Meeting Scheduled",
        CANCELED: "Meeting Canceled",
        NO_SHOW: "Meeting No-Show",
        ROUTING: "Routing Form Submitted",
    }

    def webhook_id(self, request: InboundRequest) -> str | None:
        found = mapped_part(self, request, type_key="event", part="payload")
        if found is None:
            return None  # acknowledged, then skipped by the mapper
        kind, inner = found
        uri = require_id(inner.get("uri"), "not a Calendly webhook: missing payload.uri", max_length=220)
        return f"{kind}:{uri}"

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        event = parse_body(models.CalendlyEvent, envelope, "Calendly webhook")
        kind = event.event
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        if event.payload is None:
            raise MappingError("Calendly webhook does not match the expected shape (payload)")
        payload = parse_model(models.Payload, event.payload, "Calendly payload")
        policy = form_policy(ctx, _form_id(payload))
        tracking = payload.tracking or {}
        rows = _answers(payload.questions_and_answers)
        resolution = policy.resolve(rows, _person(payload, tracking))
        answers, _ = policy.properties(rows, resolution)
        track = ctx.track(
            kind,
            distinct_id=f"calendly:{kind}:{payload.uri}",
            time=iso_to_ms(event.created_at),
            event_properties=fit_properties(_event_properties(kind, payload, tracking, answers)),
            **resolution.track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
