"""HubSpot — ``POST /webhooks/hubspot``.

Two senders, one URL:

* a workflow's **"Send a webhook"** action: the body is the enrolled contact's record
  (``vid`` / ``hs_object_id``, ``properties.<name>.value`` — or ``properties.<name>`` as a
  plain value), signed v2 (or v1/v3) with the app's client secret, or an API key in
  ``X-Webhook-Token``. No delivery id and no event time: the webhook id is
  ``{objectId}:{body hash}``, ``distinctId`` = ``hubspot:{objectId}:{body hash}``, ``time`` = the
  receive time. The event follows the record's ``lifecyclestage``: qualified stages (MQL,
  SQL, opportunity) → ``Lead Qualified``, ``customer`` → ``Customer Created``, else ``Lead Created``.
* **app subscriptions** (the Webhooks API): a JSON array of up to 100 events signed v3. Each
  item maps on its own (``distinctId`` = ``hubspot:{eventId}``, ``time`` = ``occurredAt``): a bad item
  is a failure of its own and never costs the good ones their delivery. ``contact.creation`` →
  ``Lead Created``; ``contact.propertyChange`` of ``lifecyclestage`` → ``Lead Qualified`` /
  ``Customer Created``; other subscriptions are skipped. These items carry no e-mail: with a
  private-app token (``api_token`` in the source's secret entry, scope ``crm.objects.contacts.read``)
  each mapped item's contact is fetched (``GET {api_base_url}/crm/v3/objects/contacts/{objectId}``,
  only the properties below) and mapped like a workflow's record, each item with its own outcome
  (a contact that cannot be fetched fails alone: ``MapResult.failures``). Without a token the
  contact id alone is the identity (``externalId``).

Identity: ``email``; ``phone`` (``mobilephone``), names, company, job title, city/state/zip/country,
``hs_google_click_id`` (gclid), ``hs_facebook_click_id`` (fbclid) and ``utm_*`` properties as
userProperties; the contact id as ``externalId`` (option ``external_id: "none"`` to leave it out).
Event properties: the contact id, lifecycle stage, lead status and the analytics source fields
only — never notes, messages or any other free-text property.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError, NoApiCredential, NoIdentity, TranslatorError
from webhook_translator.fetch import FetchRequest
from webhook_translator.lazy import lazy_module
from webhook_translator.sources import hubspot_signing
from webhook_translator.sources.base import ModelRef, Source, require, require_id
from webhook_translator.sources.common import Person, clean, fit_properties
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.request import InboundRequest

if TYPE_CHECKING:
    from webhook_translator.ours.models import TrackEvent
    from webhook_translator.sources import hubspot_models as models
    from webhook_translator.sources.hubspot_models import HubSpotOptions
else:  # the options model: imported by the forwarder's first HubSpot webhook, never by the receiver
    models = lazy_module("webhook_translator.sources.hubspot_models")

WORKFLOW_LEAD = "workflow.lead"
WORKFLOW_QUALIFIED = "workflow.qualified"
WORKFLOW_CUSTOMER = "workflow.customer"
CONTACT_CREATION = "contact.creation"
CONTACT_QUALIFIED = "contact.qualified"
CONTACT_CUSTOMER = "contact.customer"
MAX_ITEMS = 100
DEFAULT_API_URL = "https://api.hubapi.com"
_QUALIFIED = frozenset({"marketingqualifiedlead", "salesqualifiedlead", "opportunity"})

#: HubSpot contact property → userProperties key (or an identity)
_PERSON_PROPERTIES = (
    ("email", "email"),
    ("phone", "phone_number"),
    ("mobilephone", "phone_number"),
    ("firstname", "first_name"),
    ("lastname", "last_name"),
    ("company", "company_name"),
    ("jobtitle", "job_title"),
    ("city", "city"),
    ("state", "state"),
    ("zip", "zip"),
    ("country", "country"),
    ("hs_google_click_id", "gclid"),
    ("hs_facebook_click_id", "fbclid"),
    ("utm_source", "utm_source"),
    ("utm_medium", "utm_medium"),
    ("utm_campaign", "utm_campaign"),
    ("utm_term", "utm_term"),
    ("utm_content", "utm_content"),
)
#: structured (enumeration / id) properties kept as event properties
_EVENT_PROPERTIES = (
    "lifecyclestage",
    "hs_lead_status",
    "hs_analytics_source",
    "hs_analytics_source_data_1",
    "hs_analytics_source_data_2",
    "hs_latest_source",
    "hs_latest_source_data_1",
    "hs_latest_source_data_2",
)
#: what the contact fetch asks for (nothing else of the record is read)
CONTACT_PROPERTIES = ",".join(dict.fromkeys([p for p, _ in _PERSON_PROPERTIES] + list(_EVENT_PROPERTIES)))


def _record_id(record: dict[str, Any]) -> Any:
    props = record.get("properties")
    nested = _value(props.get("hs_object_id")) if isinstance(props, dict) else None
    return record.get("objectId") or record.get("vid") or record.get("canonical-vid") or nested


def _value(raw: Any) -> Any:
    """A property's value: ``{"value": …}`` in the classic record format, else the value itself."""
    return raw.get("value") if isinstance(raw, dict) else raw


def _stage_type(stage: Any, qualified: str, customer: str, default: str | None) -> str | None:
    """The event type a lifecycle stage makes: ``customer``, a qualified stage, or ``default``."""
    text = (clean(stage) or "").lower()
    return customer if text == "customer" else qualified if text in _QUALIFIED else default


class HubSpotSource(Source):
    name: ClassVar[str] = "hubspot"
    title: ClassVar[str] = "HubSpot"
    options_model = ModelRef("webhook_translator.sources.hubspot_models:HubSpotOptions")
    fetches: ClassVar[bool] = True
    events: ClassVar[dict[str, str]] = {
        WORKFLOW_LEAD: "Lead Created",
        WORKFLOW_QUALIFIED: "Lead Qualified",
        WORKFLOW_CUSTOMER: "Customer Created",
        CONTACT_CREATION: "Lead Created",
        CONTACT_QUALIFIED: "Lead Qualified",
        CONTACT_CUSTOMER: "Customer Created",
    }

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        hubspot_signing.verify(request, secrets)

    def webhook_id(self, request: InboundRequest) -> str | None:
        data = request.json()
        if isinstance(data, list):
            require(0 < len(data) <= MAX_ITEMS, f"not a HubSpot batch: expected 1 to {MAX_ITEMS} events")
            if len(data) == 1 and isinstance(data[0], dict):
                return require_id(data[0].get("eventId"), "not a HubSpot event: missing eventId")
            return None  # the receiver keys a batch on its body hash; each item has its own distinctId
        require(isinstance(data, dict), "not a HubSpot webhook: expected a JSON object or array")
        object_id = require_id(_record_id(data), "not a HubSpot record: missing objectId / vid / hs_object_id")
        return f"{object_id}:{hashlib.sha256(request.body).hexdigest()[:16]}"

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        """A workflow's API-key authentication (the signatures need the public URL: see docs/sources.md)."""
        return {"Content-Type": "application/json", "X-Webhook-Token": secret}

    # --- mapping ---------------------------------------------------------------------------------

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        data = envelope.json_body()
        options = ctx.options(models.HubSpotOptions)
        if isinstance(data, list):
            return self._map_batch(data, ctx, options)
        if not isinstance(data, dict):
            raise MappingError("HubSpot webhook does not match the expected shape (body)")
        return self._map_record(data, envelope, ctx, options)

    def _map_record(
        self, record: dict[str, Any], envelope: Envelope, ctx: MapContext, opts: HubSpotOptions
    ) -> MapResult:
        object_id = clean(_record_id(record))
        props = record.get("properties")
        if object_id is None or not isinstance(props, dict):
            raise MappingError("HubSpot record does not match the expected shape (objectId, properties)")
        values = {name: _value(raw) for name, raw in props.items()}
        stage = values.get("lifecyclestage")
        kind = _stage_type(stage, WORKFLOW_QUALIFIED, WORKFLOW_CUSTOMER, None) or WORKFLOW_LEAD
        if (skipped := ctx.unmapped(kind)) is not None:
            return skipped
        person = Person()
        if opts.external_id == "hubspot_id":
            person.offer("external_id", object_id)
        for prop, target in _PERSON_PROPERTIES:
            person.offer(target, values.get(prop))
        digest = hashlib.sha256(envelope.raw_body).hexdigest()[:16]
        properties = {
            "hubspot_object_id": object_id,
            "portal_id": clean(record.get("portal-id") or record.get("portalId")),
        }
        properties |= {prop: clean(values.get(prop)) for prop in _EVENT_PROPERTIES}
        track = ctx.track(
            kind,
            distinct_id=f"hubspot:{object_id}:{digest}",
            time=envelope.received_at_ms,
            event_properties=fit_properties(properties),
            **person.track_fields(),
        )
        return MapResult(event_type=kind, events=(track,))

    def _map_batch(self, items: list[Any], ctx: MapContext, opts: HubSpotOptions) -> MapResult:
        events: list[TrackEvent] = []
        failures: list[TranslatorError] = []
        kinds: list[str] = []
        for index, item in enumerate(items, start=1):
            try:
                kind, track = self._map_item(item, ctx, opts)
            except MappingError as exc:
                failures.append(MappingError(f"item {index} of {len(items)}: {exc.message}", reason=exc.reason))
                continue
            except TranslatorError as exc:  # this item's fetch: its own outcome (retryable keeps its delay)
                failures.append(exc)
                continue
            if kind not in kinds:
                kinds.append(kind)
            if track is not None:
                events.append(track)
        event_type = "+".join(kinds[:3]) or "batch"
        if not events and not failures:
            return ctx.skip(event_type)
        return MapResult(event_type=event_type, events=tuple(events), failures=tuple(failures))

    def _map_item(self, item: Any, ctx: MapContext, opts: HubSpotOptions) -> tuple[str, TrackEvent | None]:
        """One subscription event: (its type, its TrackEvent or None when it is skipped)."""
        if not isinstance(item, dict) or clean(item.get("eventId")) is None:
            raise MappingError("HubSpot event does not match the expected shape (eventId)")
        subscription = clean(item.get("subscriptionType")) or "-"
        kind: str | None = subscription
        if subscription == "contact.propertyChange":
            is_stage = item.get("propertyName") == "lifecyclestage"
            kind = (
                _stage_type(item.get("propertyValue"), CONTACT_QUALIFIED, CONTACT_CUSTOMER, None) if is_stage else None
            )
        if kind is None or ctx.unmapped(kind) is not None:
            return kind or subscription, None
        object_id, occurred = clean(item.get("objectId")), item.get("occurredAt")
        if object_id is None or not isinstance(occurred, int) or isinstance(occurred, bool):
            raise MappingError("HubSpot event does not match the expected shape (objectId, occurredAt)")
        contact = self._contact(object_id, ctx, opts)
        if contact is None and opts.external_id == "none":
            raise NoIdentity("a HubSpot subscription event carries no identity but the contact id (external_id: none)")
        values = contact or {}
        person = Person()
        if opts.external_id == "hubspot_id":
            person.offer("external_id", object_id)
        for prop, target in _PERSON_PROPERTIES:
            person.offer(target, values.get(prop))
        properties = {
            "hubspot_object_id": object_id,
            "portal_id": clean(item.get("portalId")),
            "subscription_type": subscription,
            "change_source": clean(item.get("changeSource")),
        }
        properties |= {prop: clean(values.get(prop)) for prop in _EVENT_PROPERTIES}
        if kind != CONTACT_CREATION:  # the stage the event set (the record may have moved on since)
            properties["lifecyclestage"] = clean(item.get("propertyValue"))
        track = ctx.track(
            kind,
            distinct_id=f"hubspot:{item['eventId']}",
            time=occurred,
            event_properties=fit_properties(properties),
            **person.track_fields(),
        )
        return kind, track

    def _contact(self, object_id: str, ctx: MapContext, opts: HubSpotOptions) -> dict[str, Any] | None:
        """The contact's properties from the CRM API; None when this run has no token (the id alone)."""
        if ctx.fetcher is None:
            return None
        try:
            answer = ctx.fetch(
                FetchRequest(
                    source=self.name,
                    base_url=opts.api_base_url,
                    path="/crm/v3/objects/contacts/" + quote(object_id, safe=""),
                    what="contact",
                    params={"properties": CONTACT_PROPERTIES, "archived": "false"},
                )
            )
        except NoApiCredential:
            return None
        props = answer.get("properties")
        if not isinstance(props, dict):
            raise MappingError("HubSpot contact does not match the expected shape (properties)")
        return props
