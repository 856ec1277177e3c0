"""Tally: the ``Tally-Signature`` check, the submission id, and fields by type and by label."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.errors import BadRequest, MappingError, SignatureError
from webhook_translator.ours.models import InvalidTrackEvent

SECRET = "tally-test-secret-1"
OTHER = "tally-other-secret-2"
BODY = b'{"eventId":"e1","eventType":"FORM_RESPONSE","data":{"submissionId":"s1"}}'


def signature(body: bytes, secret: str) -> str:
    """Tally's scheme, computed here independently: base64(HMAC-SHA256(body)), no prefix."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def cases(*rows: tuple[Any, ...]) -> list[Any]:
    """Parametrize rows named by their first item (the case), so that test ids never show test data."""
    return [pytest.param(*row, id=str(row[0])) for row in rows]


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("tally")


def submission(*fields: dict[str, Any], form_id: str = "f1") -> dict[str, Any]:
    return {
        "eventId": "e1",
        "eventType": "FORM_RESPONSE",
        "createdAt": "2026-11-18T10:00:01Z",
        "data": {"submissionId": "s1", "formId": form_id, "createdAt": "2026-11-18T10:00:00Z", "fields": list(fields)},
    }


# --- signature -------------------------------------------------------------------------------


@pytest.mark.parametrize("secrets", [[SECRET], [OTHER, SECRET]], ids=["one secret", "rotation"])
def test_a_genuine_signature_verifies(h: Any, secrets: list[str]) -> None:
    # Given a body signed the way Tally signs it / Then it verifies (with any of the secrets)
    h.source.verify(h.request(BODY, {"Tally-Signature": signature(BODY, SECRET)}), secrets)


@pytest.mark.parametrize(
    ("case", "body", "headers", "secrets"),
    cases(
        ("tampered body", BODY.replace(b"s1", b"s2"), {"Tally-Signature": signature(BODY, SECRET)}, [SECRET]),
        ("wrong secret", BODY, {"Tally-Signature": signature(BODY, OTHER)}, [SECRET]),
        ("missing header", BODY, {}, [SECRET]),
        ("garbage", BODY, {"Tally-Signature": "%%%"}, [SECRET]),
        ("a prefix Tally does not send", BODY, {"Tally-Signature": "sha256=" + signature(BODY, SECRET)}, [SECRET]),
        ("no secret configured", BODY, {"Tally-Signature": signature(BODY, SECRET)}, []),
    ),
)
def test_a_bad_signature_is_refused(
    h: Any, case: str, body: bytes, headers: dict[str, str], secrets: list[str]
) -> None:
    with pytest.raises(SignatureError):
        h.source.verify(h.request(body, headers), secrets)


def test_sign_headers_match_the_independent_vector(h: Any) -> None:
    headers = h.source.sign_headers(BODY, SECRET, now=h.now_s)
    assert headers["Tally-Signature"] == signature(BODY, SECRET)
    h.source.verify(h.request(BODY, headers), [SECRET])


# --- webhook id ------------------------------------------------------------------------------


def test_the_webhook_id_is_the_submission_id(h: Any) -> None:
    assert h.source.webhook_id(h.request(h.body("form_response"))) == "mJ8kq2"
    assert h.source.webhook_id(h.request({"eventType": "SOMETHING_ELSE"})) is None


@pytest.mark.parametrize(
    "body", [b"{", b'"x"', b'{"eventType":"FORM_RESPONSE"}', b'{"eventType":"FORM_RESPONSE","data":{}}']
)
def test_a_malformed_body_is_a_bad_request(h: Any, body: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body))


# --- mapping ---------------------------------------------------------------------------------


def test_the_sample_maps_identity_by_type_and_label(h: Any) -> None:
    # Given the sample: typed email and phone, first/last name by label, hidden ours_user_id and utm_source
    out = h.one(h.body("form_response"))
    # Then identity and userProperties follow the card
    assert (out["userId"], out["email"]) == ("ours-8a7b6c5d", "jordan.lee@example.net")
    assert "externalId" not in out
    assert out["userProperties"] == {
        "first_name": "Jordan",
        "last_name": "Lee",
        "phone_number": "+447700900123",
        "utm_source": "podcast",
    }
    assert (out["event"], out["distinctId"], out["time"]) == ("Form Submitted", "tally:mJ8kq2", 1794992563000)
    # and choices read as their option texts, Tally's per-option checkbox fields are not repeated
    props = out["eventProperties"]
    assert props["answers"] == {
        "Role": "Marketing",
        "Topics": ["Privacy", "Analytics"],
        "How likely are you to recommend us?": 4,
    }
    assert props["hidden"] == {"ref": "footer"}
    assert (props["form_id"], props["form_name"]) == ("w4Ndy3", "Newsletter signup")


def test_the_first_typed_email_wins_over_a_labelled_one(h: Any) -> None:
    # Given a text field labelled "Email" before a real INPUT_EMAIL field
    body = submission(
        {"key": "q1", "label": "Email", "type": "INPUT_TEXT", "value": "label@example.com"},
        {"key": "q2", "label": "Contact", "type": "INPUT_EMAIL", "value": "typed@example.com"},
    )
    # Then the typed field wins
    assert h.one(body)["email"] == "typed@example.com"


def test_hidden_user_id_is_the_external_id_and_a_phone_alone_is_an_identity(h: Any) -> None:
    body = submission(
        {"key": "q1", "label": "user_id", "type": "HIDDEN_FIELDS", "value": "u-991"},
        {"key": "q2", "label": "Mobile", "type": "INPUT_PHONE_NUMBER", "value": "+15555550100"},
    )
    out = h.one(body)
    assert out["externalId"] == "u-991"
    assert out["userProperties"] == {"phone_number": "+15555550100"}


def test_per_form_synonyms_extend_the_defaults_for_that_form_only(h: Any) -> None:
    # Given a German form and options teaching "Rufname" / "Geburtsname" for that form only
    fields = (
        {"key": "q1", "label": "Rufname", "type": "INPUT_TEXT", "value": "Lena"},
        {"key": "q2", "label": "Geburtsname", "type": "INPUT_TEXT", "value": "Vogel"},
        {"key": "q3", "label": "E-Mail", "type": "INPUT_TEXT", "value": "lena@example.de"},
    )
    config = {"options": {"forms": {"de1": {"synonyms": {"first_name": ["Rufname"], "last_name": ["Geburtsname"]}}}}}
    # When the form de1 and another form are mapped
    german = h.one(submission(*fields, form_id="de1"), config=config)
    other = h.one(submission(*fields, form_id="xx"), config=config)
    # Then only de1 reads the names; "E-Mail" is a default synonym everywhere
    assert german["userProperties"] == {"first_name": "Lena", "last_name": "Vogel"}
    assert "userProperties" not in other
    assert german["email"] == other["email"] == "lena@example.de"


def test_no_identity_is_a_permanent_no_identity_failure(h: Any) -> None:
    body = submission({"key": "q1", "label": "Comment", "type": "TEXTAREA", "value": "hi"})
    with pytest.raises(InvalidTrackEvent) as caught:
        h.map(body)
    assert caught.value.reason == "no_identity"


@pytest.mark.parametrize(
    ("config", "event", "skipped"),
    [
        ({"rename": {"FORM_RESPONSE": "Newsletter Signup"}}, "Newsletter Signup", None),
        ({"drop": ["FORM_RESPONSE"]}, None, "dropped_by_config"),
    ],
)
def test_configuration_renames_and_drops(
    h: Any, config: dict[str, Any], event: str | None, skipped: str | None
) -> None:
    result = h.map(h.body("form_response"), config=config)
    assert result.skipped == skipped
    assert [e.event for e in result.events] == ([event] if event else [])


@pytest.mark.parametrize(
    "body",
    [
        {"eventType": "FORM_RESPONSE", "data": {"createdAt": "2026-11-18T10:00:00Z"}},
        {
            "eventType": "FORM_RESPONSE",
            "data": {"submissionId": "s", "createdAt": "2026-11-18T10:00:00Z", "fields": {}},
        },
        {"eventType": "FORM_RESPONSE", "data": {"submissionId": "s", "createdAt": "not a time"}},
        {"data": {}},
    ],
)
def test_a_malformed_payload_is_a_mapping_error(h: Any, body: dict[str, Any]) -> None:
    with pytest.raises(MappingError):
        h.map(body)


def test_an_unmapped_event_type_is_skipped(h: Any) -> None:
    assert h.map({"eventType": "FORM_DELETED", "data": {}}).skipped == "ignored_type"
