"""WPForms: chosen keys through the shared resolver, JSON or form-encoded, ``entry_id`` when the owner
sends it (else the body hash), the receive time, data minimisation by default."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.errors import BadRequest, MappingError

URLENCODED = "application/x-www-form-urlencoded"


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("wpforms")


def test_the_entry_id_is_the_webhook_id_when_sent(h: Any) -> None:
    assert h.source.webhook_id(h.request({"entry_id": 88, "Email": "a@example.com"})) == "88"
    assert h.source.webhook_id(h.request(b"entry_id=89", content_type=URLENCODED)) == "89"
    assert h.source.webhook_id(h.request({"Email": "a@example.com"})) is None
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(b'"a string"'))
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request({"entry_id": "x" * 201}))


def test_the_json_sample_maps_its_chosen_keys(h: Any) -> None:
    track = h.one(h.body("entry"))
    assert track["distinctId"] == "wpforms:88"
    assert track["email"] == "morgan.patel@example.com"
    assert track["userProperties"] == {
        "first_name": "Morgan",
        "last_name": "Patel",
        "phone_number": "(555) 555-0199",
        "utm_source": "newsletter",
    }
    assert track["eventProperties"] == {"form_id": "1204", "entry_id": "88"}
    assert track["time"] == h.now_ms - 60_000
    text = json.dumps(track)
    assert "insurance" not in text
    assert "Initial consultation" not in text


def test_include_and_consent_options(h: Any) -> None:
    config = {"options": {"include": ["Service"], "consent": {"Message": "marketing"}}}
    track = h.one(h.body("entry"), config=config)
    assert track["eventProperties"]["answers"] == {"Service": "Initial consultation"}
    assert "consent" not in track["userProperties"]  # a question is neither yes nor no: nothing sent


def test_a_form_post_without_entry_id_gets_a_deterministic_body_hash_id(h: Any) -> None:
    body = h.sample("form_post")["body_text"]
    first, second = h.one(body, content_type=URLENCODED), h.one(body, content_type=URLENCODED)
    assert first["distinctId"] == second["distinctId"]
    assert first["distinctId"].startswith("wpforms:sha256:")
    assert first["email"] == "taylor.reed@example.com"
    assert first["userProperties"] == {"first_name": "Taylor", "last_name": "Reed"}


def test_a_submission_with_nobody_in_it_is_no_identity(h: Any) -> None:
    with pytest.raises(MappingError) as info:
        h.map({"entry_id": "1", "Message": "hello"})
    assert info.value.reason == "no_identity"


def test_a_body_that_is_no_form_post_is_a_mapping_error(h: Any) -> None:
    with pytest.raises(MappingError):
        h.map(b"[]")


def test_a_dropped_submission_is_skipped(h: Any) -> None:
    assert h.map(h.body("entry"), config={"drop": ["submission"]}).skipped == "dropped_by_config"
