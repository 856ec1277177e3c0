"""Gravity Forms: entry ids (else the body hash), ``date_created``, All Fields (field ids, ``N.k`` inputs)
and Select Fields (chosen keys) bodies, JSON or form-encoded, through the shared resolver."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from webhook_translator.errors import BadRequest, MappingError
from webhook_translator.sources.common import iso_to_ms

URLENCODED = "application/x-www-form-urlencoded"


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("gravityforms")


def test_the_entry_id_is_the_webhook_id_and_a_body_without_one_is_hashed(h: Any) -> None:
    assert h.source.webhook_id(h.request({"id": "147", "form_id": "3"})) == "147"
    assert h.source.webhook_id(h.request(b"id=148&form_id=3", content_type=URLENCODED)) == "148"
    assert h.source.webhook_id(h.request({"email": "a@example.com"})) is None  # the receiver hashes the body
    for bad in (b"[1]", b"not json"):
        with pytest.raises(BadRequest):
            h.source.webhook_id(h.request(bad))
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request({"id": {"nested": 1}}))


def test_all_fields_map_the_name_inputs_the_lone_address_and_the_entry_time(h: Any) -> None:
    body = h.body("entry")
    track = h.one(body)
    assert track["distinctId"] == "gravityforms:147"
    assert track["email"] == "riley.chen@example.com"
    assert track["userProperties"] == {"first_name": "Riley", "last_name": "Chen"}
    assert track["time"] == iso_to_ms("2026-11-18T08:30:00Z")
    assert track["defaultProperties"] == {"ip": "203.0.113.21"}
    # the phone (a field id) is not guessed, the paragraph, checkboxes and the page URL are not forwarded
    text = json.dumps(track)
    assert "555-0142" not in text
    assert "evening classes" not in text
    assert "Yoga" not in text
    assert "clinic.example.com" not in text
    assert track["eventProperties"] == {"form_id": "3", "entry_id": "147"}


def test_options_name_the_phone_field_and_opt_the_checkboxes_in(h: Any) -> None:
    config = {"options": {"forms": {"3": {"fields": {"3": "phone_number"}, "include": ["4"]}}}}
    track = h.one(h.body("entry"), config=config)
    assert track["userProperties"]["phone_number"] == "(555) 555-0142"
    assert track["eventProperties"]["answers"] == {"4": ["Yoga", "Pilates"]}
    # another form id does not take form 3's settings
    other = {**h.body("entry"), "form_id": "4"}
    assert "phone_number" not in h.one(other, config=config)["userProperties"]


def test_an_address_group_never_reaches_event_properties_by_default(h: Any) -> None:
    body = {"id": "9", "form_id": "1", "2": "pat@example.com", "4.1": "1 Example St", "4.3": "Reno", "4.5": "89501"}
    track = h.one(body)
    assert "Example St" not in json.dumps(track)


def test_select_fields_form_post_maps_chosen_keys_and_hashes_the_body(h: Any) -> None:
    sample = h.sample("select_fields_form")
    body = sample["body_text"]
    first = h.one(body, content_type=URLENCODED)
    second = h.one(body, content_type=URLENCODED)
    assert first["distinctId"] == second["distinctId"]
    assert first["distinctId"].startswith("gravityforms:sha256:")
    assert first["email"] == "sam.okafor@example.com"
    assert first["userProperties"]["phone_number"] == "555-555-0107"
    assert first["time"] == h.now_ms - 60_000  # no date_created: the receive time
    changed = h.one(body.replace("Physiotherapy", "Massage"), content_type=URLENCODED)
    assert changed["distinctId"] != first["distinctId"]


def test_a_name_with_only_a_last_name_and_a_consent_option(h: Any) -> None:
    body = urlencode({"id": "5", "form_id": "2", "1.6": "Lovelace", "2": "ada@example.com", "9.1": "I agree"})
    track = h.one(body, content_type=URLENCODED, config={"options": {"consent": {"9": "marketing"}}})
    assert track["userProperties"] == {"last_name": "Lovelace", "consent": {"marketing": True}}


def test_a_body_that_is_no_entry_is_a_mapping_error(h: Any) -> None:
    with pytest.raises(MappingError):
        h.map(b"[]")
    with pytest.raises(MappingError):
        h.map({"id": "1", "date_created": "yesterday", "2": "a@example.com"})


def test_a_dropped_submission_is_skipped(h: Any) -> None:
    assert h.map(h.body("entry"), config={"drop": ["submission"]}).skipped == "dropped_by_config"
