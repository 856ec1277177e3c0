"""The nested objects of a ``/track`` body: ``userProperties``, ``defaultProperties``, ``identityContext``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator
from pydantic_core import PydanticCustomError

from webhook_translator.ours.limits import AnyJson, Email, FiniteFloat, Id400, Properties, ShortText, check_json_value

__all__ = ["DefaultProperties", "IdentityContext", "OursModel", "UserProperties"]


class OursModel(BaseModel):
    """The base of the /track models: strict, frozen, only the keys Ours documents."""

    #: ``defer_build``: the schema is built on first validation, so a module that only imports these
    #: models (the receiver, through the sources) never pays for it
    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, str_strip_whitespace=False, defer_build=True
    )


class UserProperties(OursModel):
    """``userProperties``: the keys Ours knows. ``phone_number``, ``zip`` and ``is_bot`` take any JSON value."""

    email: Email | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    gender: ShortText | None = None
    date_of_birth: ShortText | None = None
    phone_number: AnyJson | None = None
    city: ShortText | None = None
    state: ShortText | None = None
    zip: AnyJson | None = None
    country: ShortText | None = None
    external_id: Id400 | None = None
    company_name: ShortText | None = None
    job_title: ShortText | None = None
    ip: ShortText | None = None
    user_agent: ShortText | None = None
    user_agent_full_list: ShortText | None = None
    referrer: ShortText | None = None
    referring_domain: ShortText | None = None
    consent: Properties | None = None
    custom_properties: Properties | None = None
    is_bot: AnyJson | None = None
    # click and campaign ids
    ad_id: ShortText | None = None
    adset_id: ShortText | None = None
    campaign_id: ShortText | None = None
    fbc: ShortText | None = None
    fbclid: ShortText | None = None
    fbp: ShortText | None = None
    gclid: ShortText | None = None
    gbraid: ShortText | None = None
    wbraid: ShortText | None = None
    msclkid: ShortText | None = None
    li_fat_id: ShortText | None = None
    ttclid: ShortText | None = None
    twclid: ShortText | None = None
    rdt_cid: ShortText | None = None
    sccid: ShortText | None = None
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    utm_term: ShortText | None = None
    utm_content: ShortText | None = None
    utm_name: ShortText | None = None

    @field_validator("phone_number", "zip", "is_bot")
    @classmethod
    def _json_value(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return check_json_value(value)


class DefaultProperties(OursModel):
    """``defaultProperties``: page and device context. ``received_at`` is Ours's own."""

    ip: ShortText | None = None
    user_agent: ShortText | None = None
    current_url: ShortText | None = None
    host: ShortText | None = None
    pathname: ShortText | None = None
    referrer: ShortText | None = None
    referring_domain: ShortText | None = None
    title: ShortText | None = None
    browser_name: ShortText | None = None
    browser_version: ShortText | None = None
    os_name: ShortText | None = None
    os_version: ShortText | None = None
    device_type: ShortText | None = None
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    utm_term: ShortText | None = None
    utm_content: ShortText | None = None
    utm_name: ShortText | None = None
    gclid: ShortText | None = None
    fbclid: ShortText | None = None
    msclkid: ShortText | None = None
    ttclid: ShortText | None = None
    activeDuration: StrictInt | FiniteFloat | None = None
    duration: StrictInt | FiniteFloat | None = None
    page_hash: StrictInt | FiniteFloat | None = None
    screen_height: StrictInt | FiniteFloat | None = None
    screen_width: StrictInt | FiniteFloat | None = None
    sessionCount: StrictInt | FiniteFloat | None = None
    fv: StrictBool | None = None
    iframe: StrictBool | None = None
    new_s: StrictBool | None = None
    webview: StrictBool | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_received_at(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "received_at" in data:
            raise PydanticCustomError("received_at", "received_at is set by Ours; do not send it")
        return data


class IdentityContext(OursModel):
    """The end user's network identity (never the server's): both keys required."""

    ip: ShortText
    user_agent: ShortText = Field(alias="userAgent")
