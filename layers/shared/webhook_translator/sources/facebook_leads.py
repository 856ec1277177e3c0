"""Facebook Lead Ads — ``GET`` and ``POST /webhooks/facebook-leads`` (a thin webhook: the lead is fetched).

Handshake: Meta subscribes the URL with ``GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…``;
the challenge is answered as text/plain when the token matches the source's ``verify_token`` in
the secret document (403 otherwise; nothing queued).

Signature: ``X-Hub-Signature-256: sha256=<hex>``, HMAC-SHA256 of the raw body with the App Secret
(``signing_secrets``); no timestamp.

Body (Meta's Webhooks reference, "leadgen" field of the Page object)::

    {"object": "page", "entry": [{"id": "<page id>", "time": 1795000000, "changes": [
        {"field": "leadgen", "value": {"leadgen_id", "page_id", "form_id", "ad_id", "adgroup_id",
                                       "created_time"}}]}]}

— several leads per POST, each mapped on its own. The lead is fetched from the Graph API
(``GET {api_base_url}/{leadgen_id}?fields=field_data,…`` with a Page access token, ``api_token``)
and its ``field_data[]`` (``email``, ``phone_number``, ``full_name``/``first_name``/``last_name``,
location, company, job title; custom questions only through the ``field_map`` option) becomes
the identity. Ids: ``distinctId`` = ``facebook-leads:{leadgen_id}``; ``time`` = the webhook's
``created_time`` (s). One lead whose fetch fails does not hold back the others
(``MapResult.failures``).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from webhook_translator.envelope import Envelope
from webhook_translator.errors import Forbidden, TranslatorError
from webhook_translator.fetch import FetchRequest
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, ModelRef, require, require_id
from webhook_translator.sources.common import Person, compact, iso_to_ms
from webhook_translator.sources.context import MapContext, MapResult, parse_body, parse_model
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.ours.models import TrackEvent
    from webhook_translator.sources import facebook_leads_models as models
    from webhook_translator.sources.facebook_leads_models import Lead, LeadChange, LeadOptions, PageWebhook
else:  # the pydantic models: imported by the forwarder's first Facebook webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.facebook_leads_models")

LEADGEN = "leadgen"
DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
#: what the Graph fetch asks for (nothing else of the lead is read)
LEAD_FIELDS = "field_data,created_time,ad_id,adset_id,campaign_id,form_id,is_organic,platform"
#: Meta's standard lead form questions → Ours targets (custom questions need ``field_map``)
STANDARD_FIELDS: dict[str, str] = {
    "email": "email",
    "work_email": "email",
    "phone_number": "phone_number",
    "work_phone_number": "phone_number",
    "full_name": "full_name",
    "first_name": "first_name",
    "last_name": "last_name",
    "city": "city",
    "state": "state",
    "province": "state",
    "zip_code": "zip",
    "post_code": "zip",
    "country": "country",
    "company_name": "company_name",
    "job_title": "job_title",
}


def graph_status(status: int, body: Any) -> int:
    """The HTTP meaning of a Graph API error (Graph answers most errors 400 with an ``error.code``)."""
    error = body.get("error") if isinstance(body, dict) else None
    if status < 400 or not isinstance(error, dict):
        return status
    code, subcode = error.get("code"), error.get("error_subcode")
    if code == 190 or code == 102:  # an invalid or expired access token
        return 401
    if code == 10 or (isinstance(code, int) and 200 <= code <= 299):  # a permission is missing
        return 403
    if code == 100 and subcode == 33:  # the object does not exist or the token cannot see it
        return 404
    if code in (4, 17, 32, 613, 80001):  # rate limits
        return 429
    if code in (1, 2):  # unknown / temporary service error
        return 503
    return status


def _text(value: str | int | None) -> str | None:
    return str(value) if value is not None and str(value).strip() else None


def _leads(webhook: PageWebhook) -> list[LeadChange]:
    """The webhook's leads in order, each ``leadgen_id`` once."""
    seen: set[str] = set()
    leads = []
    for entry in webhook.entry:
        for change in entry.changes:
            if change.field != LEADGEN or change.value is None:
                continue
            lead = parse_model(models.LeadChange, change.value, "Facebook leadgen change")
            if str(lead.leadgen_id) not in seen:
                seen.add(str(lead.leadgen_id))
                leads.append(lead)
    return leads


def _person(lead: Lead, change: LeadChange, field_map: dict[str, str]) -> Person:
    person = Person()
    for answer in lead.field_data:
        name = (answer.name or "").strip()
        target = field_map.get(name) or STANDARD_FIELDS.get(name.lower())
        if target and answer.values:
            person.offer(target, answer.values[0])
    ids = {"ad_id": lead.ad_id or _text(change.ad_id), "adset_id": lead.adset_id or _text(change.adgroup_id)}
    ids["campaign_id"] = lead.campaign_id
    for key, value in ids.items():
        if value:
            person.properties.setdefault(key, value)
    return person


class FacebookLeadsSource(HmacSource):
    name: ClassVar[str] = "facebook-leads"
    title: ClassVar[str] = "Facebook Lead Ads"
    fetches: ClassVar[bool] = True
    options_model = ModelRef("webhook_translator.sources.facebook_leads_models:LeadOptions")
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="x-hub-signature-256", display_header="X-Hub-Signature-256", prefix="sha256=", encoding="hex"
    )
    events: ClassVar[dict[str, str]] = {LEADGEN: "Lead Submitted"}
    answers_get: ClassVar[bool] = True

    def answer_get(self, request: InboundRequest, verify_token: str | None) -> str:
        mode, token = request.query.get("hub.mode"), request.query.get("hub.verify_token") or ""
        challenge = request.query.get("hub.challenge") or ""
        require(mode == "subscribe" and challenge, "not a subscription handshake: expected hub.mode=subscribe")
        require(len(challenge) <= 256 and challenge.isprintable(), "hub.challenge is malformed")
        if not verify_token or not hmac.compare_digest(token.encode(), verify_token.encode()):
            raise Forbidden("hub.verify_token does not match", reason="verify_token_mismatch")
        return challenge

    def webhook_id(self, request: InboundRequest) -> str | None:
        data = request.json()
        require(isinstance(data, dict), "not a Facebook webhook: expected a JSON object")
        if data.get("object") != "page":
            return None  # another object's webhook: acknowledged, then skipped
        entries = data.get("entry")
        require(isinstance(entries, list), "not a Facebook Page webhook: missing entry")
        ids = []
        for entry in entries:
            for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
                if isinstance(change, dict) and change.get("field") == LEADGEN:
                    value = change.get("value")
                    found = value.get("leadgen_id") if isinstance(value, dict) else None
                    ids.append(require_id(found, "not a leadgen change: missing value.leadgen_id", max_length=64))
        return ids[0] if len(set(ids)) == 1 else None  # several leads: the body's hash

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        webhook = parse_body(models.PageWebhook, envelope, "Facebook webhook")
        leads = _leads(webhook) if webhook.object == "page" else []
        if not leads:
            return ctx.skip(webhook.object or "-")
        if (skipped := ctx.unmapped(LEADGEN)) is not None:
            return skipped
        options = ctx.options(models.LeadOptions)
        events: list[TrackEvent] = []
        failures: list[TranslatorError] = []
        for change in leads:
            try:
                events.append(self._lead(change, options, ctx))
            except TranslatorError as exc:  # this lead's own outcome; the others go on
                failures.append(exc)
        return MapResult(event_type=LEADGEN, events=tuple(events), failures=tuple(failures))

    def _lead(self, change: LeadChange, options: LeadOptions, ctx: MapContext) -> TrackEvent:
        leadgen_id = str(change.leadgen_id)
        answer = ctx.fetch(
            FetchRequest(
                source=self.name,
                base_url=options.api_base_url,
                path="/" + quote(leadgen_id, safe=""),
                what="lead",
                params={"fields": LEAD_FIELDS},
                classify=graph_status,
            )
        )
        lead = parse_model(models.Lead, answer, "Graph API lead")
        person = _person(lead, change, dict(options.field_map))
        when = change.created_time * 1000 if change.created_time else None
        if when is None and lead.created_time:
            when = iso_to_ms(lead.created_time)
        properties = {
            "leadgen_id": leadgen_id,
            "form_id": lead.form_id or _text(change.form_id),
            "page_id": _text(change.page_id),
            "is_organic": lead.is_organic,
            "platform": lead.platform,
        }
        return ctx.track(
            LEADGEN,
            distinct_id=f"{self.name}:{leadgen_id}",
            time=when,
            event_properties=compact(properties),
            **person.track_fields(),
        )
