"""Webflow — ``POST /webhooks/webflow`` (trigger ``form_submission``).

Signature: ``x-webflow-timestamp`` (ms) and ``x-webflow-signature`` (hex),
HMAC-SHA256 over ``{timestamp}:{body}`` with the webhook's secret; timestamps more
than 300 s away from our clock are refused. Only webhooks created through the API
(or an app) are signed — a webhook added in the site dashboard has no secret and
cannot be verified, so create it through the API.

Ids: ``payload.id`` (the submission) is the webhook id; ``distinctId`` =
``webflow:{payload.id}``; ``time`` = ``payload.submittedAt``.

Identity: ``payload.data`` is a free label → value map without field types. Every label
goes through the shared resolver (:mod:`.identity`): normalised (case, accents,
punctuation, Webflow's numbered duplicates "Email 2" and dashed suffixes "Email-kom"),
matched with the multilingual synonyms, then — for e-mail only — the one valid address
among the values; options ``fields``, ``consent``, ``synonyms``, ``include``, per form under
``forms[<formId>]``. Properties: the form ``name``, ``formId``, ``siteId``, the page, and —
minimised — the booleans and numbers among the other fields (``answers``; Webflow's text
values only when option ``include`` names them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, ModelRef, mapped_part, require_id
from webhook_translator.sources.common import fit_properties, iso_to_ms
from webhook_translator.sources.context import MapContext, MapResult, parse_body, parse_model
from webhook_translator.sources.forms import form_policy
from webhook_translator.sources.identity import Answer, Kind
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.sources import webflow_models as models
else:  # the pydantic models: imported by the forwarder's first Webflow webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.webflow_models")

SUBMISSION = "form_submission"


def _kind(value: Any) -> Kind:
    """Webflow sends no field types: booleans (checkboxes) and numbers are structured, the rest is text."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "text"


def _answers(data: dict[str, Any]) -> list[Answer]:
    """The non-empty fields of ``payload.data`` as answers, keyed and labelled by their name."""
    return [
        Answer(key=label.strip() or "field", label=label, kind=_kind(value), value=value)
        for label, value in data.items()
        if value is not None and value not in ("", [], {})
    ]


class WebflowSource(HmacSource):
    name: ClassVar[str] = "webflow"
    options_model = ModelRef("webhook_translator.sources.forms_models:FormOptions")
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
        event = parse_body(models.WebflowEvent, envelope, "Webflow webhook")
        kind = event.triggerType
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        if event.payload is None:
            raise MappingError("Webflow webhook does not match the expected shape (payload)")
        submission = parse_model(models.Submission, event.payload, "Webflow form submission")
        policy = form_policy(ctx, submission.formId)
        rows = _answers(submission.data)
        resolution = policy.resolve(rows)
        answers, _ = policy.properties(rows, resolution)

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
            **resolution.track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))
