"""WPForms — ``POST /webhooks/wpforms?key=<token>`` (the Webhooks addon).

WPForms does not sign: the webhook URL carries a long random token (``?key=…``, or an
``X-Webhook-Token`` request header added in the webhook's *Request Headers*), compared in
constant time with the source's ``signing_secrets`` (:mod:`.tokens`); a missing or wrong token
is a 401.

Body: JSON or form-encoded (*Request Format*), holding only the *Request Body* rows the form
owner chose — a key of their own for each field ("email", "Name", "Phone", "utm_source"…).
WPForms sends no entry or form id unless a row adds one (the ``{entry_id}`` / ``{form_id}``
smart tags under the key ``entry_id`` / ``form_id``).

Ids: ``entry_id`` is the webhook id when present, else the body hash; ``distinctId`` =
``wpforms:`` + the webhook id; ``time`` = the receive time.

Identity: every key through the shared resolver (:mod:`.identity`) as a label; options
``fields``, ``consent``, ``synonyms``, ``include``, per form under ``forms[<form_id>]``.
Properties: ``form_id``, ``entry_id`` and — minimised — the structured answers; WPForms sends
text only, so answers only when option ``include`` names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import BaseModel

from webhook_translator.envelope import Envelope
from webhook_translator.errors import BadRequest, MappingError
from webhook_translator.sources.base import Source, require_id
from webhook_translator.sources.common import Person, clean, fit_properties
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.flat import JSON, fields_or_none, flat_answers, media_type
from webhook_translator.sources.forms import FormOptions, form_policy
from webhook_translator.sources.multipart import URLENCODED
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.tokens import DISPLAY_HEADER, verify_token

SUBMISSION = "submission"
ENTRY_ID = "entry_id"
FORM_ID = "form_id"


class WPFormsSource(Source):
    name: ClassVar[str] = "wpforms"
    options_model: ClassVar[type[BaseModel]] = FormOptions
    title: ClassVar[str] = "WPForms"
    content_types: ClassVar[tuple[str, ...]] = (JSON, URLENCODED)
    events: ClassVar[dict[str, str]] = {SUBMISSION: "Form Submitted"}

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        verify_token(request, secrets)

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        return {"Content-Type": media_type(body), DISPLAY_HEADER: secret}

    def webhook_id(self, request: InboundRequest) -> str | None:
        fields = fields_or_none(request.header("content-type") or "", request.body)
        if fields is None:
            raise BadRequest("not a WPForms webhook: the body is neither a JSON object nor a form post")
        entry = fields.get(ENTRY_ID)
        return None if entry in (None, "") else require_id(entry, "not a WPForms webhook: malformed entry_id")

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        if ctx.dropped(SUBMISSION):
            return ctx.skip(SUBMISSION, "dropped_by_config")
        fields = fields_or_none(envelope.content_type, envelope.raw_body)
        if fields is None:
            raise MappingError("WPForms webhook is neither a JSON object nor a form post")
        form_id = clean(fields.get(FORM_ID))
        person = Person()
        rows = flat_answers(fields, (ENTRY_ID, FORM_ID), person)
        policy = form_policy(ctx, form_id)
        resolution = policy.resolve(rows, person)
        answers, _ = policy.properties(rows, resolution)
        properties = {"form_id": form_id, "entry_id": clean(fields.get(ENTRY_ID)), "answers": answers or None}
        track = ctx.track(
            SUBMISSION,
            distinct_id=f"wpforms:{envelope.webhook_id}",
            time=envelope.received_at_ms,
            event_properties=fit_properties(properties),
            **resolution.track_fields(),
        )
        return MapResult(event_type=SUBMISSION, events=(track,))
