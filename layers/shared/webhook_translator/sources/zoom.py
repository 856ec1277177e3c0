"""Zoom — ``POST /webhooks/zoom``.

Signature: ``x-zm-signature: v0=<hex>``, HMAC-SHA256 of ``v0:{x-zm-request-timestamp}:{body}``
keyed with the app's *Secret Token*; timestamps more than 5 minutes away are refused.

URL validation: ``endpoint.url_validation`` (when the URL is saved, and again every 72 hours)
is answered here, synchronously and without queueing, with
``{"plainToken", "encryptedToken": hex HMAC-SHA256(plainToken)}`` — keyed with the secret that
verified the request, and only once it is verified (an unsigned challenge answered would
hand out the keyed hash of any text, a signature for a forged webhook).

Ids: ``{event}:{object id}:{person id}:{event_ts}`` is the webhook id (Zoom has no delivery id;
a retry carries the same body); ``distinctId`` = ``zoom:`` + it; ``time`` = ``event_ts`` (ms).

Events: registrations (``meeting.registration_created``, ``webinar.registration_created``) and
participants joining (``meeting.participant_joined``, ``webinar.participant_joined``).
Identity: the registrant's or participant's ``email``, names, phone, city/state/zip/country,
organisation and job title. Properties: the meeting or webinar (id, uuid, topic, type, start),
the registrant's status or the join time — never a join URL, comments or custom answers.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import BadRequest, MappingError, SignatureError
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, require, require_id
from webhook_translator.sources.common import Person, clean, fit_properties
from webhook_translator.sources.context import MapContext, MapResult, parse_model
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.sources import zoom_models as models
    from webhook_translator.sources.zoom_models import Attendee
else:  # the pydantic models: imported by the forwarder's first Zoom webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.zoom_models")

URL_VALIDATION = "endpoint.url_validation"
MEETING_REGISTERED = "meeting.registration_created"
WEBINAR_REGISTERED = "webinar.registration_created"
MEETING_JOINED = "meeting.participant_joined"
WEBINAR_JOINED = "webinar.participant_joined"
_REGISTRATIONS = frozenset({MEETING_REGISTERED, WEBINAR_REGISTERED})


def _person_of(obj: dict[str, Any]) -> dict[str, Any]:
    person = obj.get("registrant") or obj.get("participant")
    return person if isinstance(person, dict) else {}


def _person(who: Attendee) -> Person:
    person = Person()
    person.offer("email", who.email)
    person.offer("first_name", who.first_name)
    person.offer("last_name", who.last_name)
    if who.first_name is None:
        person.offer("full_name", who.user_name)
    for target, value in (
        ("phone_number", who.phone),
        ("city", who.city),
        ("state", who.state),
        ("zip", who.zip),
        ("country", who.country),
        ("company_name", who.org),
        ("job_title", who.job_title),
    ):
        person.offer(target, value)
    return person


class ZoomSource(HmacSource):
    name: ClassVar[str] = "zoom"
    title: ClassVar[str] = "Zoom"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="x-zm-signature",
        display_header="x-zm-signature",
        prefix="v0=",
        signed="v0:{t}:{body}",
        timestamp_header="x-zm-request-timestamp",
        tolerance=300,
    )
    events: ClassVar[dict[str, str]] = {
        MEETING_REGISTERED: "Meeting Registered",
        WEBINAR_REGISTERED: "Webinar Registered",
        MEETING_JOINED: "Meeting Joined",
        WEBINAR_JOINED: "Webinar Joined",
    }

    def handshake(self, request: InboundRequest, secrets: Sequence[str] = ()) -> dict[str, Any] | None:
        data = request.json()
        if not isinstance(data, dict) or data.get("event") != URL_VALIDATION:
            return None
        payload = data.get("payload")
        token = payload.get("plainToken") if isinstance(payload, dict) else None
        require(isinstance(token, str) and 0 < len(token) <= 200, "not a Zoom URL validation: missing plainToken")
        assert isinstance(token, str)
        key = self._verifying_secret(request, secrets)
        if key is None:  # a dry run (no secrets): the answer cannot be computed, only recognised
            return {"plainToken": token}
        encrypted = hmac.new(key.encode(), token.encode(), hashlib.sha256).hexdigest()
        return {"plainToken": token, "encryptedToken": encrypted}

    def _verifying_secret(self, request: InboundRequest, secrets: Sequence[str]) -> str | None:
        """The secret that signed ``request`` (the current one when Secret Tokens are rotated)."""
        for secret in secrets:
            try:
                self.scheme.verify(request, [secret])
            except SignatureError:
                continue
            return secret
        return None

    def webhook_id(self, request: InboundRequest) -> str | None:
        data = request.json()
        require(isinstance(data, dict), "not a Zoom webhook: expected a JSON object")
        event = data.get("event")
        if event not in self.events:
            return None
        payload = data.get("payload")
        obj = payload.get("object") if isinstance(payload, dict) else None
        require(isinstance(obj, dict), "not a Zoom webhook: missing payload.object")
        assert isinstance(obj, dict)
        who = _person_of(obj)
        object_id = require_id(obj.get("uuid") or obj.get("id"), "not a Zoom webhook: missing the meeting id")
        person_id = require_id(
            who.get("id") or who.get("participant_uuid") or who.get("email"), "not a Zoom webhook: missing the person"
        )
        ts = data.get("event_ts")
        if not isinstance(ts, int) or isinstance(ts, bool):
            raise BadRequest("not a Zoom webhook: missing event_ts")
        return f"{event}:{object_id}:{person_id}:{ts}"[:250]

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        data = envelope.json_body()
        kind = data.get("event") if isinstance(data, dict) else None
        if not isinstance(kind, str):
            raise MappingError("Zoom webhook does not match the expected shape (event)")
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        event = parse_model(models.ZoomEvent, data, "Zoom webhook")
        obj = event.payload.object
        registration = kind in _REGISTRATIONS
        who = obj.registrant if registration else obj.participant
        if who is None:
            part = "registrant" if registration else "participant"
            raise MappingError(f"Zoom webhook does not match the expected shape (payload.object.{part})")
        properties = {
            "meeting_id": clean(obj.id),
            "meeting_uuid": obj.uuid,
            "topic": obj.topic,
            "meeting_type": obj.type,
            "start_time": obj.start_time,
            "timezone": obj.timezone,
            "registrant_id": who.id if registration else None,
            "registrant_status": who.status if registration else None,
            "participant_uuid": None if registration else who.participant_uuid,
            "join_time": None if registration else who.join_time,
        }
        track = ctx.track(
            kind,
            distinct_id=f"zoom:{envelope.webhook_id}",
            time=event.event_ts,
            event_properties=fit_properties(properties),
            **_person(who).track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
