"""The pydantic models of :mod:`.calendly` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from webhook_translator.sources.models import LaxModel


class QuestionAnswer(LaxModel):
    question: str | None = None
    answer: Any = None


class Location(LaxModel):
    type: str | None = None


class ScheduledEvent(LaxModel):
    uri: str | None = None
    name: str | None = None
    status: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    event_type: str | None = None
    location: Location | None = None


class Cancellation(LaxModel):
    canceler_type: str | None = None
    reason: str | None = None


class RoutingResult(LaxModel):
    type: str | None = None
    value: Any = None


class Payload(LaxModel):
    """An invitee (``invitee.*``, ``invitee_no_show.created``) or a routing form submission."""

    uri: str = Field(min_length=1)
    # invitee
    email: str | None = None
    name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    text_reminder_number: str | None = None
    timezone: str | None = None
    status: str | None = None
    rescheduled: bool | None = None
    old_invitee: str | None = None
    new_invitee: str | None = None
    event: str | None = None
    scheduled_event: ScheduledEvent | None = None
    cancellation: Cancellation | None = None
    # routing form submission
    routing_form: str | None = None
    result: RoutingResult | None = None
    submitter: str | None = None
    # both
    questions_and_answers: list[QuestionAnswer] = Field(default_factory=list)
    tracking: dict[str, Any] | None = None


class CalendlyEvent(LaxModel):
    event: str = Field(min_length=1)
    created_at: str = Field(min_length=1)
    payload: dict[str, Any] | None = None
