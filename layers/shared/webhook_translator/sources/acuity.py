"""Acuity Scheduling — ``POST /webhooks/acuity`` (a thin webhook: the appointment is fetched).

Signature: ``X-Acuity-Signature``, base64 HMAC-SHA256 of the raw body keyed with the account's
**API key** (so the API key is both the source's ``signing_secrets`` entry and its ``api_token``).

Body (Acuity's "Webhooks" documentation): form-encoded ``action``
(``scheduled``, ``rescheduled``, ``canceled``, ``changed``, ``order.completed``), ``id``,
``calendarID``, ``appointmentTypeID``. The appointment is fetched:
``GET {api_base_url}/appointments/{id}`` with Basic ``api_user:api_token`` (user id : API key) →
``email``, ``phone``, ``firstName``, ``lastName``, ``datetime``, ``type``… Its intake form answers
(``forms``, ``formsText``), ``notes``, ``location`` and ``confirmationPage`` are never read.

``changed`` fires on every edit of an appointment: skipped unless the option ``map_changed`` is
true. ``order.completed`` (a package or gift purchase, not an appointment) is acknowledged and skipped.

Ids: Acuity sends none. The webhook id is ``{action}:{id}``; ``distinctId`` is
``acuity:{action}:{id}``, with the fetched start time for a reschedule (each reschedule is its
own event) and a hash of the mapped fields for ``changed``. ``time``: when the receiver took it in.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, quote

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.fetch import FetchRequest
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, ModelRef, require, require_id
from webhook_translator.sources.common import Person, compact
from webhook_translator.sources.context import MapContext, MapResult, parse_model
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.sources import acuity_models as models
    from webhook_translator.sources.acuity_models import Appointment
else:  # the pydantic models: imported by the forwarder's first Acuity webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.acuity_models")

SCHEDULED = "scheduled"
RESCHEDULED = "rescheduled"
CANCELED = "canceled"
CHANGED = "changed"
DEFAULT_ACUITY_URL = "https://acuityscheduling.com/api/v1"
FORM = "application/x-www-form-urlencoded"


def notification(body: bytes) -> dict[str, str]:
    """The form fields of a notification (the first value of each); :class:`MappingError` if not a form."""
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise MappingError("Acuity notification is not a form") from None
    return {k: v[0] for k, v in fields.items() if v}


def _person(appointment: Appointment) -> Person:
    person = Person()
    person.offer("email", appointment.email)
    person.offer("phone_number", appointment.phone)
    person.offer("first_name", appointment.firstName)
    person.offer("last_name", appointment.lastName)
    return person


def _properties(appointment: Appointment, form: dict[str, str]) -> dict[str, Any]:
    return compact(
        {
            "appointment_id": str(appointment.id),
            "appointment_type": appointment.type,
            "appointment_type_id": _text(appointment.appointmentTypeID) or form.get("appointmentTypeID"),
            "calendar_id": _text(appointment.calendarID) or form.get("calendarID"),
            "start": appointment.datetime,
            "duration_minutes": _int(appointment.duration),
            "timezone": appointment.timezone,
            "price": appointment.price,
            "paid": appointment.paid,
            "amount_paid": appointment.amountPaid,
            "canceled": appointment.canceled,
        }
    )


def _text(value: int | str | None) -> str | None:
    return str(value) if value is not None and str(value).strip() else None


def _int(value: int | str | None) -> int | None:
    text = _text(value)
    return int(text) if text is not None and text.isdigit() else None


class AcuitySource(HmacSource):
    name: ClassVar[str] = "acuity"
    title: ClassVar[str] = "Acuity Scheduling"
    content_types: ClassVar[tuple[str, ...]] = (FORM,)
    fetches: ClassVar[bool] = True
    options_model = ModelRef("webhook_translator.sources.acuity_models:AcuityOptions")
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="x-acuity-signature", display_header="X-Acuity-Signature", encoding="base64"
    )
    events: ClassVar[dict[str, str]] = {
        SCHEDULED: "Meeting Scheduled",
        RESCHEDULED: "Meeting Rescheduled",
        CANCELED: "Meeting Canceled",
        CHANGED: "Appointment Changed",
    }

    def webhook_id(self, request: InboundRequest) -> str | None:
        try:
            form = notification(request.body)
        except MappingError:
            form = {}
        action = require_id(form.get("action"), "not an Acuity notification: missing action", max_length=40)
        ident = require_id(form.get("id"), "not an Acuity notification: missing id", max_length=40)
        require(ident.isdigit(), "not an Acuity notification: id is not a number")
        return f"{action}:{ident}"

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        form = notification(envelope.raw_body)
        action, ident = form.get("action") or "-", (form.get("id") or "").strip()
        if (skipped := ctx.unmapped(action)) is not None:
            return skipped
        options = ctx.options(models.AcuityOptions)
        if action == CHANGED and not options.map_changed:
            return ctx.skip(action, "changed_not_mapped")
        if not ident.isdigit():
            raise MappingError("Acuity notification has no appointment id")
        answer = ctx.fetch(
            FetchRequest(
                source=self.name,
                base_url=options.api_base_url,
                path=f"/appointments/{quote(ident, safe='')}",
                what="appointment",
                auth="basic",
            )
        )
        appointment = parse_model(models.Appointment, answer, "Acuity appointment")
        properties = _properties(appointment, form)
        identity = _person(appointment).track_fields()
        distinct_id = f"acuity:{action}:{ident}"
        if action == RESCHEDULED:
            distinct_id += f":{appointment.datetime or 'unknown'}"
        elif action == CHANGED:  # one event per distinct state of the appointment
            state = json.dumps([properties, identity], sort_keys=True, default=str).encode()
            distinct_id += f":{hashlib.sha256(state).hexdigest()[:16]}"
        track = ctx.track(
            action, distinct_id=distinct_id, time=envelope.received_at_ms, event_properties=properties, **identity
        )
        return MapResult(event_type=action, events=(track,))
