"""Typeform: the ``Typeform-Signature`` check, the response token as id, and the mapping card."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.errors import BadRequest, MappingError, SignatureError
from webhook_translator.ours.models import InvalidTrackEvent

SECRET = "typeform-test-secret-1"
OTHER = "typeform-other-secret-2"
BODY = b'{"event_id":"01J","event_type":"form_response","form_response":{"token":"tok-1"}}'


def signature(body: bytes, secret: str) -> str:
    """Typeform's documented scheme, computed here independently: sha256= + base64(HMAC-SHA256(body))."""
    return "sha256=" + base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def cases(*rows: tuple[Any, ...]) -> list[Any]:
    """Parametrize rows named by their first item (the case), so that test ids never show test data."""
    return [pytest.param(*row, id=str(row[0])) for row in rows]


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("typeform")


# --- signature -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "body", "headers", "secrets"),
    cases(
        ("genuine", BODY, {"Typeform-Signature": signature(BODY, SECRET)}, [SECRET]),
        ("rotation: the second secret matches", BODY, {"Typeform-Signature": signature(BODY, SECRET)}, [OTHER, SECRET]),
    ),
)
def test_a_genuine_signature_verifies(
    h: Any, case: str, body: bytes, headers: dict[str, str], secrets: list[str]
) -> None:
    # Given a body signed the way Typeform signs it
    request = h.request(body, headers)
    # When it is verified / Then nothing is raised
    h.source.verify(request, secrets)


@pytest.mark.parametrize(
    ("case", "body", "headers", "secrets"),
    cases(
        ("tampered body", BODY + b" ", {"Typeform-Signature": signature(BODY, SECRET)}, [SECRET]),
        ("wrong secret", BODY, {"Typeform-Signature": signature(BODY, OTHER)}, [SECRET]),
        ("missing header", BODY, {}, [SECRET]),
        ("empty header", BODY, {"Typeform-Signature": "  "}, [SECRET]),
        ("no sha256= prefix", BODY, {"Typeform-Signature": signature(BODY, SECRET)[7:]}, [SECRET]),
        ("garbage", BODY, {"Typeform-Signature": "sha256=!!not-base64!!"}, [SECRET]),
        ("hex instead of base64", BODY, {"Typeform-Signature": "sha256=" + "ab" * 32}, [SECRET]),
        ("no secret configured", BODY, {"Typeform-Signature": signature(BODY, SECRET)}, []),
    ),
)
def test_a_bad_signature_is_refused(
    h: Any, case: str, body: bytes, headers: dict[str, str], secrets: list[str]
) -> None:
    # Given a request whose signature is wrong in one way
    request = h.request(body, headers)
    # When it is verified / Then it is a SignatureError (401) that never echoes a signature
    with pytest.raises(SignatureError) as caught:
        h.source.verify(request, secrets)
    assert signature(BODY, SECRET)[7:] not in caught.value.message


def test_sign_headers_match_the_independent_vector_and_verify(h: Any) -> None:
    # Given the CLI's signing of a body
    headers = h.source.sign_headers(BODY, SECRET, now=h.now_s)
    # Then it is Typeform's signature, and our verifier accepts it
    assert headers["Typeform-Signature"] == signature(BODY, SECRET)
    h.source.verify(h.request(BODY, headers), [SECRET])


# --- webhook id ------------------------------------------------------------------------------


def test_the_webhook_id_is_the_response_token_and_other_types_get_none(h: Any) -> None:
    # Given a response and an event type the translator does not map
    response = h.body("form_response")
    other = {"event_id": "x", "event_type": "form_created", "form": {}}
    # Then the token is the id; the other type is left to the receiver's body hash
    assert h.source.webhook_id(h.request(response)) == response["form_response"]["token"]
    assert h.source.webhook_id(h.request(other)) is None


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"event_type":"form_response"}', b'{"event_type":"form_response","form_response":{}}'],
)
def test_a_malformed_body_is_a_bad_request(h: Any, body: bytes) -> None:
    # Given a body that is not a Typeform response / Then the receiver answers 400
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body))


# --- mapping ---------------------------------------------------------------------------------


def test_identity_follows_ours_order_and_names_phone_company_go_to_user_properties(h: Any) -> None:
    # Given the sample: hidden ours_user_id and user_id, an email and a phone answer, contact-info names
    body = h.body("form_response")
    # When it is mapped
    out = h.one(body)
    # Then ours_user_id → userId, the user's own id → externalId, the email answer → email
    assert out["userId"] == "ours-5f1c2d9e"
    assert out["externalId"] == "cust-10442"
    assert out["email"] == "avery.quinn@example.com"
    # and names (by ref "first_name" and by the title "Last name"), phone, company and UTM are userProperties
    assert out["userProperties"] == {
        "first_name": "Avery",
        "last_name": "Quinn",
        "phone_number": "+15555550142",
        "company_name": "Example Widgets Ltd",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "november-launch",
    }
    # and the card's ids, time and properties
    assert out["event"] == "Form Submitted"
    assert out["distinctId"] == "typeform:a3a12ec67a1365927098a606107fac15"
    assert out["time"] == 1794989671000  # 2026-11-18T08:14:31Z
    props = out["eventProperties"]
    assert (props["form_id"], props["form_title"], props["score"]) == ("lT4Z3j", "Product demo request", 9)
    # and no identity value is repeated among the answers
    # and free text (the long-text comment) is left out by default
    assert set(props["answers"]) == {"team_size", "interests", "budget", "newsletter_opt_in"}
    assert props["hidden"] == {"plan": "pro"}


@pytest.mark.parametrize(
    ("answers", "hidden", "expected"),
    [
        (
            [{"type": "email", "email": "typed@example.com", "field": {"id": "e", "ref": "e"}}],
            {"email": "hid@example.com"},
            "typed@example.com",
        ),
        ([], {"email": "hid@example.com"}, "hid@example.com"),
        (
            [{"type": "email", "email": "not-an-address", "field": {"id": "e", "ref": "e"}}],
            {"email": "hid@example.com"},
            "hid@example.com",
        ),
    ],
    ids=["typed answer wins", "hidden fallback", "unusable typed answer"],
)
def test_the_typed_email_answer_wins_over_a_hidden_email(
    h: Any, answers: list[dict[str, Any]], hidden: dict[str, str], expected: str
) -> None:
    # Given an email answer and / or a hidden email
    body = {
        "event_type": "form_response",
        "form_response": {"token": "t1", "submitted_at": "2026-11-18T10:00:00Z", "answers": answers, "hidden": hidden},
    }
    # Then the usable typed answer wins, the hidden field is the fallback
    assert h.one(body)["email"] == expected


def test_the_fields_option_maps_a_field_ref_and_a_hidden_field(h: Any) -> None:
    # Given answers under opaque refs, and options naming them
    body = {
        "event_type": "form_response",
        "form_response": {
            "token": "t2",
            "submitted_at": "2026-11-18T10:00:00Z",
            "hidden": {"crm": "crm-77"},
            "answers": [
                {"type": "text", "text": "Ada", "field": {"id": "f1", "ref": "4f1e9c"}},
                {"type": "text", "text": "Analyst", "field": {"id": "f2", "ref": "9a2b7d"}},
            ],
        },
    }
    config = {"options": {"fields": {"4f1e9c": "first_name", "9a2b7d": "job_title", "crm": "external_id"}}}
    # When it is mapped with those options
    out = h.one(body, config=config)
    # Then each answer lands where the option says
    assert out["externalId"] == "crm-77"
    assert out["userProperties"] == {"first_name": "Ada", "job_title": "Analyst"}
    assert "answers" not in out["eventProperties"]


def test_an_unknown_target_in_the_options_is_a_mapping_error(h: Any) -> None:
    # Given options naming a target Ours has no place for / Then mapping fails permanently, naming the option
    with pytest.raises(MappingError, match="invalid options"):
        h.map(h.body("form_response"), config={"options": {"fields": {"x": "shoe_size"}}})


def test_a_partial_response_has_its_own_name_distinct_id_and_the_landing_time(h: Any) -> None:
    # Given a partial response (no submitted_at)
    out = h.one(h.body("form_response_partial"))
    # Then it is "Form Partially Submitted", deduplicated apart from the complete response, timed at landing
    assert out["event"] == "Form Partially Submitted"
    assert out["distinctId"] == "typeform:7c0d2b4e9f1a3c5e7a9b1d3f5e7c9a0b:partial"
    assert out["time"] == 1794994812000  # 2026-11-18T09:40:12Z


def test_a_submission_without_identity_is_a_no_identity_failure(h: Any) -> None:
    # Given a response with only a free-text answer
    body = {"event_type": "form_response", "form_response": {"token": "t3", "submitted_at": "2026-11-18T10:00:00Z",
            "answers": [{"type": "text", "text": "hello", "field": {"id": "a", "ref": "a"}}]}}  # fmt: skip
    # When it is mapped / Then it is a permanent no_identity failure, not a crash
    with pytest.raises(InvalidTrackEvent) as caught:
        h.map(body)
    assert caught.value.reason == "no_identity"


@pytest.mark.parametrize(
    ("config", "event", "skipped"),
    [
        ({"rename": {"form_response": "Demo Requested"}}, "Demo Requested", None),
        ({"rename": {"Form Submitted": "Lead"}}, "Lead", None),
        ({"drop": ["form_response"]}, None, "dropped_by_config"),
    ],
)
def test_configuration_renames_and_drops(
    h: Any, config: dict[str, Any], event: str | None, skipped: str | None
) -> None:
    # Given a TRANSLATOR_CONFIG entry for typeform
    result = h.map(h.body("form_response"), config=config)
    # Then the event is renamed, or acknowledged and skipped
    assert result.skipped == skipped
    assert [e.event for e in result.events] == ([event] if event else [])


def test_an_unmapped_event_type_is_skipped(h: Any) -> None:
    result = h.map({"event_type": "form_created", "form": {"id": "x"}})
    assert (result.skipped, result.events) == ("ignored_type", ())


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        {"event_type": "form_response"},
        {"event_type": "form_response", "form_response": {"token": "t", "answers": "nope"}},
        {"event_type": "form_response", "form_response": {"token": "t", "submitted_at": "yesterday-ish"}},
        {"event_type": "form_response", "form_response": {"submitted_at": "2026-11-18T10:00:00Z"}},
    ],
)
def test_a_malformed_payload_is_a_mapping_error_without_values(h: Any, body: Any) -> None:
    # Given a body that does not fit the Typeform model / Then a MappingError (permanent) that shows no value
    with pytest.raises(MappingError) as caught:
        h.map(body)
    assert "yesterday" not in caught.value.message
    assert "nope" not in caught.value.message


def test_answers_are_kept_within_ours_limits(h: Any) -> None:
    # Given 300 answers and a 400-choice answer
    answers = [{"type": "number", "number": i, "field": {"id": f"i{i}", "ref": f"r{i}"}} for i in range(300)]
    answers.append(
        {"type": "choices", "choices": {"labels": [f"c{i}" for i in range(400)]}, "field": {"id": "c", "ref": "c"}}
    )
    answers.append({"type": "email", "email": "lim@example.com", "field": {"id": "e", "ref": "e"}})
    body = {
        "event_type": "form_response",
        "form_response": {"token": "t4", "submitted_at": "2026-11-18T10:00:00Z", "answers": answers},
    }
    # When it is mapped
    props = h.one(body)["eventProperties"]
    # Then the answers object keeps 200 keys and no array exceeds 250 items
    assert len(props["answers"]) == 200
    assert all(len(v) <= 250 for v in props["answers"].values() if isinstance(v, list))


def test_an_event_older_than_seven_days_is_stale(h: Any) -> None:
    body = h.body("form_response")
    body["form_response"]["submitted_at"] = "2026-11-10T10:00:00Z"
    with pytest.raises(InvalidTrackEvent) as caught:
        h.map(body)
    assert caught.value.reason == "stale_event"


def test_the_sample_body_round_trips_through_json(h: Any) -> None:
    # the mapper reads the queued text, not a Python object: a re-serialised body maps the same
    body = h.body("form_response")
    assert h.one(json.dumps(body, indent=2)) == h.one(body)
