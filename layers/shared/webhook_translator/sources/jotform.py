"""Jotform — ``POST /webhooks/jotform?key=<token>``.

Jotform does not sign its webhooks. The webhook URL carries a long random token
(``?key=…``, or a ``X-Webhook-Token`` header from senders that can set one),
compared in constant time with the source's ``signing_secrets`` (:mod:`.tokens`, shared with
gravityforms and wpforms); a missing or wrong token is a 401 — there is no unverified mode.

Body: ``multipart/form-data`` (``application/x-www-form-urlencoded`` accepted too)
with ``formID``, ``submissionID``, ``formTitle``, ``ip`` and ``rawRequest`` — a JSON
*string* of the answers keyed ``q<n>_<field name>``: ``q3_name{first,last}``,
``q4_email``, ``q5_phone{full}``, ``q6_address{addr_line1,city,state,postal,country}``…

Ids: ``submissionID`` is the webhook id; ``distinctId`` = ``jotform:{submissionID}``;
``time`` = the receive time (Jotform sends none it documents).

Identity: widgets by shape (a name's first/last, a phone's full number, an address's
city/state/postal/country — the street is not sent), then every other field by its field
name through the shared resolver (:mod:`.identity`: "email", "email5", "companyName",
"utm_source", "ours_user_id"…; options ``fields``, ``consent``, ``synonyms``, ``include``, per
form under ``forms[<formID>]``). The submitter's ``ip`` goes to ``defaultProperties.ip``.
Properties: ``form_id``, ``form_title`` and — minimised — the structured answers by field
name (``answers``: checkbox lists, dates, numbers); Jotform sends no field types, so plain
text answers and uploads (lists of links) only when option ``include`` names them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import BadRequest, MappingError
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import ModelRef, Source, require_id
from webhook_translator.sources.common import Person, clean, fit_properties
from webhook_translator.sources.context import MapContext, MapResult, parse_model
from webhook_translator.sources.forms import form_policy
from webhook_translator.sources.identity import Answer, Kind
from webhook_translator.sources.multipart import parse_form
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.tokens import verify_token

if TYPE_CHECKING:
    from webhook_translator.sources import jotform_models as models
    from webhook_translator.sources.jotform_models import Submission
else:  # the pydantic models: imported by the forwarder's first Jotform webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.jotform_models")

SUBMISSION = "submission"
MULTIPART = "multipart/form-data"
URLENCODED = "application/x-www-form-urlencoded"
_ANSWER_KEY = re.compile(r"^q\d+_(.+)$")
_TRAILING_DIGITS = re.compile(r"\d+$")
_EMPTY: tuple[Any, ...] = ("", [], {})  # an answer left empty


def _name(value: dict[str, Any]) -> bool:
    return "first" in value or "last" in value


def _phone(value: dict[str, Any]) -> str | None:
    full = clean(value.get("full"))
    if full:
        return full
    parts = [clean(value.get(k)) for k in ("country", "area", "phone")]
    return clean(" ".join(p for p in parts if p)) if clean(value.get("phone")) else None


def _address(value: dict[str, Any]) -> bool:
    return "addr_line1" in value or "postal" in value or "city" in value


# --- the mapper's steps: the submission's answers → identity and user properties, or answers -----

#: an address widget's part → the user property it fills
_ADDRESS_PARTS = (("city", "city"), ("state", "state"), ("postal", "zip"), ("country", "country"))


def _raw_request(submission: Submission) -> dict[str, Any]:
    """The submission's answers: its ``rawRequest`` JSON object."""
    try:
        raw = json.loads(submission.rawRequest)
    except ValueError:
        raise MappingError("Jotform rawRequest is not JSON") from None
    if not isinstance(raw, dict):
        raise MappingError("Jotform rawRequest is not a JSON object")
    return raw


@lru_cache(maxsize=1024)
def _field_names(key: str) -> tuple[str, str] | None:
    """(field name, label) of an answer key ``q<n>_<field>`` — the label without the name's trailing digits,
    for matching; None for Jotform's own keys (slug, event_id, path…). Cached: a form's keys repeat."""
    match = _ANSWER_KEY.match(key)
    if match is None:
        return None
    field = match.group(1)
    return field, _TRAILING_DIGITS.sub("", field) or field


def _answers(raw: dict[str, Any], person: Person) -> list[Answer]:
    """The non-empty answers (``q<n>_<field>``): name, phone and address widgets offered to ``person`` by
    their shape; the others as answers keyed by field name (its trailing digits dropped for matching)."""
    rows: list[Answer] = []
    for key, value in raw.items():
        names = _field_names(key)
        if names is None or value is None or value in _EMPTY:
            continue  # Jotform's own bookkeeping or an empty answer
        if type(value) is str:  # the most answers: text, as _kind_value reads it
            rows.append(Answer(names[0], names[1], "text", value))
            continue
        if isinstance(value, dict) and _offer_widget(person, value):
            continue
        kind, shown = _kind_value(value)
        rows.append(Answer(names[0], names[1], kind, shown))
    return rows


def _kind_value(value: Any) -> tuple[Kind, Any]:
    """Jotform sends no types: a date widget is a date, a list of links is a file upload, another list a
    choice, numbers and booleans are structured, any other text is free text."""
    if isinstance(value, bool):
        return "boolean", value
    if isinstance(value, (int, float)):
        return "number", value
    if isinstance(value, list):
        links = any(isinstance(v, str) and v.startswith(("http://", "https://")) for v in value)
        return ("file" if links else "choice"), value
    if isinstance(value, dict):
        if {"year", "month", "day"} <= set(value):
            parts = [clean(value.get(k)) for k in ("year", "month", "day")]
            return "date", "-".join(p.zfill(2) for p in parts if p) if all(parts) else None
        return "other", value
    return "text", value


def _offer_widget(person: Person, value: dict[str, Any]) -> bool:
    """Offer a name, phone or address widget's parts to ``person``; False when ``value`` is none of them."""
    if _name(value):
        person.offer("first_name", value.get("first"))
        person.offer("last_name", value.get("last"))
        return True
    phone = _phone(value)
    if phone is not None:
        person.offer("phone_number", phone)
        return True
    if _address(value):
        for part, where in _ADDRESS_PARTS:
            person.offer(where, value.get(part))
        return True
    return False


class JotformSource(Source):
    name: ClassVar[str] = "jotform"
    options_model = ModelRef("webhook_translator.sources.forms_models:FormOptions")
    title: ClassVar[str] = "Jotform"
    content_types: ClassVar[tuple[str, ...]] = (MULTIPART, URLENCODED)
    events: ClassVar[dict[str, str]] = {SUBMISSION: "Form Submitted"}

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        verify_token(request, secrets)

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        if body.startswith(b"--"):
            boundary = body[2:].split(b"\n", 1)[0].strip().decode("ascii", "replace")
            content_type = f'{MULTIPART}; boundary="{boundary}"'
        else:
            content_type = URLENCODED
        return {"Content-Type": content_type, "X-Webhook-Token": secret}

    def webhook_id(self, request: InboundRequest) -> str:
        try:
            fields = parse_form(request.header("content-type") or "", request.body)
        except (ValueError, UnicodeDecodeError, LookupError):
            raise BadRequest("not a Jotform webhook: the body is not a form post") from None
        return require_id(fields.get("submissionID"), "not a Jotform webhook: missing submissionID")

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        if ctx.dropped(SUBMISSION):
            return ctx.skip(SUBMISSION, "dropped_by_config")
        try:
            fields = parse_form(envelope.content_type, envelope.raw_body)
        except (ValueError, UnicodeDecodeError, LookupError):
            raise MappingError("Jotform webhook is not a form post") from None
        submission = parse_model(models.Submission, fields, "Jotform webhook")
        raw = _raw_request(submission)
        policy = form_policy(ctx, submission.formID)
        person = Person()
        rows = _answers(raw, person)
        resolution = policy.resolve(rows, person)
        answers, _ = policy.properties(rows, resolution)
        properties = {"form_id": submission.formID, "form_title": submission.formTitle, "answers": answers or None}
        ip = clean(submission.ip)
        track = ctx.track(
            SUBMISSION,
            distinct_id=f"jotform:{submission.submissionID}",
            time=envelope.received_at_ms,
            event_properties=fit_properties(properties),
            default_properties={"ip": ip} if ip else None,
            **resolution.track_fields(),
        )
        return MapResult(event_type=SUBMISSION, events=(track,))
