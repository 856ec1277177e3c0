"""The pydantic models of :mod:`.hubspot` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from webhook_translator.sources.hubspot import DEFAULT_API_URL
from webhook_translator.sources.models import ApiBaseUrl


class HubSpotOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    #: ``hubspot_id``: the contact id is sent as ``externalId``; ``none``: never
    external_id: Literal["hubspot_id", "none"] = "hubspot_id"
    #: the CRM API the subscription events' contacts are fetched from (with the ``api_token``)
    api_base_url: ApiBaseUrl = DEFAULT_API_URL
