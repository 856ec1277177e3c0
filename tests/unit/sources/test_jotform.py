"""Jotform: a URL / header token (no signing exists), the multipart body and its rawRequest JSON."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest

from webhook_translator.errors import BadRequest, MappingError, SignatureError
from webhook_translator.ours.models import InvalidTrackEvent
from webhook_translator.sources import tokens

TOKEN = "jotform-url-token-3f9a1c7e5b2d4f6a8c0e"
OTHER = "jotform-old-token-0000000000000000"
BOUNDARY = "----formdata-test-7d1e"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
URLENCODED = "application/x-www-form-urlencoded"


def cases(*rows: tuple[Any, ...]) -> list[Any]:
    """Parametrize rows named by their first item (the case), so that test ids never show test data."""
    return [pytest.param(*row, id=str(row[0])) for row in rows]


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("jotform")


def multipart(fields: dict[str, str], boundary: str = BOUNDARY) -> bytes:
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
    )
    return (parts + f"--{boundary}--\r\n").encode("utf-8")


def form(raw: dict[str, Any], **extra: str) -> dict[str, str]:
    return {"formID": "2401", "submissionID": "5900001", "formTitle": "Sign-up", "rawRequest": json.dumps(raw), **extra}


# --- the token -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "query", "headers", "secrets"),
    cases(
        ("?key= in the URL", {"key": TOKEN}, {}, [TOKEN]),
        ("X-Webhook-Token header", {}, {"X-Webhook-Token": TOKEN}, [TOKEN]),
        ("rotation: the second token matches", {"key": TOKEN}, {}, [OTHER, TOKEN]),
    ),
)
def test_the_right_token_is_accepted(
    h: Any, case: str, query: dict[str, str], headers: dict[str, str], secrets: list[str]
) -> None:
    h.source.verify(h.request(b"", headers, query=query, content_type=MULTIPART), secrets)


@pytest.mark.parametrize(
    ("case", "query", "headers", "secrets"),
    cases(
        ("missing token", {}, {}, [TOKEN]),
        ("empty token", {"key": ""}, {}, [TOKEN]),
        ("wrong token", {"key": OTHER}, {}, [TOKEN]),
        ("a prefix of the token", {"key": TOKEN[:-1]}, {}, [TOKEN]),
        ("token plus a suffix", {"key": TOKEN + "x"}, {}, [TOKEN]),
        ("non-ASCII token", {"key": "jötförm"}, {}, [TOKEN]),
        ("token under another parameter name", {"token": TOKEN}, {}, [TOKEN]),
        ("no token configured", {"key": TOKEN}, {}, []),
        ("an empty configured token never matches an empty one", {"key": ""}, {"X-Webhook-Token": ""}, [""]),
    ),
)
def test_a_missing_or_wrong_token_is_a_signature_error(
    h: Any, case: str, query: dict[str, str], headers: dict[str, str], secrets: list[str]
) -> None:
    # Given a request without the right token / Then 401, never an unverified pass
    with pytest.raises(SignatureError) as caught:
        h.source.verify(h.request(b"", headers, query=query, content_type=MULTIPART), secrets)
    assert TOKEN not in caught.value.message


def test_the_token_is_compared_in_constant_time(h: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a spy on hmac.compare_digest
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(tokens.hmac, "compare_digest", spy)
    # When a token is checked against two secrets
    h.source.verify(h.request(b"", query={"key": TOKEN}, content_type=MULTIPART), [OTHER, TOKEN])
    # Then every comparison went through compare_digest
    assert len(calls) == 2


def test_sign_headers_give_the_token_header_and_the_multipart_boundary(h: Any) -> None:
    body = multipart(form({"q4_email": "s@example.com"}))
    headers = h.source.sign_headers(body, TOKEN, now=h.now_s)
    assert headers["X-Webhook-Token"] == TOKEN
    assert headers["Content-Type"] == f'multipart/form-data; boundary="{BOUNDARY}"'
    # and the receiver takes that request: verified, id read from the multipart body
    request = h.request(body, headers)
    h.source.verify(request, [TOKEN])
    assert h.source.webhook_id(request) == "5900001"


def test_the_receiver_accepts_the_sample_with_the_url_token_and_queues_the_full_content_type(h: Any) -> None:
    # Given the multipart sample posted to /webhooks/jotform?key=<token>
    sample = h.sample("submission")
    headers = {"Content-Type": sample["content_type"], **sample["headers"]}
    # When the receiver handles it
    status, answer, envelope = h.receive(sample["body_text"], headers, query={"key": TOKEN}, secrets=[TOKEN])
    # Then it is queued under the submission id, with the boundary kept and no token anywhere in the envelope
    assert (status, answer) == (200, {"received": True, "id": "6012345678901234567"})
    assert envelope is not None
    assert envelope.content_type == sample["content_type"]
    assert TOKEN not in envelope.model_dump_json()


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("application/json", 415), ("text/plain", 415), (URLENCODED, 200), (MULTIPART, 200)],
)
def test_the_receiver_takes_multipart_and_urlencoded_only(h: Any, content_type: str, status: int) -> None:
    fields = form({"q4_email": "r@example.com"})
    body = urlencode(fields) if content_type == URLENCODED else multipart(fields)
    got, _, _ = h.receive(body, {"Content-Type": content_type}, query={"key": TOKEN}, secrets=[TOKEN])
    assert got == status


def test_the_receiver_answers_401_without_the_token(h: Any) -> None:
    status, answer, envelope = h.receive(multipart(form({})), {"Content-Type": MULTIPART}, secrets=[TOKEN])
    assert (status, envelope) == (401, None)
    assert TOKEN not in json.dumps(answer)


# --- webhook id ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"not a form", MULTIPART),
        (multipart({"formID": "1"}), MULTIPART),
        (multipart(form({})), "multipart/form-data"),  # no boundary
        (b"formID=1&rawRequest=%7B%7D", URLENCODED),
        (b'{"submissionID": "1"}', "application/json"),
    ],
)
def test_a_body_without_a_submission_id_is_a_bad_request(h: Any, body: bytes, content_type: str) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body, content_type=content_type))


# --- mapping ---------------------------------------------------------------------------------


def test_the_sample_maps_name_email_phone_address_and_the_ours_user_id(h: Any) -> None:
    # Given the multipart sample
    sample = h.sample("submission")
    # When it is mapped
    out = h.one(sample["body_text"], content_type=sample["content_type"])
    # Then identity and userProperties come from rawRequest's widgets and field names
    assert (out["userId"], out["email"]) == ("ours-1d2e3f4a", "casey.nguyen@example.com")
    assert out["userProperties"] == {
        "first_name": "Casey",
        "last_name": "Nguyen",
        "phone_number": "(555) 555-0175",
        "city": "Springfield",
        "state": "IL",
        "zip": "62701",
        "country": "United States",
        "company_name": "Nguyen Analytics",
        "utm_source": "partner",
    }
    # and the submitter's IP is page context, the time is the receive time, the street is sent nowhere
    assert out["defaultProperties"] == {"ip": "203.0.113.45"}
    assert (out["event"], out["distinctId"], out["time"]) == (
        "Form Submitted",
        "jotform:6012345678901234567",
        h.now_ms - 60_000,
    )
    assert "12 Example Street" not in json.dumps(out)
    assert out["eventProperties"] == {
        "form_id": "243215678901234",
        "form_title": "Free trial sign-up",
    }


def test_an_urlencoded_body_maps_like_a_multipart_one(h: Any) -> None:
    fields = form({"q3_name": {"first": "Noa", "last": "Levi"}, "q4_email": "noa@example.com"})
    as_form = h.one(urlencode(fields), content_type=URLENCODED)
    as_multipart = h.one(multipart(fields), content_type=MULTIPART)
    assert as_form == as_multipart
    assert as_form["userProperties"] == {"first_name": "Noa", "last_name": "Levi"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"q5_phone": {"full": "(555) 555-0100"}}, {"phone_number": "(555) 555-0100"}),
        ({"q5_phoneNumber": {"area": "555", "phone": "5550100"}}, {"phone_number": "555 5550100"}),
        ({"q5_phone": "+15555550100"}, {"phone_number": "+15555550100"}),
        ({"q8_mobileNumber12": "+15555550101"}, {"phone_number": "+15555550101"}),
        (
            {"q6_address": {"addr_line1": "1 Main", "postal": "10115", "country": "Germany"}},
            {"zip": "10115", "country": "Germany"},
        ),
        ({"q9_jobTitle": "CTO", "q10_email10": "x@example.com"}, {"job_title": "CTO"}),
    ],
)
def test_jotform_widgets_and_field_names(h: Any, raw: dict[str, Any], expected: dict[str, str]) -> None:
    raw.setdefault("q4_email", "w@example.com")
    out = h.one(multipart(form(raw)), content_type=MULTIPART)
    assert out["userProperties"] == expected


def test_per_form_synonyms_name_a_custom_field(h: Any) -> None:
    raw = {"q4_email": "k@example.com", "q7_typeA7": "Kaito"}
    config = {"options": {"forms": {"2401": {"synonyms": {"first_name": ["typeA"]}}}}}
    out = h.one(multipart(form(raw)), content_type=MULTIPART, config=config)
    assert out["userProperties"] == {"first_name": "Kaito"}


def test_no_identity_is_a_permanent_no_identity_failure(h: Any) -> None:
    with pytest.raises(InvalidTrackEvent) as caught:
        h.map(multipart(form({"q9_message": "hi"})), content_type=MULTIPART)
    assert caught.value.reason == "no_identity"


@pytest.mark.parametrize(
    ("config", "event", "skipped"),
    [
        ({"rename": {"submission": "Trial Requested"}}, "Trial Requested", None),
        ({"rename": {"Form Submitted": "Jotform Lead"}}, "Jotform Lead", None),
        ({"drop": ["submission"]}, None, "dropped_by_config"),
    ],
)
def test_configuration_renames_and_drops(
    h: Any, config: dict[str, Any], event: str | None, skipped: str | None
) -> None:
    sample = h.sample("submission")
    result = h.map(sample["body_text"], content_type=sample["content_type"], config=config)
    assert result.skipped == skipped
    assert [e.event for e in result.events] == ([event] if event else [])


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (multipart({"submissionID": "1", "rawRequest": "{not json"}), MULTIPART),
        (multipart({"submissionID": "1", "rawRequest": "[1, 2]"}), MULTIPART),
        (multipart({"submissionID": "1"}), MULTIPART),
        (multipart({"rawRequest": "{}"}), MULTIPART),
        (multipart(form({"q4_email": "z@example.com"})), "multipart/form-data"),
        (b'{"submissionID": "1"}', "application/json"),
    ],
)
def test_a_malformed_body_is_a_mapping_error(h: Any, body: bytes, content_type: str) -> None:
    with pytest.raises(MappingError) as caught:
        h.map(body, content_type=content_type)
    assert "z@example.com" not in caught.value.message
