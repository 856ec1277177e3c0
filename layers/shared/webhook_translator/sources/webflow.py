"""Webflow — ``POST /webhooks/webflow`` (trigger ``form_submission``).

Signature: ``x-webflow-timestamp`` (ms) and ``x-webflow-signature`` (hex),
HMAC-SHA256 over ``{timestamp}:{body}`` with the webhook's secret; timestamps more
than 300 s away from our clock are refused. Only webhooks created through the API
(or an app) are signed — a webhook added in the site dashboard has no secret and
cannot be verified, so create it through the API.

Ids: ``payload.id`` (the submission) is the webhook id; ``distinctId`` =
``webflow:{payload.id}``; ``time`` = ``payload.submittedAt``.

Identity: ``payload.data`` is a free label → value map. Labels are matched
case-insensitively (punctuation ignored) with common synonyms — email / e-mail /
email address, first / last / full name, phone (which may arrive as a number),
company, job title, city…, ``ours_user_id`` / ``user_id``, ``utm_*`` — extended by
option ``synonyms`` and per form by ``forms[<formId>].synonyms``.
Properties: the form ``name``, ``formId``, ``siteId``, the page, and the other
fields (``answers``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, Field

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.sources.base import HmacSource, mapped_part, require_id
from webhook_translator.sources.common import FormOptions, LaxModel, Person, fit_properties, iso_to_ms, unique_key
from webhook_translator.sources.context import MapContext, MapResult, parse_model
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

SUBMISSION = "form_submission"


class Submission(LaxModel):
    id: str = Field(min_length=1)
    name: str | None = None
    siteId: str | None = None
    formId: str | None = None
    formElementId: str | None = None
    pageId: str | None = None
    pageUrl: str | None = None
    publishedPath: str | None = None
    submittedAt: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)


class WebflowEvent(LaxModel):
    triggerType: str = Field(min_length=1)
    payload: dict[str, Any] | None = None


class WebflowSource(HmacSource):
    name: ClassVar[str] = "webflow"
    options_model: ClassVar[type[BaseModel]] = FormOptions
    title: ClassVar[str] = "Webflow"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="x-webflow-signature",
        signed="{t}:{body}",
        encoding="hex",
        timestamp_header="x-webflow-timestamp",
        timestamp_unit="ms",
        tolerance=300,
    )
    events: ClassVar[dict[str, str]] = {SUBMISSION: "Form Submitted"}

    def webhook_id(self, request: InboundRequest) -> str | None:
        found = mapped_part(self, request, type_key="triggerType", part="payload")
        if found is None:
            return None  # acknowledged, then skipped by the mapper
        _, inner = found
        return require_id(inner.get("id"), "not a Webflow webhook: missing payload.id")

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        event = parse_model(WebflowEvent, envelope.json_body(), "Webflow webhook")
        kind = event.triggerType
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        if event.payload is None:
            raise MappingError("Webflow webhook does not match the expected shape (payload)")
        submission = parse_model(Submission, event.payload, "Webflow form submission")
        synonyms = ctx.options(FormOptions).matcher(submission.formId)

        person = Person()
        answers: dict[str, Any] = {}
        for label, value in submission.data.items():
            if value in (None, "", []):
                continue
            if not person.offer(synonyms.target(label), value):
                answers[unique_key(answers, label.strip() or "field")] = value

        properties = {
            "form_name": submission.name,
            "form_id": submission.formId,
            "site_id": submission.siteId,
            "page_id": submission.pageId,
            "page_url": submission.pageUrl,
            "published_path": submission.publishedPath,
            "answers": answers or None,
        }
        track = ctx.track(
            kind,
            distinct_id=f"webflow:{submission.id}",
            time=iso_to_ms(submission.submittedAt),
            event_properties=fit_properties(properties),
            **person.track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
