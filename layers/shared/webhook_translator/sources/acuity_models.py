"""The pydantic models of :mod:`.acuity` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from webhook_translator.sources.acuity import DEFAULT_ACUITY_URL
from webhook_translator.sources.models import ApiBaseUrl, LaxModel


class AcuityOptions(BaseModel):
    """``api_base_url`` (the Acuity API with its version), ``map_changed`` (map ``changed``; default off)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    api_base_url: ApiBaseUrl = DEFAULT_ACUITY_URL
    map_changed: bool = False


class Appointment(LaxModel):
    """The fields of ``GET /appointments/{id}`` this source reads — and no others (no forms, no notes)."""

    id: int | str
    email: str | None = None
    phone: str | None = None
    firstName: str | None = None  # Acuity's own names
    lastName: str | None = None
    datetime: str | None = None
    endTime: str | None = None
    duration: str | int | None = None
    type: str | None = None
    appointmentTypeID: int | str | None = None
    calendarID: int | str | None = None
    timezone: str | None = None
    price: str | None = None
    paid: str | None = None
    amountPaid: str | None = None
    canceled: bool | None = None
