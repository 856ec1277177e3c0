"""Webflow: the timestamped ``x-webflow-signature`` check and the free label → value map."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any

import pytest

from webhook_translator.errors import BadRequest, MappingError, SignatureError
from webhook_translator.ours.models import InvalidTrackEvent

SECRET = "webflow-test-secret-1"
OTHER = "webflow-other-secret-2"
BODY = b'{"triggerType":"form_submission","payload":{"id":"sub-1"}}'


def signature(body: bytes, timestamp_ms: int | str, secret: str) -> str:
    """Webflow's scheme, computed here independently: hex(HMAC-SHA256("{timestamp}:{body}"))."""
    return hmac.new(secret.encode(), f"{timestamp_ms}:".encode() + body, hashlib.sha256).hexdigest()


def cases(*rows: tuple[Any, ...]) -> list[Any]:
    """Parametrize rows named by their first item (the case), so that test ids never show test data."""
    return [pytest.param(*row, id=str(row[0])) for row in rows]


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("webflow")


def signed(h: Any, body: bytes = BODY, *, age_s: float = 10, secret: str = SECRET) -> dict[str, str]:
    ts = (h.now_s - int(age_s)) * 1000
    return {"x-webflow-timestamp": str(ts), "x-webflow-signature": signature(body, ts, secret)}


def submission(data: dict[str, Any], form_id: str = "form-1") -> dict[str, Any]:
    return {
        "triggerType": "form_submission",
        "payload": {
            "id": "sub-1",
            "name": "Contact",
            "formId": form_id,
            "submittedAt": "2026-11-18T10:00:00.000Z",
            "data": data,
        },
    }


# --- signature -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "age_s", "secrets"),
    cases(
        ("fresh", 10, [SECRET]),
        ("rotation", 10, [OTHER, SECRET]),
        ("299 s old", 299, [SECRET]),
        ("ahead by 60 s", -60, [SECRET]),
    ),
)
def test_a_genuine_signature_inside_the_window_verifies(h: Any, case: str, age_s: float, secrets: list[str]) -> None:
    # Given a body signed by Webflow age_s seconds before our clock
    request = h.request(BODY, signed(h, age_s=age_s), received_at=h.at(0))
    # Then it verifies
    h.source.verify(request, secrets)


@pytest.mark.parametrize(
    ("case", "mutate", "secrets"),
    cases(
        ("tampered body", lambda h, hd: (BODY + b"\n", hd), [SECRET]),
        ("wrong secret", lambda h, hd: (BODY, signed(h, secret=OTHER)), [SECRET]),
        ("stale: 301 s old", lambda h, hd: (BODY, signed(h, age_s=301)), [SECRET]),
        ("future: 301 s ahead", lambda h, hd: (BODY, signed(h, age_s=-301)), [SECRET]),
        ("missing signature", lambda h, hd: (BODY, {"x-webflow-timestamp": hd["x-webflow-timestamp"]}), [SECRET]),
        ("missing timestamp", lambda h, hd: (BODY, {"x-webflow-signature": hd["x-webflow-signature"]}), [SECRET]),
        ("garbage timestamp", lambda h, hd: (BODY, {**hd, "x-webflow-timestamp": "soon"}), [SECRET]),
        ("garbage signature", lambda h, hd: (BODY, {**hd, "x-webflow-signature": "zz-not-hex"}), [SECRET]),
        ("timestamp replaced", lambda h, hd: (BODY, {**hd, "x-webflow-timestamp": str(h.now_ms - 5000)}), [SECRET]),
        (
            "seconds instead of ms",
            lambda h, hd: (
                BODY,
                {"x-webflow-timestamp": str(h.now_s), "x-webflow-signature": signature(BODY, h.now_s, SECRET)},
            ),
            [SECRET],
        ),
        ("no secret configured", lambda h, hd: (BODY, hd), []),
    ),
)
def test_a_bad_signature_is_refused(
    h: Any, case: str, mutate: Callable[..., tuple[bytes, dict[str, str]]], secrets: list[str]
) -> None:
    # Given a request that is wrong in one way
    body, headers = mutate(h, signed(h))
    # When it is verified / Then it is a SignatureError (401)
    with pytest.raises(SignatureError):
        h.source.verify(h.request(body, headers, received_at=h.at(0)), secrets)


def test_sign_headers_match_the_independent_vector(h: Any) -> None:
    headers = h.source.sign_headers(BODY, SECRET, now=h.now_s)
    assert headers["x-webflow-timestamp"] == str(h.now_ms)
    assert headers["x-webflow-signature"] == signature(BODY, h.now_ms, SECRET)
    h.source.verify(h.request(BODY, headers, received_at=h.at(0)), [SECRET])


# --- webhook id ------------------------------------------------------------------------------


def test_the_webhook_id_is_the_submission_id(h: Any) -> None:
    assert h.source.webhook_id(h.request(h.body("form_submission"))) == "6738f1c2a4b5c6d7e8f90a1b"
    assert h.source.webhook_id(h.request({"triggerType": "site_publish", "payload": {}})) is None


@pytest.mark.parametrize(
    "body",
    [b"<html>", b"[1]", b'{"triggerType":"form_submission"}', b'{"triggerType":"form_submission","payload":{"id":""}}'],
)
def test_a_malformed_body_is_a_bad_request(h: Any, body: bytes) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body))


# --- mapping ---------------------------------------------------------------------------------


def test_the_sample_maps_full_name_email_numeric_phone_and_company(h: Any) -> None:
    out = h.one(h.body("form_submission"))
    assert out["email"] == "morgan.blake@example.com"
    assert out["userProperties"] == {
        "first_name": "Morgan",
        "last_name": "Blake",
        "phone_number": "15555550199",
        "company_name": "Blake & Co",
    }
    assert (out["event"], out["distinctId"], out["time"]) == (
        "Form Submitted",
        "webflow:6738f1c2a4b5c6d7e8f90a1b",
        1794997267412,
    )
    props = out["eventProperties"]
    assert (props["form_name"], props["form_id"], props["site_id"]) == (
        "Contact Us",
        "65429eadebe8a9f3a30f62d0",
        "65427cf400e02b306eaa049c",
    )
    # free text (the message) is left out by default: only the checkbox stays
    assert props["answers"] == {"Subscribe": True}


@pytest.mark.parametrize(
    ("label", "value", "where", "expected"),
    cases(
        ("EMAIL", "a@example.com", "email", "a@example.com"),
        ("e-mail", "b@example.com", "email", "b@example.com"),
        ("Email Address", "c@example.com", "email", "c@example.com"),
        ("  email address:  ", "d@example.com", "email", "d@example.com"),
        ("Your-Email*", "e@example.com", "email", "e@example.com"),
        ("First Name", "Ana", "first_name", "Ana"),
        ("first_name", "Ana", "first_name", "Ana"),
        ("LAST NAME", "Diaz", "last_name", "Diaz"),
        ("Surname", "Diaz", "last_name", "Diaz"),
        ("Phone", 15555550100, "phone_number", "15555550100"),
        ("Phone Number", 15555550100.0, "phone_number", "15555550100"),
        ("telephone", "+1 555 555 0100", "phone_number", "+1 555 555 0100"),
        ("Company", "Acme", "company_name", "Acme"),
        ("Organisation", "Acme", "company_name", "Acme"),
        ("Job Title", "CTO", "job_title", "CTO"),
        ("Postal Code", 90210, "zip", "90210"),
        ("utm_campaign", "spring", "utm_campaign", "spring"),
        ("UTM Source", "ads", "utm_source", "ads"),
        ("ours_user_id", "ours-1", "userId", "ours-1"),
        ("User ID", 4242, "externalId", "4242"),
    ),
)
def test_labels_match_case_insensitively_with_synonyms(
    h: Any, label: str, value: Any, where: str, expected: str
) -> None:
    # Given one labelled field next to an email (so that there is always an identity)
    data = {label: value} if where == "email" else {label: value, "Email": "x@example.com"}
    # When it is mapped
    out = h.one(submission(data))
    # Then the value lands where the synonym says, as text
    found = out.get(where, out.get("userProperties", {}).get(where))
    assert found == expected
    assert label not in out["eventProperties"].get("answers", {})


def test_a_bad_email_is_not_an_identity_and_its_text_is_not_forwarded(h: Any) -> None:
    out = h.one(submission({"Email": "not an address", "Phone": "+15555550100"}))
    assert "email" not in out
    assert "answers" not in out["eventProperties"]


def test_options_synonyms_apply_everywhere_and_per_form(h: Any) -> None:
    # Given a source-wide synonym and one for form-2 only
    config = {
        "options": {
            "synonyms": {"email": ["Work Address"]},
            "forms": {"form-2": {"synonyms": {"company_name": ["Arbeitgeber"]}}},
        }
    }
    data = {"work address": "w@example.com", "ARBEITGEBER": "Muster GmbH"}
    # When both forms are mapped
    one = h.one(submission(data, form_id="form-1"), config=config)
    two = h.one(submission(data, form_id="form-2"), config=config)
    # Then the source-wide synonym works for both, the per-form one only for form-2
    assert one["email"] == two["email"] == "w@example.com"
    assert "userProperties" not in one
    assert two["userProperties"] == {"company_name": "Muster GmbH"}


def test_no_identity_is_a_permanent_no_identity_failure(h: Any) -> None:
    with pytest.raises(InvalidTrackEvent) as caught:
        h.map(submission({"Message": "hello"}))
    assert caught.value.reason == "no_identity"


@pytest.mark.parametrize(
    ("config", "event", "skipped"),
    [
        ({"rename": {"form_submission": "Contact Request"}}, "Contact Request", None),
        ({"drop": ["form_submission"]}, None, "dropped_by_config"),
    ],
)
def test_configuration_renames_and_drops(
    h: Any, config: dict[str, Any], event: str | None, skipped: str | None
) -> None:
    result = h.map(h.body("form_submission"), config=config)
    assert result.skipped == skipped
    assert [e.event for e in result.events] == ([event] if event else [])


def test_other_triggers_are_skipped(h: Any) -> None:
    assert h.map({"triggerType": "site_publish", "payload": {"site": "s"}}).skipped == "ignored_type"


@pytest.mark.parametrize(
    "body",
    [
        {"triggerType": "form_submission"},
        {
            "triggerType": "form_submission",
            "payload": {"id": "x", "submittedAt": "2026-11-18T10:00:00Z", "data": ["a"]},
        },
        {"triggerType": "form_submission", "payload": {"submittedAt": "2026-11-18T10:00:00Z", "data": {}}},
        {
            "triggerType": "form_submission",
            "payload": {"id": "x", "submittedAt": "18/11/2026", "data": {"Email": "q@example.com"}},
        },
    ],
)
def test_a_malformed_payload_is_a_mapping_error(h: Any, body: dict[str, Any]) -> None:
    with pytest.raises(MappingError) as caught:
        h.map(body)
    assert "q@example.com" not in caught.value.message
