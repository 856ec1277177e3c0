"""``explain``: each path of a spec with the value it found — ids, types and times as found, personal values masked."""

from __future__ import annotations

import pytest
from spec_support import context, envelope, sample_body

from webhook_translator.sources.registry import REGISTRY
from webhook_translator.spec import ExplainRow, compile_spec, explain
from webhook_translator.spec.explainer import mask_text


def rows_by_path(rows: list[ExplainRow]) -> dict[str, ExplainRow]:
    return {row.path: row for row in rows}


def test_explain_shows_each_path_its_expression_and_a_masked_value() -> None:
    # Given Clerk's user.created
    source = REGISTRY["clerk"]
    env = envelope(source, sample_body("clerk", "user_created"), {"svix-id": "msg_1"})
    # When it is explained
    rows = rows_by_path(explain(source, env, context(source)))
    # Then the type and time are shown as found, the personal values masked, and the outcome named
    assert rows["event_type.path"].expression == "type"
    assert rows["event_type.path"].value == '"user.created"'
    assert rows["time.path"].value == "1794991512335"
    assert rows["identity.email"].value == '"e***@e***.org"'
    assert rows["identity.phone_number"].value == '"<masked: 12 chars>"'
    assert rows["userProperties.first_name"].value == '"<masked: 7 chars>"'
    assert rows["→"].value == "User Signed Up (distinctId clerk:msg_1)"
    text = " ".join(f"{r.path} {r.expression} {r.value}" for r in rows.values())
    for personal in ("Example@Example.org", "example@example.org", "+15555550142", "203.0.113.7"):
        assert personal not in text


def test_explain_of_a_batch_shows_each_item_and_its_outcome() -> None:
    spec = {
        "verifier": {"type": "token"},
        "batch": "items",
        "item_id": "id",
        "event_type": {"path": "kind"},
        "events": {"signup": "Signed Up"},
        "identity": {"email": "email"},
        "filters": [{"when": "test", "reason": "test_mode"}],
    }
    source = compile_spec("acme", spec)
    body = {"items": [{"id": "a", "kind": "signup", "email": "x@y.io"}, {"id": "b", "kind": "signup", "test": True}]}
    rows = rows_by_path(explain(source, envelope(source, body), context(source)))
    assert rows["batch"].value == "<2 items>"
    assert rows["items[0].identity.email"].value == '"x***@y***.io"'
    assert rows["items[0].filters[0].when"].value == "false"
    assert rows["items[1].filters[0].when"].value == "true"
    assert rows["items[0].→"].value == "Signed Up (distinctId acme:a)"
    assert rows["items[1].→"].value == "skipped (test_mode)"


def test_explain_names_a_mapping_failure_instead_of_raising() -> None:
    source = compile_spec(
        "acme", {"verifier": {"type": "token"}, "event_type": {"path": "t"}, "events": {"a": "A"}, "identity": {}}
    )
    rows = rows_by_path(explain(source, envelope(source, {"t": "a"}), context(source)))
    assert rows["→"].value.startswith("error (no_identity)")


def test_explain_refuses_a_built_in_source() -> None:
    with pytest.raises(TypeError, match="not a declarative"):
        explain(
            REGISTRY["stripe"],
            envelope(REGISTRY["clerk"], {"type": "user.created"}, {"svix-id": "m"}),
            context(REGISTRY["stripe"]),
        )


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("jane@example.com", "j***@e***.com", id="email"),
        pytest.param("Jane Doe", "<masked: 8 chars>", id="name"),
        pytest.param("+15555550142", "<masked: 12 chars>", id="phone"),
        pytest.param("not an@email here", "<masked: 17 chars>", id="text-with-at"),
    ],
)
def test_masking(text: str, shown: str) -> None:
    assert mask_text(text) == shown
