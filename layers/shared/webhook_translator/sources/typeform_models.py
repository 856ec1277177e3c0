"""The shapes of :mod:`.typeform`'s payload (its mapper imports them; :mod:`.models` says why apart).

One pydantic model, the event; everything inside it is a ``TypedDict``: pydantic validates and
converts each value exactly as it would for a model's field (unknown keys ignored, whole numbers
read as floats…) and gives plain dicts, so a response of dozens of answers and fields builds one
model instance instead of dozens. A missing optional key is absent from its dict (the mapper
reads it with ``.get``).
"""

from __future__ import annotations

from typing import Annotated, Any, Required

from pydantic import ConfigDict, Field, with_config
from typing_extensions import TypedDict  # pydantic takes typing_extensions' TypedDict on Python 3.11 (its dependency)

from webhook_translator.sources.models import LaxModel

#: the provider's objects, as LaxModel: unknown keys ignored
_LAX = ConfigDict(extra="ignore")
NonEmpty = Annotated[str, Field(min_length=1)]


@with_config(_LAX)
class FieldRef(TypedDict, total=False):
    id: str | None
    ref: str | None
    type: str | None
    title: str | None


@with_config(_LAX)
class Choice(TypedDict, total=False):
    label: str | None
    other: str | None


@with_config(_LAX)
class Choices(TypedDict, total=False):
    labels: list[str]
    other: str | None


@with_config(_LAX)
class Payment(TypedDict, total=False):
    amount: str | None
    success: bool | None


@with_config(_LAX)
class TypeformAnswer(TypedDict, total=False):
    type: Required[str]
    field: FieldRef
    text: str | None
    email: str | None
    phone_number: str | None
    url: str | None
    file_url: str | None
    date: str | None
    number: float | None
    boolean: bool | None
    choice: Choice | None
    choices: Choices | None
    payment: Payment | None


@with_config(_LAX)
class Variable(TypedDict, total=False):
    key: Required[str]
    type: str | None
    number: float | None
    text: str | None


@with_config(_LAX)
class Calculated(TypedDict, total=False):
    score: float | None


@with_config(_LAX)
class Definition(TypedDict, total=False):
    id: str | None
    title: str | None
    fields: list[FieldRef]


@with_config(_LAX)
class FormResponse(TypedDict, total=False):
    form_id: str | None
    token: Required[NonEmpty]
    submitted_at: str | None
    landed_at: str | None
    hidden: dict[str, Any]
    calculated: Calculated | None
    variables: list[Variable]
    definition: Definition | None
    answers: list[TypeformAnswer]


class TypeformEvent(LaxModel):
    event_id: str | None = None
    event_type: NonEmpty
    form_response: FormResponse | None = None
