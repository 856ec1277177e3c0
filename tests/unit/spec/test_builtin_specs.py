"""The built-in specs — Resend, Clerk, GitHub — on payloads written from each provider's published docs,
signed by the providers' own libraries (``svix``, ``standardwebhooks``) or, for GitHub, by an independent
HMAC computed as GitHub's docs describe.

Payload shapes:
* Resend — https://resend.com/docs/webhooks/event-types (email.* and contact.* payloads) and
  https://resend.com/docs/dashboard/webhooks/body-parameters (tags as ``[{name, value}]``, ``bounce``);
* Clerk — https://clerk.com/docs/webhooks/overview ("Payload structure": the ``user.created`` example;
  ``user.deleted`` carries ``{deleted, id, object}`` only);
* GitHub — https://docs.github.com/en/webhooks/webhook-events-and-payloads (``star``, ``issues``,
  ``sponsorship``) and https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
  (``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>``).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from spec_support import RECEIVED_AT, RECEIVED_S, bodies, envelope, raw, receive, sample_body, translate
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook

from webhook_translator.sources.registry import REGISTRY
from webhook_translator.spec.builtin import BUILTIN_SPECS, load

SECRET = "whsec_" + base64.b64encode(b"svix-signed-test-key-of-32-bytes").decode()
GITHUB_SECRET = "It's a Secret to Everybody"  # GitHub's docs' example secret


def svix_headers(body: bytes, msg_id: str, ts: int = RECEIVED_S) -> dict[str, str]:
    signature = SvixWebhook(SECRET).sign(msg_id, datetime.fromtimestamp(ts, UTC), body.decode())
    return {
        "content-type": "application/json",
        "svix-id": msg_id,
        "svix-timestamp": str(ts),
        "svix-signature": signature,
    }


def github_headers(body: bytes, event: str, delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958") -> dict[str, str]:
    digest = hmac.new(GITHUB_SECRET.encode(), body, hashlib.sha256).hexdigest()
    return {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": delivery,
        "x-hub-signature-256": f"sha256={digest}",
        "user-agent": "GitHub-Hookshot/044aadd",
    }


@pytest.mark.parametrize("name", BUILTIN_SPECS)
def test_each_built_in_spec_is_registered_and_lists_its_event_names(name: str) -> None:
    # When the registry makes the built-in spec source
    source = REGISTRY[name]
    # Then it is named as registered and lists a finite map of Ours event names
    assert source.name == name
    assert source.events
    assert "*" not in source.events
    assert set(source.events) <= set(load(name)["events"])


# --- Resend ----------------------------------------------------------------------------------------


def test_resend_signed_by_svix_is_received_and_maps_the_recipient() -> None:
    # Given Resend's email.delivered, signed by the svix library
    source = REGISTRY["resend"]
    body = raw(sample_body("resend", "email_delivered"))
    answer = receive(source, body, svix_headers(body, "msg_resend_1"), secrets=[SECRET])
    # Then the receiver accepts it under svix-id, and it maps to the recipient, lower-cased
    assert (answer.status, answer.body) == (200, {"received": True, "id": "msg_resend_1"})
    assert answer.envelope is not None
    [track] = bodies(translate(source, answer.envelope))
    assert track["event"] == "Email Delivered"
    assert track["email"] == "delivered@resend.dev"
    assert track["distinctId"] == "resend:msg_resend_1"
    assert track["time"] == 1_794_994_872_126
    # And no free text (subject, sender) is forwarded
    assert "subject" not in json.dumps(track)
    assert "onboarding" not in json.dumps(track)


def test_resend_signed_by_standardwebhooks_with_webhook_headers_is_received_too() -> None:
    # Given the same body signed by the standardwebhooks library, with webhook-* headers
    source = REGISTRY["resend"]
    body = raw(sample_body("resend", "contact_created"))
    sig = StandardWebhook(SECRET).sign("msg_resend_2", RECEIVED_AT, body.decode())
    headers = {"content-type": "application/json", "webhook-id": "msg_resend_2"}
    headers |= {"webhook-timestamp": str(RECEIVED_S), "webhook-signature": sig}
    # When it is received — the spec reads svix-id, which is absent: a clear 400, nothing queued
    answer = receive(source, body, headers, secrets=[SECRET])
    assert answer.status == 400
    assert answer.envelope is None
    # And with svix-id too (as Resend sends) it is accepted
    answer = receive(source, body, headers | {"svix-id": "msg_resend_2"}, secrets=[SECRET])
    assert answer.status == 200


def test_resend_contact_created_maps_names_and_the_subscription_as_consent() -> None:
    source = REGISTRY["resend"]
    [track] = bodies(translate(source, envelope(source, sample_body("resend", "contact_created"), {"svix-id": "m1"})))
    assert track["event"] == "Contact Created"
    assert track["email"] == "steve.wozniak@gmail.com"
    assert track["userProperties"] == {"first_name": "Steve", "last_name": "Wozniak", "consent": {"email": True}}
    # Given the contact unsubscribes (contact.updated, unsubscribed true) — Then consent.email is false
    body = sample_body("resend", "contact_created") | {"type": "contact.updated"}
    body["data"]["unsubscribed"] = True
    [track] = bodies(translate(source, envelope(source, body, {"svix-id": "m2"})))
    assert (track["event"], track["userProperties"]["consent"]) == ("Contact Updated", {"email": False})


def test_resend_bounced_and_clicked_keep_only_what_the_spec_names() -> None:
    source = REGISTRY["resend"]
    delivered = sample_body("resend", "email_delivered")
    bounced = copy.deepcopy(delivered) | {"type": "email.bounced"}
    bounced["data"]["bounce"] = {
        "message": "The recipient's email address is on the suppression list because it has a recent history",
        "subType": "Suppressed",
        "type": "Permanent",
    }
    [track] = bodies(translate(source, envelope(source, bounced, {"svix-id": "m3"})))
    assert track["event"] == "Email Bounced"
    assert track["eventProperties"]["bounce_type"] == "Permanent"
    assert track["eventProperties"]["bounce_subtype"] == "Suppressed"
    assert "suppression list" not in json.dumps(track)  # the bounce message is free text
    clicked = copy.deepcopy(delivered) | {"type": "email.clicked"}
    clicked["data"]["click"] = {
        "ipAddress": "122.115.53.11",
        "link": "https://resend.com",
        "timestamp": "2026-11-18T09:45:57.163Z",
        "userAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36",
    }
    [track] = bodies(translate(source, envelope(source, clicked, {"svix-id": "m4"})))
    assert track["event"] == "Email Clicked"
    assert 'resend.com"' not in json.dumps(track)
    assert "122.115" not in json.dumps(track)


def test_resend_domain_events_are_acknowledged_and_skipped() -> None:
    source = REGISTRY["resend"]
    body = {
        "type": "domain.created",
        "created_at": "2026-11-18T09:41:12.126Z",
        "data": {"id": "d91cd9bd", "name": "example.com"},
    }
    result = translate(source, envelope(source, body, {"svix-id": "m5"}))
    assert (result.events, result.skipped) == ((), "ignored_type")


def test_resend_sign_headers_are_svix_headers_the_svix_library_verifies() -> None:
    # Given the headers our `sign` writes for Resend, now
    source = REGISTRY["resend"]
    body = raw(sample_body("resend", "email_delivered"))
    headers = source.sign_headers(body, SECRET, now=time.time(), webhook_id="msg_signed")
    # Then they are svix-* headers, and the svix library verifies them
    assert {"svix-id", "svix-timestamp", "svix-signature"} <= set(headers)
    SvixWebhook(SECRET).verify(body, {k.lower(): v for k, v in headers.items()})


def test_resend_refuses_a_wrong_secret_and_a_modified_body() -> None:
    source = REGISTRY["resend"]
    body = raw(sample_body("resend", "email_delivered"))
    other = "whsec_" + base64.b64encode(b"another-test-key-for-rotation-32").decode()
    assert receive(source, body, svix_headers(body, "msg_x"), secrets=[other]).status == 401
    tampered = body.replace(b"Delivered@", b"Someone@")
    assert tampered != body
    assert receive(source, tampered, svix_headers(body, "msg_x"), secrets=[SECRET]).status == 401
    stale = svix_headers(body, "msg_x", ts=RECEIVED_S - 3600)
    assert receive(source, body, stale, secrets=[SECRET]).status == 401


# --- Clerk -----------------------------------------------------------------------------------------


def test_clerk_user_created_signed_by_svix_maps_the_primary_email_and_phone() -> None:
    source = REGISTRY["clerk"]
    body = raw(sample_body("clerk", "user_created"))
    answer = receive(source, body, svix_headers(body, "msg_clerk_1"), secrets=[SECRET])
    assert answer.status == 200
    assert answer.envelope is not None
    [track] = bodies(translate(source, answer.envelope))
    assert track["event"] == "User Signed Up"
    assert track["externalId"] == "user_29w83sxmDNGwOuEthce5gg56FcC"
    assert track["email"] == "example@example.org"  # the primary one, not the first listed
    assert track["userProperties"] == {"first_name": "Example", "last_name": "Example", "phone_number": "+15555550142"}
    assert track["defaultProperties"]["ip"] == "203.0.113.7"
    assert track["time"] == 1_794_991_512_335
    assert track["distinctId"] == "clerk:msg_clerk_1"


def test_clerk_user_deleted_maps_the_user_id_alone() -> None:
    source = REGISTRY["clerk"]
    body = {
        "data": {"deleted": True, "id": "user_29wBMCtzATuFJut8jO2VNTVekS4", "object": "user"},
        "object": "event",
        "timestamp": 1_794_991_512_335,
        "type": "user.deleted",
    }
    [track] = bodies(translate(source, envelope(source, body, {"svix-id": "msg_clerk_2"})))
    assert track == {
        "event": "User Deleted",
        "externalId": "user_29wBMCtzATuFJut8jO2VNTVekS4",
        "distinctId": "clerk:msg_clerk_2",
        "time": 1_794_991_512_335,
    }


def test_clerk_session_events_are_skipped() -> None:
    source = REGISTRY["clerk"]
    body = {"data": {"id": "sess_1", "user_id": "user_1"}, "object": "event", "timestamp": 1, "type": "session.created"}
    assert translate(source, envelope(source, body, {"svix-id": "m"})).skipped == "ignored_type"


# --- GitHub ----------------------------------------------------------------------------------------


def test_github_star_signed_as_github_documents_is_received_and_maps_the_sender() -> None:
    source = REGISTRY["github"]
    body = raw(sample_body("github", "star_created"))
    answer = receive(source, body, github_headers(body, "star"), secrets=[GITHUB_SECRET])
    assert (answer.status, answer.body["id"]) == (200, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert answer.envelope is not None
    [track] = bodies(translate(source, answer.envelope))
    assert track == {
        "event": "Repository Starred",
        "externalId": "github:21031067",
        "distinctId": "github:72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "time": 1_794_994_200_000,
        "eventProperties": {"repository": "Codertocat/Hello-World"},
    }


def test_github_docs_example_signature_verifies() -> None:
    # GitHub's docs: secret "It's a Secret to Everybody", payload "Hello, World!" →
    # sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
    source = REGISTRY["github"]
    from webhook_translator.sources.request import InboundRequest

    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    request = InboundRequest(source="github", body=b"Hello, World!", headers={"x-hub-signature-256": expected})
    source.verify(request, [GITHUB_SECRET])
    assert source.sign_headers(b"Hello, World!", GITHUB_SECRET, now=0)["X-Hub-Signature-256"] == expected


def issue_opened() -> dict[str, Any]:
    """``issues`` / ``opened``, trimmed from GitHub's docs example (body text kept: it must not be forwarded)."""
    user = {"login": "Codertocat", "id": 21031067, "type": "User"}
    return {
        "action": "opened",
        "issue": {
            "id": 444500041,
            "number": 1,
            "title": "Spelling error in the README file",
            "user": user,
            "state": "open",
            "created_at": "2026-11-18T09:30:12Z",
            "body": "It looks like you accidentally spelled 'commit' with two 't's.",
        },
        "repository": {"id": 186853002, "full_name": "Codertocat/Hello-World", "private": False},
        "sender": user,
    }


def test_github_issue_opened_maps_without_the_issue_text() -> None:
    source = REGISTRY["github"]
    body = raw(issue_opened())
    answer = receive(source, body, github_headers(body, "issues"), secrets=[GITHUB_SECRET])
    assert answer.envelope is not None
    [track] = bodies(translate(source, answer.envelope))
    assert track["event"] == "Issue Opened"
    assert track["eventProperties"] == {"repository": "Codertocat/Hello-World", "issue_number": 1}
    assert "Spelling" not in json.dumps(track)
    assert "accidentally" not in json.dumps(track)


def test_github_sponsorship_created_maps_the_tier() -> None:
    source = REGISTRY["github"]
    sponsor = {"login": "octocat", "id": 583231, "type": "User"}
    body = {
        "action": "created",
        "sponsorship": {
            "node_id": "MDExOlNwb25zb3JzaGlwMQ==",
            "created_at": "2026-11-18T09:30:00+00:00",
            "sponsorable": {"login": "Codertocat", "id": 21031067},
            "sponsor": sponsor,
            "privacy_level": "public",
            "tier": {"name": "$5 a month", "monthly_price_in_cents": 500, "monthly_price_in_dollars": 5},
        },
        "sender": sponsor,
    }
    [track] = bodies(translate(source, envelope(source, body, {"x-github-delivery": "d-1"})))
    assert track["event"] == "Sponsorship Created"
    assert track["externalId"] == "github:583231"
    assert track["eventProperties"]["monthly_price_in_dollars"] == 5


def test_github_types_come_from_the_signed_body_not_the_event_header() -> None:
    # Given a star.deleted body sent with a forged X-GitHub-Event header saying "issues"
    source = REGISTRY["github"]
    body = sample_body("github", "star_created") | {"action": "deleted", "starred_at": None}
    result = translate(source, envelope(source, body, {"x-github-event": "issues", "x-github-delivery": "d-2"}))
    # Then the body decides: star.deleted, which the spec does not map
    assert (result.event_type, result.skipped) == ("star.deleted", "ignored_type")


def test_github_without_a_delivery_header_is_a_400() -> None:
    source = REGISTRY["github"]
    body = raw(sample_body("github", "star_created"))
    headers = github_headers(body, "star")
    del headers["x-github-delivery"]
    answer = receive(source, body, headers, secrets=[GITHUB_SECRET])
    assert answer.status == 400
    assert "x-github-delivery" in answer.body["error"].lower()
