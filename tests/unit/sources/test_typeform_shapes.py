"""Typeform's payload shapes (one model, TypedDicts inside): each refusal names the same fields as the
all-model shapes did, and pydantic's conversions still apply to values inside the dicts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.errors import MappingError

SHAPE = "Typeform webhook does not match the expected shape "


def response(**fields: Any) -> dict[str, Any]:
    return {"event_type": "form_response", "form_response": {"token": "t", **fields}}


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("typeform")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "body is not valid JSON"),
        (b"[1, 2]", SHAPE + "(body)"),
        ({"event_type": ""}, SHAPE + "(event_type)"),
        ({"form_response": {"token": "t"}}, SHAPE + "(event_type)"),
        ({"event_type": "form_response", "form_response": {"token": ""}}, SHAPE + "(form_response.token)"),
        (response(answers=None), SHAPE + "(form_response.answers)"),
        (response(answers=[{"text": "x"}]), SHAPE + "(form_response.answers.0.type)"),
        (response(answers=[{"type": "number", "number": "lots"}]), SHAPE + "(form_response.answers.0.number)"),
        (response(answers=[{"type": "text", "field": None}]), SHAPE + "(form_response.answers.0.field)"),
        (
            response(answers=[{"type": "choices", "choices": {"labels": [1]}}]),
            SHAPE + "(form_response.answers.0.choices.labels.0)",
        ),
        (response(answers=[{"type": "boolean", "boolean": "maybe"}]), SHAPE + "(form_response.answers.0.boolean)"),
        (response(definition={"fields": [{"id": 7}]}), SHAPE + "(form_response.definition.fields.0.id)"),
        (response(variables=[{"type": "number", "number": 1}]), SHAPE + "(form_response.variables.0.key)"),
        (response(calculated={"score": "high"}), SHAPE + "(form_response.calculated.score)"),
        (response(hidden=["a"]), SHAPE + "(form_response.hidden)"),
        ({"event_type": "form_response", "form_response": None}, SHAPE + "(form_response)"),
        (
            {"event_type": "form_response", "form_response": {"token": 5, "form_id": 3, "answers": [{"type": 1}]}},
            SHAPE + "(form_response.answers.0.type, form_response.form_id, form_response.token)",
        ),
    ],
)
def test_a_malformed_payload_is_refused_naming_its_fields(h: Any, body: Any, message: str) -> None:
    with pytest.raises(MappingError) as caught:
        h.map(body)
    assert caught.value.message == message


def test_values_inside_the_dicts_are_converted_as_a_model_converts_them(h: Any) -> None:
    # Given a number sent as text and as a float, a boolean as "true", a score as a float
    def body(number: Any, boolean: Any, score: Any) -> dict[str, Any]:
        answers = [
            {"type": "email", "email": "conv@example.com", "field": {"id": "e", "ref": "e"}},
            {"type": "number", "number": number, "field": {"id": "n", "ref": "budget"}},
            {"type": "boolean", "boolean": boolean, "field": {"id": "b", "ref": "ok"}},
        ]
        return response(submitted_at=h.at(60).isoformat(), answers=answers, calculated={"score": score})

    # Then each maps as the plain JSON value does: whole numbers as ints, the boolean as True
    plain = h.one(body(2500, True, 9))["eventProperties"]
    assert plain["answers"] == {"budget": 2500, "ok": True}
    assert plain["score"] == 9
    assert h.one(body("2500", "true", 9.0))["eventProperties"] == plain
