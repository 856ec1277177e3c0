"""``verify SOURCE --body FILE --headers FILE``: a captured request explained with the receiver's own codes.

Signatures are made by the providers' libraries (``stripe``, ``standardwebhooks``); the request is
judged by the receiver's admission step, so the codes are the ones a 401 would carry.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import stripe
from cli_support import Run
from standardwebhooks.webhooks import Webhook

from webhook_translator.errors import SIGNATURE_REASONS

NOW = int(datetime.now(UTC).timestamp())
#: when the parametrized captures below were signed (collection time), and so the time they are judged at
COLLECTED = NOW
SECRET = "whsec_verify_cli_test_0123456789"
OLD = "whsec_verify_cli_old_secret_98765"
SW_SECRET = "whsec_dmVyaWZ5LWNsaS1zdGFuZGFyZC13ZWJob29rcy0zMg=="
EMAIL = "jenny.rosen@example.com"
BODY = json.dumps(
    {
        "id": "evt_1VerifyCli",
        "object": "event",
        "type": "invoice.paid",
        "created": NOW,
        "data": {"object": {"email": EMAIL}},
    },
    indent=2,
)


@pytest.fixture(autouse=True)
def _now() -> None:
    """Each test's "now" is its own start (the module may be imported minutes before a test runs)."""
    global NOW
    NOW = int(datetime.now(UTC).timestamp())


def stripe_header(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> str:
    return stripe.WebhookSignature.generate_signature_header(body, secret, NOW if timestamp is None else timestamp)


def write(tmp_path: Path, body: str | bytes, headers: dict[str, str] | str) -> tuple[str, str]:
    body_file, headers_file = tmp_path / "body", tmp_path / "headers"
    body_file.write_bytes(body.encode() if isinstance(body, str) else body)
    if isinstance(headers, dict):
        headers_file.write_text(json.dumps(headers))
    else:
        headers_file.write_text(headers)
    return str(body_file), str(headers_file)


def verify(run: Run, tmp_path: Path, body: str | bytes, headers: dict[str, str] | str, *extra: str) -> tuple[int, str]:
    body_file, headers_file = write(tmp_path, body, headers)
    result = run("verify", "stripe", "--body", body_file, "--headers", headers_file, "--secret", SECRET, *extra)
    return result.code, result.out + result.err


def test_a_genuine_capture_is_verified(run: Run, tmp_path: Path) -> None:
    # Given a captured Stripe request, headers as `curl -D` writes them (a request line first)
    headers = (
        f"POST /webhooks/stripe HTTP/1.1\nContent-Type: application/json\nStripe-Signature: {stripe_header(BODY)}\n"
    )
    # When it is verified
    code, out = verify(run, tmp_path, BODY, headers)
    # Then it would be queued under Stripe's id
    assert code == 0
    assert "verified: stripe webhook evt_1VerifyCli would be queued" in out


def test_it_says_which_secret_of_a_rotation_matched(run: Run, tmp_path: Path) -> None:
    body_file, headers_file = write(
        tmp_path, BODY, {"Content-Type": "application/json", "Stripe-Signature": stripe_header(BODY)}
    )
    result = run(
        "verify", "stripe", "--body", body_file, "--headers", headers_file, "--secret", OLD, "--secret", SECRET
    )
    assert result.code == 0
    assert "(secret 2 of 2 matched)" in result.out


def rows() -> list[object]:
    json_headers = {"Content-Type": "application/json"}
    compact = json.dumps(json.loads(BODY), separators=(",", ":"))
    return [
        pytest.param(BODY, json_headers, "missing_signature", id="missing_signature"),
        pytest.param(BODY, {**json_headers, "Stripe-Signature": "nonsense"}, "malformed_signature", id="malformed"),
        pytest.param(
            BODY,
            {**json_headers, "Stripe-Signature": stripe_header(BODY, timestamp=NOW - 3600)},
            "stale_timestamp",
            id="stale",
        ),
        pytest.param(
            BODY,
            {**json_headers, "Stripe-Signature": stripe_header(BODY, timestamp=NOW + 3600)},
            "future_timestamp",
            id="future",
        ),
        pytest.param(
            BODY,
            {**json_headers, "Stripe-Signature": stripe_header(BODY, secret=OLD)},
            "no_matching_secret",
            id="secret",
        ),
        pytest.param(
            compact, {**json_headers, "Stripe-Signature": stripe_header(BODY)}, "body_modified", id="modified"
        ),
    ]


@pytest.mark.parametrize(("body", "headers", "code"), rows())
def test_each_refusal_names_the_receivers_code_and_what_to_check_and_shows_no_secret(
    run: Run, tmp_path: Path, body: str, headers: dict[str, str], code: str
) -> None:
    # Given a captured request the receiver would refuse (signed when the tests were collected)
    status, out = verify(run, tmp_path, body, headers, "--at", str(COLLECTED))
    # Then verify exits 1 naming the 401's code and a line of what to check
    assert status == 1
    assert f"refused: 401 {code}: " in out
    assert "\ncheck: " in out
    # and prints no secret, no signature and nothing of the body
    signature = headers.get("Stripe-Signature", "")
    for secret_or_signature in (SECRET, OLD, *[p.split("=", 1)[1] for p in signature.split(",") if "=" in p]):
        assert secret_or_signature not in out
    assert EMAIL not in out
    assert "evt_1VerifyCli" not in out


def test_the_cases_cover_every_signature_code() -> None:
    assert {param.values[2] for param in rows()} == set(SIGNATURE_REASONS)  # type: ignore[attr-defined]


def test_at_judges_an_old_capture_as_of_its_arrival(run: Run, tmp_path: Path) -> None:
    # Given a capture signed an hour ago
    then = NOW - 3600
    headers = {"Content-Type": "application/json", "Stripe-Signature": stripe_header(BODY, timestamp=then)}
    # When it is verified as of its arrival
    status, out = verify(run, tmp_path, BODY, headers, "--at", str(then + 2))
    # Then it verifies
    assert status == 0, out


def test_svix_headers_rewritten_by_a_proxy_are_body_modified(run: Run, tmp_path: Path) -> None:
    # Given a Standard Webhooks body signed by the library, sent with svix-* headers, then re-indented on the way
    body = '{"type":"Lead Created","data":{"email":"lead@example.com"}}'
    signature = Webhook(SW_SECRET).sign("msg_1", datetime.fromtimestamp(NOW, UTC), body)
    headers = {
        "content-type": "application/json",
        "svix-id": "msg_1",
        "svix-timestamp": str(NOW),
        "svix-signature": signature,
    }
    body_file, headers_file = write(tmp_path, json.dumps(json.loads(body), indent=2), headers)
    # When it is verified with that secret
    result = run("verify", "standard-webhooks", "--body", body_file, "--headers", headers_file, "--secret", SW_SECRET)
    # Then the rewrite is recognised
    assert result.code == 1
    assert "refused: 401 body_modified" in result.out
    assert "lead@example.com" not in result.out + result.err


def test_the_development_secrets_are_the_default(run: Run, tmp_path: Path) -> None:
    # Given a body signed by `sign` (the development secret)
    body_file = tmp_path / "body"
    body_file.write_text(BODY)
    signed = run("sign", "stripe", str(body_file))
    (tmp_path / "headers").write_text(signed.out)
    # When verify runs without --secret
    result = run("verify", "stripe", "--body", str(body_file), "--headers", str(tmp_path / "headers"))
    # Then it verifies with the same document serve uses
    assert result.code == 0, result.err
    assert "development secret document" in result.out


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ("Content-Type: application/json\nnot a header line\n", "is not 'Name: value'"),
        ("{nope", "not valid JSON"),
        ("[1, 2]", "holds no headers"),
    ],
    ids=["bad line", "bad JSON", "a list"],
)
def test_an_unreadable_headers_file_is_one_line(run: Run, tmp_path: Path, headers: str, message: str) -> None:
    body_file, headers_file = write(tmp_path, BODY, headers)
    result = run("verify", "stripe", "--body", body_file, "--headers", headers_file, "--secret", SECRET)
    assert result.one_line_error
    assert message in result.err


def test_an_empty_secret_is_refused_not_replaced(run: Run, tmp_path: Path) -> None:
    body_file, headers_file = write(tmp_path, BODY, {"Content-Type": "application/json"})
    result = run("verify", "stripe", "--body", body_file, "--headers", headers_file, "--secret", "")
    assert result.one_line_error
    assert "--secret is empty" in result.err
