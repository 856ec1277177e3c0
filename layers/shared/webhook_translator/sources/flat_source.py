"""The source a flat, token-verified form post makes (gravityforms, wpforms): one :class:`FlatFormSource`.

Such a sender posts one submission as a flat JSON object or form (:mod:`.flat`) and proves
itself with the URL token (:mod:`.tokens`). What differs per provider is data — the entry id's
key — and two small steps: how the fields become answer rows, and the submission's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import BadRequest, MappingError
from webhook_translator.sources.base import ModelRef, Source, require_id
from webhook_translator.sources.common import Person, clean, fit_properties
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.flat import JSON, fields_or_none, media_type
from webhook_translator.sources.forms import form_policy
from webhook_translator.sources.identity import Answer
from webhook_translator.sources.multipart import URLENCODED
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.tokens import DISPLAY_HEADER, verify_token

SUBMISSION = "submission"


class FlatFormSource(Source):
    """A form tool posting flat submissions, verified by the URL token."""

    options_model = ModelRef("webhook_translator.sources.forms_models:FormOptions")
    content_types: ClassVar[tuple[str, ...]] = (JSON, URLENCODED)
    events: ClassVar[dict[str, str]] = {SUBMISSION: "Form Submitted"}
    #: the body's key of the entry id (the webhook id; the body hash without it), and how refusals name it
    entry_key: ClassVar[str]
    entry_label: ClassVar[str]
    form_key: ClassVar[str] = "form_id"

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        verify_token(request, secrets)

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        return {"Content-Type": media_type(body), DISPLAY_HEADER: secret}

    def webhook_id(self, request: InboundRequest) -> str | None:
        fields = fields_or_none(request.header("content-type") or "", request.body)
        if fields is None:
            raise BadRequest(f"not a {self.title} webhook: the body is neither a JSON object nor a form post")
        entry = fields.get(self.entry_key)
        return (
            None
            if entry in (None, "")
            else require_id(entry, f"not a {self.title} webhook: malformed {self.entry_label}")
        )

    def rows(self, fields: dict[str, Any], person: Person) -> list[Answer]:
        """The submission's answers as rows for the shared resolver."""
        raise NotImplementedError

    def time_ms(self, fields: dict[str, Any], envelope: Envelope) -> int:
        """When the form was submitted (the receive time where the provider sends none)."""
        return envelope.received_at_ms

    def default_properties(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        return None

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        if ctx.dropped(SUBMISSION):
            return ctx.skip(SUBMISSION, "dropped_by_config")
        fields = fields_or_none(envelope.content_type, envelope.raw_body)
        if fields is None:
            raise MappingError(f"{self.title} webhook is neither a JSON object nor a form post")
        form_id = clean(fields.get(self.form_key))
        person = Person()
        rows = self.rows(fields, person)
        policy = form_policy(ctx, form_id)
        resolution = policy.resolve(rows, person)
        answers, _ = policy.properties(rows, resolution)
        properties = {"form_id": form_id, "entry_id": clean(fields.get(self.entry_key)), "answers": answers or None}
        track = ctx.track(
            SUBMISSION,
            distinct_id=f"{self.name}:{envelope.webhook_id}",
            time=self.time_ms(fields, envelope),
            event_properties=fit_properties(properties),
            default_properties=self.default_properties(fields),
            **resolution.track_fields(),
        )
        return MapResult(event_type=SUBMISSION, events=(track,))
