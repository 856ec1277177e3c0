"""The pydantic models of :mod:`.stripe` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from webhook_translator.sources.models import ApiBaseUrl, ConsentKey, LaxModel
from webhook_translator.sources.stripe import DEFAULT_API_URL
from webhook_translator.sources.stripe_shapes import StripeObject


class EventData(LaxModel):
    object: StripeObject


class StripeEventHead(LaxModel):
    """What every Stripe event has, read before the type decides whether the object matters."""

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    created: int


class StripeEvent(StripeEventHead):
    #: ``event`` for a snapshot event (a thin one says ``v2.core.event``)
    object: str | None = None
    livemode: bool | None = None
    data: EventData


class RelatedObject(LaxModel):
    id: str = Field(min_length=1)
    type: str | None = None
    url: str = Field(min_length=1)


class ThinEvent(LaxModel):
    """A v2 thin event notification: a reference, not the object."""

    id: str = Field(min_length=1)
    type: str = Field(min_length=1)
    created: str | int
    livemode: bool | None = None
    related_object: RelatedObject


class StripeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    #: a metadata key holding the merchant's own user id (checked first: the object's metadata, then the
    #: subscription metadata an invoice carries)
    external_id_metadata_key: str | None = None
    #: Checkout's ``consent`` fields → ``userProperties.consent`` keys, e.g. ``{"promotions": "marketing"}``
    #: (``opt_in`` / ``accepted`` → true, ``opt_out`` → false; nothing sent when not configured)
    consent: dict[str, ConsentKey] = Field(default_factory=dict)
    #: the API thin events' related objects are fetched from (with the restricted key ``api_token``)
    api_base_url: ApiBaseUrl = DEFAULT_API_URL
