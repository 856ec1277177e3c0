"""Standard Webhooks — ``POST /webhooks/standard-webhooks`` (any sender you control).

Signature (https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp``
(seconds) and ``webhook-signature: v1,<base64> [v1,<base64> …]`` — Svix's
``svix-id`` / ``svix-timestamp`` / ``svix-signature`` are accepted as aliases —
HMAC-SHA256 over ``{id}.{timestamp}.{body}`` with the ``whsec_<base64>`` secret
(prefix stripped, base64-decoded). Any listed ``v1`` signature may match; other
versions (``v1a``…) are skipped; timestamps more than 5 min from our clock are refused.

Body — the documented envelope::

    {"type": "Lead Created",                       # the Ours event name (renamable)
     "timestamp": "2026-11-18T08:00:00Z",          # ISO 8601, or epoch s / ms (optional)
     "data": {"userId": "<Ours visitor id>", "externalId": "<your user id>",
              "email": "…", "phone_number": "…", "first_name": "…", "last_name": "…",
              "company_name": "…", "utm_source": "…",  # any userProperties key
              "properties": {…}}}                     # → eventProperties

Ids: ``webhook-id`` is the webhook id; ``distinctId`` = ``standard-webhooks:{webhook-id}``;
``time`` = the payload's ``timestamp``, else ``webhook-timestamp`` × 1000.
Other keys of ``data`` are ignored: put them in ``properties``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.lazy import lazy_module
from webhook_translator.sources.base import HmacSource, ModelRef, require, require_id
from webhook_translator.sources.common import clean, compact, fit_properties, iso_to_ms, scalar_text
from webhook_translator.sources.context import MapContext, MapResult, parse_body
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme

if TYPE_CHECKING:
    from webhook_translator.ours import models as ours_models
    from webhook_translator.sources import standard_webhooks_models as models
    from webhook_translator.sources.standard_webhooks_models import StandardData
else:  # the pydantic models: imported by the forwarder's first Standard Webhooks event, never by the receiver
    models = lazy_module("webhook_translator.sources.standard_webhooks_models")
    ours_models = lazy_module("webhook_translator.ours.models")

#: the three headers, each with its Svix alias
HEADERS = ("id", "timestamp", "signature")
#: userProperties keys that hold objects (the rest are text; ``is_bot`` may be a boolean)
_OBJECTS = frozenset({"consent", "custom_properties"})


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(f"webhook-{name}") or headers.get(f"svix-{name}")
    return str(value).strip() if value else None


def _time_ms(value: str | int | float | None) -> int | None:
    """An ISO 8601 time or an epoch in seconds or milliseconds, as ms."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return iso_to_ms(value)
    else:
        number = float(value)
    if not math.isfinite(number):
        return None
    return int(number if number >= ours_models.MIN_PLAUSIBLE_MS else number * 1000)


def _user_properties(data: StandardData) -> dict[str, Any]:
    extra = data.model_extra or {}
    props: dict[str, Any] = {}
    for key in models.USER_KEYS:
        value = extra.get(key)
        if key in _OBJECTS:
            props[key] = fit_properties(value) if isinstance(value, dict) and value else None
        elif key == "is_bot":
            props[key] = value if isinstance(value, bool) else scalar_text(value)
        else:
            props[key] = scalar_text(value)
    if props.get("phone_number") is None:
        props["phone_number"] = scalar_text(data.phone)
    return compact(props)


class StandardWebhooksSource(HmacSource):
    name: ClassVar[str] = "standard-webhooks"
    options_model = ModelRef("webhook_translator.sources.standard_webhooks_models:StandardOptions")
    title: ClassVar[str] = "Standard Webhooks (generic)"
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="webhook-signature",
        signed="{id}.{t}.{body}",
        encoding="base64",
        layout="versioned",
        timestamp_header="webhook-timestamp",
        tolerance=300,
        id_header="webhook-id",
        secret_encoding="whsec_base64",
    )
    events: ClassVar[dict[str, str]] = {"*": "(the payload's type)"}
    forwarded_headers: ClassVar[tuple[str, ...]] = ("webhook-id", "webhook-timestamp", "svix-id", "svix-timestamp")

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        # one scheme, with each svix-* header standing in for its missing webhook-* twin
        headers = dict(request.headers)
        for name in HEADERS:
            if not headers.get(f"webhook-{name}") and headers.get(f"svix-{name}"):
                headers[f"webhook-{name}"] = headers[f"svix-{name}"]
        self.scheme.verify(dataclasses.replace(request, headers=headers), secrets)

    def webhook_id(self, request: InboundRequest) -> str:
        ident = require_id(_header(request.headers, "id"), "missing webhook-id header", max_length=250)
        data = request.json()
        require(isinstance(data, dict), "not a Standard Webhooks event: expected a JSON object")
        require(isinstance(data.get("type"), str) and data["type"].strip(), "not a Standard Webhooks event: no type")
        return ident

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        event = parse_body(models.StandardEvent, envelope, "Standard Webhooks event")
        kind = event.type.strip()
        if ctx.dropped(kind):
            return ctx.skip(kind, "dropped_by_config")
        ctx.options(models.StandardOptions)
        data = event.data
        ident = _header(envelope.headers, "id") or envelope.webhook_id
        when = _time_ms(event.timestamp)
        if when is None:
            sent = _header(envelope.headers, "timestamp")
            when = _time_ms(sent) if sent else envelope.received_at_ms
        user_properties = _user_properties(data)
        track = ctx.track(
            kind,
            distinct_id=f"{self.name}:{ident}",
            time=when,
            user_id=clean(data.user_id),
            external_id=clean(data.external_id),
            email=clean(data.email),
            user_properties=user_properties or None,
            event_properties=fit_properties(data.properties) or None,
        )
        return MapResult(event_type=kind, events=(track,))
