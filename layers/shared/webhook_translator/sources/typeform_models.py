"""The pydantic models of :mod:`.typeform` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from webhook_translator.sources.identity import Kind
from webhook_translator.sources.models import LaxModel
from webhook_translator.sources.typeform import _KINDS


class FieldRef(LaxModel):
    id: str | None = None
    ref: str | None = None
    type: str | None = None
    title: str | None = None


class Choice(LaxModel):
    label: str | None = None
    other: str | None = None


class Choices(LaxModel):
    labels: list[str] = Field(default_factory=list)
    other: str | None = None


class Payment(LaxModel):
    amount: str | None = None
    success: bool | None = None


class TypeformAnswer(LaxModel):
    type: str
    field: FieldRef = Field(default_factory=FieldRef)
    text: str | None = None
    email: str | None = None
    phone_number: str | None = None
    url: str | None = None
    file_url: str | None = None
    date: str | None = None
    number: float | None = None
    boolean: bool | None = None
    choice: Choice | None = None
    choices: Choices | None = None
    payment: Payment | None = None

    def kind_value(self, field_type: str | None) -> tuple[Kind, Any]:
        """What the answer is and its value (choices as labels; a choice's typed-in "other" is text)."""
        answer_type = self.type
        kind = _KINDS.get(answer_type)
        if kind is not None and answer_type != "number":  # a plain value (the most answers): one lookup
            value = getattr(self, answer_type)
            if kind == "text" and field_type == "long_text":
                kind = "long_text"
            return kind, value if isinstance(value, str | int | float | bool) else None
        if answer_type == "choice" and self.choice is not None:
            return ("choice", self.choice.label) if self.choice.label else ("text", self.choice.other)
        if answer_type == "choices" and self.choices is not None:
            return "choice", list(self.choices.labels) or None
        if answer_type == "payment" and self.payment is not None:
            return "payment", {"amount": self.payment.amount, "success": self.payment.success}
        if answer_type == "number":
            number = self.number
            return "number", int(number) if number is not None and number.is_integer() else number
        return "other", None


class Variable(LaxModel):
    key: str
    type: str | None = None
    number: float | None = None
    text: str | None = None


class Calculated(LaxModel):
    score: float | None = None


class Definition(LaxModel):
    id: str | None = None
    title: str | None = None
    fields: list[FieldRef] = Field(default_factory=list)


class FormResponse(LaxModel):
    form_id: str | None = None
    token: str = Field(min_length=1)
    submitted_at: str | None = None
    landed_at: str | None = None
    hidden: dict[str, Any] = Field(default_factory=dict)
    calculated: Calculated | None = None
    variables: list[Variable] = Field(default_factory=list)
    definition: Definition | None = None
    answers: list[TypeformAnswer] = Field(default_factory=list)


class TypeformEvent(LaxModel):
    event_id: str | None = None
    event_type: str = Field(min_length=1)
    form_response: FormResponse | None = None
