"""Typeform — ``POST /webhooks/typeform``.

Signature: ``Typeform-Signature: sha256=<base64>``, HMAC-SHA256 over the raw body
with the webhook's secret (set it in the webhook's settings). No timestamp, so no
replay window: the deterministic ``distinctId`` makes a replay harmless.

Ids: the response token (``form_response.token``) is the webhook id;
``distinctId`` = ``typeform:{token}`` (``typeform:{token}:partial`` for a partial
response, so the complete one that may follow is not deduplicated away);
``time`` = ``submitted_at`` (else ``landed_at``, else the receive time).

Identity: an answer of type ``email`` / ``phone_number``; ``hidden`` fields named
``ours_user_id`` (→ ``userId``), ``user_id`` / ``external_id`` (→ ``externalId``),
``email``, ``utm_*`` and click ids; names, company… through option ``fields``
(``{"<field ref or hidden name>": "first_name"}``), else a field ref or question
title that reads like one ("First name", "Company"…; option ``synonyms``).
Properties: ``form_id``, ``form_title``, ``score``, ``variables``, and the other
answers keyed by field ref (``answers``) and hidden fields (``hidden``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.sources.base import HmacSource, mapped_part, require_id
from webhook_translator.sources.common import (
    FormOptions,
    LaxModel,
    Person,
    Synonyms,
    Target,
    fit_properties,
    iso_to_ms,
    unique_key,
)
from webhook_translator.sources.context import MapContext, MapResult, parse_model
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

RESPONSE = "form_response"
PARTIAL = "form_response_partial"


class FieldRef(LaxModel):
    id: str | None = None
    ref: str | None = None
    type: str | None = None
    title: str | None = None


class Choice(LaxModel):
    label: str | None = None
    other: str | None = None


class Choices(LaxModel):
    labels: list[str] = Field(default_factory=list)
    other: str | None = None


class Payment(LaxModel):
    amount: str | None = None
    success: bool | None = None


class Answer(LaxModel):
    type: str
    field: FieldRef = Field(default_factory=FieldRef)
    text: str | None = None
    email: str | None = None
    phone_number: str | None = None
    url: str | None = None
    file_url: str | None = None
    date: str | None = None
    number: float | None = None
    boolean: bool | None = None
    choice: Choice | None = None
    choices: Choices | None = None
    payment: Payment | None = None

    def value(self) -> Any:
        """The answer's value by its type (choices as labels, a payment without card details)."""
        if self.type == "choice" and self.choice is not None:
            return self.choice.label or self.choice.other
        if self.type == "choices" and self.choices is not None:
            return [*self.choices.labels, *([self.choices.other] if self.choices.other else [])]
        if self.type == "payment" and self.payment is not None:
            return {"amount": self.payment.amount, "success": self.payment.success}
        if self.type == "number" and self.number is not None and self.number.is_integer():
            return int(self.number)
        value = getattr(self, self.type, None) if self.type in type(self).model_fields else None
        return value if isinstance(value, str | int | float | bool) else None


class Variable(LaxModel):
    key: str
    type: str | None = None
    number: float | None = None
    text: str | None = None


class Calculated(LaxModel):
    score: float | None = None


class Definition(LaxModel):
    id: str | None = None
    title: str | None = None
    fields: list[FieldRef] = Field(default_factory=list)


class FormResponse(LaxModel):
    form_id: str | None = None
    token: str = Field(min_length=1)
    submitted_at: str | None = None
    landed_at: str | None = None
    hidden: dict[str, Any] = Field(default_factory=dict)
    calculated: Calculated | None = None
    variables: list[Variable] = Field(default_factory=list)
    definition: Definition | None = None
    answers: list[Answer] = Field(default_factory=list)


class TypeformEvent(LaxModel):
    event_id: str | None = None
    event_type: str = Field(min_length=1)
    form_response: FormResponse | None = None


class TypeformOptions(FormOptions):
    #: field ref (or hidden field name) → where its answer goes
    fields: dict[str, Target] = Field(default_factory=dict)


def _number(value: float | None) -> int | float | None:
    return int(value) if value is not None and value.is_integer() else value


# --- the mapper's steps: identity and user properties (answers, hidden fields) → event properties ---

#: the answer types that say who the respondent is
_TYPED_IDENTITY = ("email", "phone_number")


def _answers(response: FormResponse, options: TypeformOptions, synonyms: Synonyms, person: Person) -> dict[str, Any]:
    """Offer the answers to ``person``; the ones it does not take, by field ref, for the event properties.

    Typed answers first: what the respondent entered is the best identity.
    """
    for answer in response.answers:
        if answer.type in _TYPED_IDENTITY:
            person.offer(answer.type, answer.value())
    titles = _titles(response.definition)
    answers: dict[str, Any] = {}
    for answer in response.answers:
        if answer.type in _TYPED_IDENTITY:
            continue
        ref = answer.field.ref or answer.field.id or answer.type
        value = answer.value()
        if value is not None and not person.offer(_answer_target(answer, ref, options, synonyms, titles), value):
            answers[unique_key(answers, ref)] = value
    return answers


def _titles(definition: Definition | None) -> dict[str, str | None]:
    """Field id → the question's title (the label the synonyms match when the ref does not)."""
    if definition is None:
        return {}
    return {f.id: f.title for f in definition.fields if f.id}


def _answer_target(
    answer: Answer, ref: str, options: TypeformOptions, synonyms: Synonyms, titles: dict[str, str | None]
) -> str | None:
    """Where an answer goes: the configured field ref, else its ref, else its question's title, by synonym."""
    return options.fields.get(ref) or synonyms.target(ref) or synonyms.target(titles.get(answer.field.id or ""))


def _hidden(hidden: dict[str, Any], options: TypeformOptions, synonyms: Synonyms, person: Person) -> dict[str, Any]:
    """Offer the hidden fields to ``person``; the non-empty ones it does not take, for the event properties."""
    kept: dict[str, Any] = {}
    for key, value in hidden.items():
        target = options.fields.get(key) or synonyms.target(key)
        if not person.offer(target, value) and value not in (None, ""):
            kept[key] = value
    return kept


def _event_properties(
    event: TypeformEvent, response: FormResponse, answers: dict[str, Any], hidden: dict[str, Any]
) -> dict[str, Any]:
    definition = response.definition
    return {
        "form_id": response.form_id or (definition.id if definition else None),
        "form_title": definition.title if definition else None,
        "score": _number(response.calculated.score) if response.calculated else None,
        "variables": _variables(response.variables) or None,
        "answers": answers or None,
        "hidden": hidden or None,
        "typeform_event_id": event.event_id,
    }


def _variables(variables: list[Variable]) -> dict[str, Any]:
    return {v.key: _number(v.number) if v.number is not None else v.text for v in variables}


class TypeformSource(HmacSource):
    name: ClassVar[str] = "typeform"
    options_model: ClassVar[type[BaseModel]] = TypeformOptions
    title: ClassVar[str] = "Typeform"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="typeform-signature",
        display_header="Typeform-Signature",
        prefix="sha256=",
        encoding="base64",
    )
    events: ClassVar[dict[str, str]] = {RESPONSE: "Form Submitted", PARTIAL: "Form Partially Submitted"}

    def webhook_id(self, request: InboundRequest) -> str | None:
        found = mapped_part(self, request, type_key="event_type", part="form_response")
        if found is None:
            return None  # acknowledged, then skipped by the mapper
        _, inner = found
        return require_id(inner.get("token"), "not a Typeform webhook: missing form_response.token")

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        event = parse_model(TypeformEvent, envelope.json_body(), "Typeform webhook")
        kind = event.event_type
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        response = event.form_response
        if response is None:
            raise MappingError("Typeform webhook does not match the expected shape (form_response)")
        options = ctx.options(TypeformOptions)
        synonyms = options.matcher(response.form_id)
        person = Person()
        answers = _answers(response, options, synonyms, person)
        hidden = _hidden(response.hidden, options, synonyms, person)
        when = response.submitted_at or response.landed_at
        track = ctx.track(
            kind,
            distinct_id=f"typeform:{response.token}" + (":partial" if kind == PARTIAL else ""),
            time=iso_to_ms(when) if when else envelope.received_at_ms,
            event_properties=fit_properties(_event_properties(event, response, answers, hidden)),
            **person.track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
