"""The pydantic models of :mod:`.standard_webhooks` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from webhook_translator.ours.models import UserProperties
from webhook_translator.sources.models import LaxModel


class StandardData(LaxModel):
    model_config = ConfigDict(extra="allow")  # the other keys are kept: the user properties are read from them

    user_id: str | int | None = Field(default=None, validation_alias=AliasChoices("userId", "ours_user_id"))
    external_id: str | int | None = Field(default=None, validation_alias=AliasChoices("externalId", "external_id"))
    email: str | None = None
    phone: str | int | None = None
    properties: dict[str, Any] = Field(default_factory=dict)


class StandardOptions(BaseModel):
    """No options: the envelope says where everything goes (unknown options are refused)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class StandardEvent(LaxModel):
    type: str = Field(min_length=1)
    timestamp: str | int | float | None = None
    data: StandardData = Field(default_factory=StandardData)


#: the userProperties keys a Standard Webhooks event's data may carry (``external_id`` is the mapping's own)
USER_KEYS = tuple(k for k in UserProperties.field_names() if k != "external_id")
