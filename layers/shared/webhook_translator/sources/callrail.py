"""CallRail — ``POST /webhooks/callrail`` (post-call, call modified, text message and form submission webhooks).

Signature: the ``signature`` header, HMAC-SHA1 of the raw body keyed with the company's webhook
token (*Integrations → Webhooks*). No timestamp. CallRail documents the digest, not its text
form, and no published request with its signature exists to settle it: both encodings of the
same 20-byte HMAC are accepted — base64 (28 characters, what CallRail's own example code prints;
what ``sign`` sends) and hex (40 characters).

The body is the API's object — a call, a text message or a form submission — without a type
field: the shape says which. Ids: ``resource_id`` (``CAL…``, ``SMS…``/``MSG…``, ``FRM…``; the
legacy ``id`` otherwise) is the webhook id; ``distinctId`` = ``callrail:{resource_id}``, so a
call-modified delivery of a call already sent maps onto the same Ours event (Ours keeps one).
``time``: ``start_time`` (calls), ``created_at`` (texts), ``submitted_at`` (forms).

Events: a call answered → ``Call Completed``, not answered (or sent to voicemail) → ``Call Missed``;
an inbound text → ``Text Received`` (outbound texts are skipped); a form → ``Form Submitted``.
Identity: the caller's phone (``customer_phone_number``; a text's ``source_number``), name,
city/state/country, a form's ``customer_email``; attribution ``gclid``, ``fbclid``, ``utm_*``.
Properties: call facts (answered, voicemail, first call, duration, direction, tracking number),
source, medium, campaign, landing page, referrer, lead status and value. **Never** a text's
body, a transcript, a call summary, a note, a recording URL, a form's answers, the search
keywords or the account's tags: they can carry health data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.sources.base import HmacSource, require, require_id
from webhook_translator.sources.common import Person, clean, fit_properties, iso_to_ms, scalar_text
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

CALL_COMPLETED = "call.completed"
CALL_MISSED = "call.missed"
TEXT_RECEIVED = "text.received"
TEXT_SENT = "text.sent"
FORM_SUBMITTED = "form.submitted"
_HEX_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_ATTRIBUTION = ("gclid", "fbclid", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
#: structured call/form fields kept as event properties (never free text, recordings or answers)
_PROPERTIES = (
    "direction",
    "answered",
    "voicemail",
    "first_call",
    "first_form",
    "duration",
    "call_type",
    "tracking_phone_number",
    "business_phone_number",
    "source",
    "source_name",
    "medium",
    "campaign",
    "landing_page_url",
    "referrer_domain",
    "referring_url",
    "form_url",
    "lead_status",
    "value",
    "device_type",
    "company_resource_id",
    "tracker_resource_id",
    "person_resource_id",
    "thread_resource_id",
)


def kind_of(data: dict[str, Any]) -> str | None:
    """The webhook's type from the object's shape; None when it is none of CallRail's."""
    if "form_data" in data or "form_url" in data or "submitted_at" in data:
        return FORM_SUBMITTED
    if "thread_resource_id" in data or "content" in data:
        outbound = (clean(data.get("direction")) or "").lower() == "outbound"
        return TEXT_SENT if outbound else TEXT_RECEIVED
    if "answered" in data or "call_type" in data or "duration" in data:
        missed = data.get("answered") is not True or data.get("voicemail") is True
        return CALL_MISSED if missed else CALL_COMPLETED
    return None


def _resource_id(data: dict[str, Any]) -> Any:
    return data.get("resource_id") or data.get("id")


def _time(kind: str, data: dict[str, Any], envelope: Envelope) -> int:
    key = "submitted_at" if kind == FORM_SUBMITTED else "created_at" if kind == TEXT_RECEIVED else "start_time"
    value = clean(data.get(key))
    return iso_to_ms(value) if value else envelope.received_at_ms


def _person(kind: str, data: dict[str, Any]) -> Person:
    person = Person()
    person.offer("email", data.get("customer_email"))
    phone = data.get("customer_phone_number")
    if kind == TEXT_RECEIVED:
        phone = phone or data.get("source_number")
    person.offer("phone_number", phone)
    person.offer("full_name", data.get("customer_name"))
    person.offer("city", data.get("customer_city"))
    person.offer("state", data.get("customer_state"))
    person.offer("country", data.get("customer_country"))
    for key in _ATTRIBUTION:
        person.offer(key, data.get(key))
    return person


def _properties(data: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {"callrail_id": clean(_resource_id(data))}
    for key in _PROPERTIES:
        value = data.get(key)
        properties[key] = value if isinstance(value, (bool, int, float)) else scalar_text(value)
    return properties


class CallRailSource(HmacSource):
    name: ClassVar[str] = "callrail"
    title: ClassVar[str] = "CallRail"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="signature", display_header="Signature", digest="sha1", encoding="base64"
    )
    hex_scheme: ClassVar[HmacScheme] = HmacScheme(header="signature", display_header="Signature", digest="sha1")
    events: ClassVar[dict[str, str]] = {
        CALL_COMPLETED: "Call Completed",
        CALL_MISSED: "Call Missed",
        TEXT_RECEIVED: "Text Received",
        FORM_SUBMITTED: "Form Submitted",
    }

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        value = (request.header("signature") or "").strip()
        (self.hex_scheme if _HEX_SHA1.match(value) else self.scheme).verify(request, secrets)

    def webhook_id(self, request: InboundRequest) -> str | None:
        data = request.json()
        require(isinstance(data, dict), "not a CallRail webhook: expected a JSON object")
        require(kind_of(data) is not None, "not a CallRail call, text message or form submission")
        return require_id(_resource_id(data), "not a CallRail webhook: missing resource_id")

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        data = envelope.json_body()
        kind = kind_of(data) if isinstance(data, dict) else None
        if kind is None:
            raise MappingError("CallRail webhook does not match the expected shape (a call, text or form)")
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        resource_id = clean(_resource_id(data))
        if resource_id is None:
            raise MappingError("CallRail webhook does not match the expected shape (resource_id)")
        track = ctx.track(
            kind,
            distinct_id=f"callrail:{resource_id}",
            time=_time(kind, data, envelope),
            event_properties=fit_properties(_properties(data)),
            **_person(kind, data).track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
