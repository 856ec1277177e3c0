"""The pydantic models of :mod:`.facebook_leads` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from webhook_translator.sources.common import Target
from webhook_translator.sources.facebook_leads import DEFAULT_GRAPH_URL
from webhook_translator.sources.models import ApiBaseUrl, LaxModel


class LeadOptions(BaseModel):
    """``api_base_url`` (the Graph API with its version), ``field_map`` (custom question name → target)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    api_base_url: ApiBaseUrl = DEFAULT_GRAPH_URL
    field_map: dict[str, Target] = Field(default_factory=dict)


class LeadChange(LaxModel):
    leadgen_id: str | int
    page_id: str | int | None = None
    form_id: str | int | None = None
    ad_id: str | int | None = None
    adgroup_id: str | int | None = None
    created_time: int | None = None


class Change(LaxModel):
    field: str | None = None
    value: dict[str, Any] | None = None


class Entry(LaxModel):
    id: str | int | None = None
    changes: list[Change] = Field(default_factory=list)


class PageWebhook(LaxModel):
    object: str | None = None
    entry: list[Entry] = Field(default_factory=list)


class FieldAnswer(LaxModel):
    name: str | None = None
    values: list[Any] = Field(default_factory=list)


class Lead(LaxModel):
    """The Graph API's lead (``GET /{leadgen_id}``), only the fields asked for."""

    field_data: list[FieldAnswer] = Field(default_factory=list)
    created_time: str | None = None
    ad_id: str | None = None
    adset_id: str | None = None
    campaign_id: str | None = None
    form_id: str | None = None
    is_organic: bool | None = None
    platform: str | None = None
