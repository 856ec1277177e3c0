"""The pydantic models of :mod:`.webflow` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from webhook_translator.sources.models import LaxModel


class Submission(LaxModel):
    id: str = Field(min_length=1)
    name: str | None = None
    siteId: str | None = None
    formId: str | None = None
    formElementId: str | None = None
    pageId: str | None = None
    pageUrl: str | None = None
    publishedPath: str | None = None
    submittedAt: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)


class WebflowEvent(LaxModel):
    triggerType: str = Field(min_length=1)
    payload: dict[str, Any] | None = None
