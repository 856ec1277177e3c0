"""The pydantic models of :mod:`.zoom` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from pydantic import Field

from webhook_translator.sources.models import LaxModel


class Attendee(LaxModel):
    """A registrant or a participant (the fields both may carry)."""

    id: str | None = None
    participant_uuid: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    user_name: str | None = None
    phone: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None
    org: str | None = None
    job_title: str | None = None
    status: str | None = None
    join_time: str | None = None


class ZoomObject(LaxModel):
    id: int | str | None = None
    uuid: str | None = None
    topic: str | None = None
    type: int | None = None
    start_time: str | None = None
    timezone: str | None = None
    registrant: Attendee | None = None
    participant: Attendee | None = None


class Payload(LaxModel):
    account_id: str | None = None
    object: ZoomObject


class ZoomEvent(LaxModel):
    event: str = Field(min_length=1)
    event_ts: int
    payload: Payload
