"""The nested objects of a ``/track`` body: ``userProperties``, ``defaultProperties``, ``identityContext``.

Each field is declared once, with its rule (:mod:`.record`); the order is the order of the sent body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webhook_translator.ours.checks import Errors, boolean, json_value, number, properties, text
from webhook_translator.ours.limits import EMAIL_MAX, ID_MAX, TEXT_MAX
from webhook_translator.ours.record import Field, Record

__all__ = ["DefaultProperties", "IdentityContext", "UserProperties"]

_text = text(TEXT_MAX)


class UserProperties(Record):
    """``userProperties``: the keys Ours knows. ``phone_number``, ``zip`` and ``is_bot`` take any JSON value."""

    __slots__ = ()

    email = Field[str](text(EMAIL_MAX))
    first_name = Field[str](_text)
    last_name = Field[str](_text)
    gender = Field[str](_text)
    date_of_birth = Field[str](_text)
    phone_number = Field[Any](json_value)
    city = Field[str](_text)
    state = Field[str](_text)
    zip = Field[Any](json_value)
    country = Field[str](_text)
    external_id = Field[str](text(ID_MAX))
    company_name = Field[str](_text)
    job_title = Field[str](_text)
    ip = Field[str](_text)
    user_agent = Field[str](_text)
    user_agent_full_list = Field[str](_text)
    referrer = Field[str](_text)
    referring_domain = Field[str](_text)
    consent = Field[dict[str, Any]](properties)
    custom_properties = Field[dict[str, Any]](properties)
    is_bot = Field[Any](json_value)
    # click and campaign ids
    ad_id = Field[str](_text)
    adset_id = Field[str](_text)
    campaign_id = Field[str](_text)
    fbc = Field[str](_text)
    fbclid = Field[str](_text)
    fbp = Field[str](_text)
    gclid = Field[str](_text)
    gbraid = Field[str](_text)
    wbraid = Field[str](_text)
    msclkid = Field[str](_text)
    li_fat_id = Field[str](_text)
    ttclid = Field[str](_text)
    twclid = Field[str](_text)
    rdt_cid = Field[str](_text)
    sccid = Field[str](_text)
    utm_source = Field[str](_text)
    utm_medium = Field[str](_text)
    utm_campaign = Field[str](_text)
    utm_term = Field[str](_text)
    utm_content = Field[str](_text)
    utm_name = Field[str](_text)


class DefaultProperties(Record):
    """``defaultProperties``: page and device context. ``received_at`` is Ours's own."""

    __slots__ = ()

    ip = Field[str](_text)
    user_agent = Field[str](_text)
    current_url = Field[str](_text)
    host = Field[str](_text)
    pathname = Field[str](_text)
    referrer = Field[str](_text)
    referring_domain = Field[str](_text)
    title = Field[str](_text)
    browser_name = Field[str](_text)
    browser_version = Field[str](_text)
    os_name = Field[str](_text)
    os_version = Field[str](_text)
    device_type = Field[str](_text)
    utm_source = Field[str](_text)
    utm_medium = Field[str](_text)
    utm_campaign = Field[str](_text)
    utm_term = Field[str](_text)
    utm_content = Field[str](_text)
    utm_name = Field[str](_text)
    gclid = Field[str](_text)
    fbclid = Field[str](_text)
    msclkid = Field[str](_text)
    ttclid = Field[str](_text)
    activeDuration = Field[int | float](number)
    duration = Field[int | float](number)
    page_hash = Field[int | float](number)
    screen_height = Field[int | float](number)
    screen_width = Field[int | float](number)
    sessionCount = Field[int | float](number)
    fv = Field[bool](boolean)
    iframe = Field[bool](boolean)
    new_s = Field[bool](boolean)
    webview = Field[bool](boolean)

    @classmethod
    def _precheck(cls, data: Mapping[str, Any], where: str, errors: Errors) -> None:
        if "received_at" in data:  # set by Ours; do not send it
            errors.append((where, "received_at"))


class IdentityContext(Record):
    """The end user's network identity (never the server's): both keys required."""

    __slots__ = ()

    ip = Field[str](_text, required=True)
    user_agent = Field[str](_text, alias="userAgent", required=True)
