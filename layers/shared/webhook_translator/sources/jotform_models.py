"""The pydantic models of :mod:`.jotform` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from pydantic import Field

from webhook_translator.sources.models import LaxModel


class Submission(LaxModel):
    submissionID: str = Field(min_length=1)
    formID: str | None = None
    formTitle: str | None = None
    ip: str | None = None
    rawRequest: str = Field(min_length=1)
