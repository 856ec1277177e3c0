"""Typeform — ``POST /webhooks/typeform``.

Signature: ``Typeform-Signature: sha256=<base64>``, HMAC-SHA256 over the raw body
with the webhook's secret (set it in the webhook's settings). No timestamp, so no
replay window: the deterministic ``distinctId`` makes a replay harmless.

Ids: the response token (``form_response.token``) is the webhook id;
``distinctId`` = ``typeform:{token}`` (``typeform:{token}:partial`` for a partial
response, so the complete one that may follow is not deduplicated away);
``time`` = ``submitted_at`` (else ``landed_at``, else the receive time).

Answers: ``form_response.answers`` often carry only ``field.id``; each is looked up in
``definition.fields`` for its ref, question title and type. The answers (keyed by ref, else
id; labelled by title) and the ``hidden`` fields go through the shared resolver
(:mod:`.identity`): the ``email`` / ``phone_number`` types, then titles, refs and hidden
names that read like a target ("Email of contact person", "What is your first name?",
``ours_user_id`` → ``userId``, ``user_id`` → ``externalId``, ``utm_*``…); option ``fields``
(a ref, title or hidden name → target) wins, option ``consent`` sets ``userProperties.consent``.
Properties: ``form_id``, ``form_title``, ``score``, ``variables``, and — minimised
(:mod:`.minimise`) — the structured answers by ref (``answers``: choices as labels,
numbers, dates, booleans) and the other hidden fields (``hidden``); text, files and payments
only when option ``include`` names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, ModelRef, mapped_part, require_id
from webhook_translator.sources.common import fit_properties, iso_to_ms
from webhook_translator.sources.context import MapContext, MapResult, parse_body
from webhook_translator.sources.forms import form_policy
from webhook_translator.sources.identity import Answer, Kind
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.sources import typeform_models as models
    from webhook_translator.sources.typeform_models import FormResponse, TypeformAnswer, TypeformEvent, Variable
else:  # the pydantic models: imported by the forwarder's first Typeform webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.typeform_models")

RESPONSE = "form_response"
PARTIAL = "form_response_partial"


#: Typeform answer type → what it is
_KINDS: dict[str, Kind] = {
    "email": "email",
    "phone_number": "phone",
    "text": "text",
    "url": "text",
    "file_url": "file",
    "date": "date",
    "number": "number",
    "boolean": "boolean",
}
_NO_FIELD: dict[str, Any] = {}


def _number(value: float | None) -> int | float | None:
    return int(value) if value is not None and value.is_integer() else value


# --- the mapper's steps: answers (through definition.fields) and hidden fields → the resolver -----


def _kind_value(answer: TypeformAnswer, answer_type: str) -> tuple[Kind, Any]:
    """What an answer of no plain kind is and its value (choices as labels; a choice's "other" is text)."""
    if answer_type == "choice" and (choice := answer.get("choice")) is not None:
        label = choice.get("label")
        return ("choice", label) if label else ("text", choice.get("other"))
    if answer_type == "choices" and (choices := answer.get("choices")) is not None:
        return "choice", list(choices.get("labels", ())) or None
    if answer_type == "payment" and (payment := answer.get("payment")) is not None:
        return "payment", {"amount": payment.get("amount"), "success": payment.get("success")}
    if answer_type == "number":
        return "number", _number(answer.get("number"))
    return "other", None


_row = tuple.__new__  # an Answer from its five values, without the named tuple's keyword-reading __new__


def _answers(response: FormResponse) -> list[Answer]:
    """The answers in form order, then the hidden fields: keyed by field ref (else id), labelled by title.

    Answers often carry only ``field.id``: the ref, title and question type are looked up in
    ``definition.fields`` by that id.
    """
    definition = response.get("definition")
    fields = {f["id"]: f for f in definition.get("fields", ()) if f.get("id")} if definition is not None else {}
    rows: list[Answer] = []
    append = rows.append
    for answer in response.get("answers", ()):
        field = answer.get("field") or _NO_FIELD
        fid = field.get("id")
        known = fields.get(fid) if fid else None
        if known is None:
            ref, title, field_type = field.get("ref"), field.get("title"), field.get("type")
        else:
            ref = field.get("ref") or known.get("ref")
            title = field.get("title") or known.get("title")
            field_type = field.get("type") or known.get("type")
        answer_type = answer["type"]
        kind = _KINDS.get(answer_type)
        if kind is not None and answer_type != "number":  # a plain value (the most answers): one lookup
            value = answer.get(answer_type)
            if kind == "text" and field_type == "long_text":
                kind = "long_text"
            if not isinstance(value, (str, int, float, bool)):  # a tuple: no union built per answer
                value = None
        else:
            kind, value = _kind_value(answer, answer_type)
        append(_row(Answer, (ref or fid or answer_type, title, kind, value, fid)))  # key, label, kind, value, ref
    for name, value in response.get("hidden", _NO_FIELD).items():
        append(_row(Answer, (name, name, "hidden", value, None)))
    return rows


def _event_properties(
    event: TypeformEvent, response: FormResponse, answers: dict[str, Any], hidden: dict[str, Any]
) -> dict[str, Any]:
    definition, calculated = response.get("definition"), response.get("calculated")
    return {
        "form_id": response.get("form_id") or (definition.get("id") if definition is not None else None),
        "form_title": definition.get("title") if definition is not None else None,
        "score": _number(calculated.get("score")) if calculated is not None else None,
        "variables": _variables(response.get("variables", [])) or None,
        "answers": answers or None,
        "hidden": hidden or None,
        "typeform_event_id": event.event_id,
    }


def _variables(variables: list[Variable]) -> dict[str, Any]:
    return {v["key"]: _number(number) if (number := v.get("number")) is not None else v.get("text") for v in variables}


class TypeformSource(HmacSource):
    name: ClassVar[str] = "typeform"
    options_model = ModelRef("webhook_translator.sources.forms_models:FormOptions")
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
        event = parse_body(models.TypeformEvent, envelope, "Typeform webhook")
        kind = event.event_type
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        response = event.form_response
        if response is None:
            raise MappingError("Typeform webhook does not match the expected shape (form_response)")
        policy = form_policy(ctx, response.get("form_id"))
        rows = _answers(response)
        resolution = policy.resolve(rows)
        answers, hidden = policy.properties(rows, resolution)
        when = response.get("submitted_at") or response.get("landed_at")
        track = ctx.track(
            kind,
            distinct_id=f"typeform:{response['token']}" + (":partial" if kind == PARTIAL else ""),
            time=iso_to_ms(when) if when else envelope.received_at_ms,
            event_properties=fit_properties(_event_properties(event, response, answers, hidden)),
            **resolution.track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
