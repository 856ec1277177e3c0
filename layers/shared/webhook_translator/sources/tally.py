"""Tally — ``POST /webhooks/tally``.

Signature: ``Tally-Signature: <base64>``, HMAC-SHA256 over the raw body with the
webhook's signing secret. No timestamp, so no replay window: the deterministic
``distinctId`` makes a replay harmless.

Ids: ``data.submissionId`` is the webhook id; ``distinctId`` = ``tally:{submissionId}``;
``time`` = ``data.createdAt``.

Identity: every field goes through the shared resolver (:mod:`.identity`) — the
``INPUT_EMAIL`` / ``INPUT_PHONE_NUMBER`` types first, then labels ("E-mailadres", "Voornaam",
"What is your first name?"; ``HIDDEN_FIELDS`` named ``ours_user_id`` → ``userId``,
``user_id`` → ``externalId``, ``utm_*``); options ``fields``, ``consent``, ``synonyms`` and
``include``, per form under ``forms[<formId>]``. Choice, ranking and matrix answers are
sent as their option / row / column texts, never as Tally's ids.
Properties: ``form_id``, ``form_name``, and — minimised (:mod:`.minimise`) — the structured
answers by label (``answers``) and the other hidden fields (``hidden``); text, file uploads,
signatures and payments only when option ``include`` names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, ModelRef, mapped_part, require_id
from webhook_translator.sources.common import fit_properties, iso_to_ms
from webhook_translator.sources.context import MapContext, MapResult, parse_body, parse_model
from webhook_translator.sources.forms import form_policy
from webhook_translator.sources.identity import Answer, Kind
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.sources import tally_models as models
    from webhook_translator.sources.tally_models import TallyField
else:  # the pydantic models: imported by the forwarder's first Tally webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.tally_models")

RESPONSE = "FORM_RESPONSE"
#: Tally field type → what its value is (anything else: "other")
KINDS: dict[str, Kind] = {
    "INPUT_EMAIL": "email",
    "INPUT_PHONE_NUMBER": "phone",
    "INPUT_TEXT": "text",
    "INPUT_LINK": "text",
    "TEXTAREA": "long_text",
    "INPUT_NUMBER": "number",
    "LINEAR_SCALE": "number",
    "RATING": "number",
    "CALCULATED_FIELDS": "number",
    "INPUT_DATE": "date",
    "INPUT_TIME": "date",
    "MULTIPLE_CHOICE": "choice",
    "DROPDOWN": "choice",
    "CHECKBOXES": "choice",
    "MULTI_SELECT": "choice",
    "RANKING": "choice",
    "MATRIX": "choice",
    "CHECKBOX": "boolean",
    "FILE_UPLOAD": "file",
    "SIGNATURE": "file",
    "PAYMENT": "payment",
    "HIDDEN_FIELDS": "hidden",
}
#: choice types whose value is a one-item list of option ids
SINGLE_CHOICE = frozenset({"MULTIPLE_CHOICE", "DROPDOWN"})


# --- the mapper's steps: the fields → identity (typed fields) → user properties and answers ------


def _own_fields(items: list[TallyField]) -> list[TallyField]:
    """The fields without the per-option booleans a checkbox field is followed by (``<key>_<option id>``)."""
    fields: list[TallyField] = []
    seen: set[str] = set()
    for item in items:
        if not item.key or item.key.rpartition("_")[0] not in seen:
            fields.append(item)
        seen.add(item.key)
    return fields


def _answers(fields: list[TallyField]) -> list[Answer]:
    """The non-empty fields as answers: keyed by label (else Tally's key), choices as their texts."""
    rows: list[Answer] = []
    for item in fields:
        value = item.resolved()
        if value is None or value in ("", [], {}):
            continue
        label = (item.label or "").strip() or None
        rows.append(
            Answer(
                key=label or item.key or item.type,
                label=label,
                kind=KINDS.get(item.type, "other"),
                value=value,
                ref=item.key or None,
            )
        )
    return rows


class TallySource(HmacSource):
    name: ClassVar[str] = "tally"
    options_model = ModelRef("webhook_translator.sources.forms_models:FormOptions")
    title: ClassVar[str] = "Tally"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="tally-signature", display_header="Tally-Signature", encoding="base64"
    )
    events: ClassVar[dict[str, str]] = {RESPONSE: "Form Submitted"}

    def webhook_id(self, request: InboundRequest) -> str | None:
        found = mapped_part(self, request, type_key="eventType", part="data")
        if found is None:
            return None  # acknowledged, then skipped by the mapper
        _, inner = found
        return require_id(inner.get("submissionId"), "not a Tally webhook: missing data.submissionId")

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        event = parse_body(models.TallyEvent, envelope, "Tally webhook")
        kind = event.eventType
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        data = parse_model(models.TallyData, event.data, "Tally webhook data")
        policy = form_policy(ctx, data.formId)
        rows = _answers(_own_fields(data.fields))
        resolution = policy.resolve(rows)
        answers, hidden = policy.properties(rows, resolution)
        properties = {
            "form_id": data.formId,
            "form_name": data.formName,
            "response_id": data.responseId,
            "answers": answers or None,
            "hidden": hidden or None,
            "tally_event_id": event.eventId,
        }
        track = ctx.track(
            kind,
            distinct_id=f"tally:{data.submissionId}",
            time=iso_to_ms(data.createdAt),
            event_properties=fit_properties(properties),
            **resolution.track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
