"""Tally — ``POST /webhooks/tally``.

Signature: ``Tally-Signature: <base64>``, HMAC-SHA256 over the raw body with the
webhook's signing secret. No timestamp, so no replay window: the deterministic
``distinctId`` makes a replay harmless.

Ids: ``data.submissionId`` is the webhook id; ``distinctId`` = ``tally:{submissionId}``;
``time`` = ``data.createdAt``.

Identity: the first ``INPUT_EMAIL`` and ``INPUT_PHONE_NUMBER`` answers; then every
field by its label — ``HIDDEN_FIELDS`` named ``ours_user_id`` (→ ``userId``),
``user_id`` (→ ``externalId``), ``email``, ``utm_*``, and labels such as "First
name", "Company" (option ``synonyms``, per form ``forms[<formId>].synonyms``).
Properties: ``form_id``, ``form_name``, the other answers by label (``answers``;
choices as their option texts) and other hidden fields (``hidden``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

from webhook_translator.envelope import Envelope
from webhook_translator.sources.base import HmacSource, mapped_part, require_id
from webhook_translator.sources.common import (
    FormOptions,
    LaxModel,
    Person,
    Synonyms,
    fit_properties,
    iso_to_ms,
    unique_key,
)
from webhook_translator.sources.context import MapContext, MapResult, parse_model
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

RESPONSE = "FORM_RESPONSE"
TYPED = {"INPUT_EMAIL": "email", "INPUT_PHONE_NUMBER": "phone_number"}
#: choice types whose value is a one-item list of option ids
SINGLE_CHOICE = frozenset({"MULTIPLE_CHOICE", "DROPDOWN"})


class Option(LaxModel):
    id: str
    text: str | None = None


class TallyField(LaxModel):
    key: str = ""
    label: str | None = None
    type: str = ""
    value: Any = None
    options: list[Option] = Field(default_factory=list)

    def resolved(self) -> Any:
        """The value, with choice ids replaced by their option texts."""
        texts = {o.id: o.text or o.id for o in self.options}
        if texts and isinstance(self.value, list):
            picked = [texts.get(v, v) if isinstance(v, str) else v for v in self.value]
            return picked[0] if self.type in SINGLE_CHOICE and len(picked) == 1 else picked
        if texts and isinstance(self.value, str):
            return texts.get(self.value, self.value)
        return self.value


class TallyData(LaxModel):
    submissionId: str = Field(min_length=1)
    responseId: str | None = None
    respondentId: str | None = None
    formId: str | None = None
    formName: str | None = None
    createdAt: str = Field(min_length=1)
    fields: list[TallyField] = Field(default_factory=list)


class TallyEvent(LaxModel):
    eventId: str | None = None
    eventType: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)


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


def _typed_person(fields: list[TallyField]) -> Person:
    """A person from the typed fields (email, phone): what the respondent entered is the best identity."""
    person = Person()
    for item in fields:
        if item.type in TYPED:
            person.offer(TYPED[item.type], item.value)
    return person


def _answers(fields: list[TallyField], synonyms: Synonyms, person: Person) -> tuple[dict[str, Any], dict[str, Any]]:
    """Offer the other non-empty fields to ``person`` by label; what it does not take: (answers, hidden fields)."""
    answers: dict[str, Any] = {}
    hidden: dict[str, Any] = {}
    for item in fields:
        value = item.resolved()
        if item.type in TYPED or value in (None, "", []):
            continue
        if person.offer(synonyms.target(item.label), value):
            continue
        bucket = hidden if item.type == "HIDDEN_FIELDS" else answers
        label = (item.label or "").strip() or item.key or item.type
        bucket[unique_key(bucket, label)] = value
    return answers, hidden


class TallySource(HmacSource):
    name: ClassVar[str] = "tally"
    options_model: ClassVar[type[BaseModel]] = FormOptions
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
        event = parse_model(TallyEvent, envelope.json_body(), "Tally webhook")
        kind = event.eventType
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        data = parse_model(TallyData, event.data, "Tally webhook data")
        synonyms = ctx.options(FormOptions).matcher(data.formId)

        fields = _own_fields(data.fields)
        person = _typed_person(fields)
        answers, hidden = _answers(fields, synonyms, person)
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
            **person.track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
