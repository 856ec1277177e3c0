"""A spec source end to end: verifiers, content types, handshake, batch, ids, times, filters, identity
and properties — each behaviour the spec reference (docs/custom-sources.md) promises."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
from typing import Any
from urllib.parse import urlencode

import pytest
from spec_support import RECEIVED_AT, RECEIVED_S, bodies, envelope, raw, receive, translate
from standardwebhooks.webhooks import Webhook as StandardWebhook

from webhook_translator.errors import MappingError
from webhook_translator.spec import compile_spec

LEAD = {
    "verifier": {"type": "hmac", "header": "X-Acme-Signature", "prefix": "sha256="},
    "id": {"path": "id"},
    "event_type": {"path": "type"},
    "time": {"path": "created", "format": "epoch_s"},
    "events": {"lead.created": "Lead Created", "lead.deleted": None},
    "identity": {"externalId": "data.user_id", "email": "lower(data.email)", "phone_number": "data.phone"},
    "userProperties": {"first_name": "data.first_name", "utm_source": "data.utm.source"},
    "eventProperties": {"plan": "data.plan", "seats": "data.seats"},
    "filters": [{"when": "livemode == `false`", "reason": "test_mode"}],
}
BODY = {
    "id": "evt_1",
    "type": "lead.created",
    "created": RECEIVED_S - 30,
    "livemode": True,
    "data": {
        "user_id": 4821,
        "email": " Jamie@Example.COM ",
        "phone": "",
        "first_name": "Jamie",
        "utm": {"source": "webinar"},
        "plan": "team",
        "seats": 12,
        "notes": "call me after 5pm",
    },
}


def acme_headers(body: bytes, secret: str = "acme-secret") -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "x-acme-signature": f"sha256={digest}"}


def test_a_spec_only_source_is_received_and_maps_what_the_spec_names() -> None:
    # Given a spec-only source and a webhook signed by an independent HMAC
    source = compile_spec("acme", LEAD)
    body = raw(BODY)
    answer = receive(source, body, acme_headers(body), secrets=["acme-secret"])
    # Then it is queued under the body's id, and maps to exactly the named fields
    assert (answer.status, answer.body) == (200, {"received": True, "id": "evt_1"})
    assert answer.envelope is not None
    assert bodies(translate(source, answer.envelope)) == [
        {
            "event": "Lead Created",
            "externalId": "4821",
            "email": "jamie@example.com",
            "distinctId": "acme:evt_1",
            "time": (RECEIVED_S - 30) * 1000,
            "userProperties": {"first_name": "Jamie", "utm_source": "webinar"},
            "eventProperties": {"plan": "team", "seats": 12},
        }
    ]


def test_a_wrong_signature_and_a_body_without_type_are_refused() -> None:
    source = compile_spec("acme", LEAD)
    body = raw(BODY)
    assert receive(source, body, acme_headers(body, "other"), secrets=["acme-secret"]).status == 401
    untyped = raw({**BODY, "type": None})
    answer = receive(source, untyped, acme_headers(untyped), secrets=["acme-secret"])
    assert (answer.status, answer.envelope) == (400, None)
    assert "no event type at type" in answer.body["error"]
    unlisted = raw([1, 2])
    assert receive(source, unlisted, acme_headers(unlisted), secrets=["acme-secret"]).status == 400


def test_skips_filters_renames_and_drops() -> None:
    source = compile_spec("acme", LEAD)
    deleted = translate(source, envelope(source, {**BODY, "type": "lead.deleted"}))
    assert (deleted.events, deleted.skipped) == ((), "ignored_type")
    other = translate(source, envelope(source, {**BODY, "type": "lead.merged"}))
    assert other.skipped == "ignored_type"
    test_mode = translate(source, envelope(source, {**BODY, "livemode": False}))
    assert test_mode.skipped == "test_mode"
    renamed = translate(source, envelope(source, BODY), {"rename": {"lead.created": "Signed Up"}})
    assert bodies(renamed)[0]["event"] == "Signed Up"
    dropped = translate(source, envelope(source, BODY), {"drop": ["lead.created"]})
    assert dropped.skipped == "dropped_by_config"


def test_unknown_values_are_omitted_never_null() -> None:
    # Given a webhook with none of the optional fields, and an email without '@'
    source = compile_spec("acme", LEAD)
    body = {"id": "evt_2", "type": "lead.created", "livemode": True, "data": {"user_id": "u-1", "email": "n/a"}}
    [track] = bodies(translate(source, envelope(source, body)))
    # Then only what is known is sent; the time is the receive time
    assert track == {
        "event": "Lead Created",
        "externalId": "u-1",
        "distinctId": "acme:evt_2",
        "time": int(RECEIVED_AT.timestamp() * 1000),
    }


def test_no_identity_is_a_permanent_no_identity_failure() -> None:
    source = compile_spec("acme", LEAD)
    body = {"id": "evt_3", "type": "lead.created", "livemode": True, "data": {}}
    with pytest.raises(MappingError) as caught:
        translate(source, envelope(source, body))
    assert caught.value.reason == "no_identity"


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        pytest.param("iso8601", "2026-11-18T10:00:00Z", 1_794_996_000_000, id="iso"),
        pytest.param("iso8601", "2026-11-18T11:00:00+01:00", 1_794_996_000_000, id="iso-offset"),
        pytest.param("epoch_s", 1_794_996_000, 1_794_996_000_000, id="epoch-s"),
        pytest.param("epoch_s", "1794996000.5", 1_794_996_000_500, id="epoch-s-text"),
        pytest.param("epoch_ms", 1_794_996_000_123, 1_794_996_000_123, id="epoch-ms"),
    ],
)
def test_time_formats(fmt: str, value: Any, expected: int) -> None:
    source = compile_spec("acme", {**LEAD, "time": {"path": "at", "format": fmt}})
    [track] = bodies(translate(source, envelope(source, {**BODY, "at": value})))
    assert track["time"] == expected


@pytest.mark.parametrize(
    ("fmt", "value"),
    [pytest.param("iso8601", 1_794_996_000, id="iso-number"), pytest.param("epoch_s", "yesterday", id="s-text")],
)
def test_a_time_in_the_wrong_format_is_a_mapping_error_naming_the_path(fmt: str, value: Any) -> None:
    source = compile_spec("acme", {**LEAD, "time": {"path": "at", "format": fmt}})
    with pytest.raises(MappingError, match="time"):
        translate(source, envelope(source, {**BODY, "at": value}))


def test_an_expression_that_fails_on_a_payload_names_the_path_not_the_value() -> None:
    source = compile_spec("acme", {**LEAD, "eventProperties": {"label": "join('-', data.tags)"}})
    with pytest.raises(MappingError) as caught:
        translate(source, envelope(source, {**BODY, "data": {**BODY["data"], "tags": [1, "secret-value"]}}))
    assert "eventProperties.label" in caught.value.message
    assert "secret" not in caught.value.message


def test_properties_consent_and_default_properties_are_typed_as_ours_wants() -> None:
    spec = {
        **LEAD,
        "userProperties": {"custom_properties": "data.custom", "zip": "data.zip", "is_bot": "data.bot"},
        "consent": {"marketing": "as_bool(data.opt_in)", "analytics": "data.analytics"},
        "defaultProperties": {"ip": "data.ip", "screen_width": "data.width", "fv": "data.first_visit"},
    }
    source = compile_spec("acme", spec)
    data = {"email": "a@b.co", "custom": {"tier": "gold", "empty": None}, "zip": 10001, "bot": False}
    data |= {"opt_in": "yes", "analytics": "sure", "ip": "203.0.113.9", "width": "wide", "first_visit": True}
    [track] = bodies(translate(source, envelope(source, {**BODY, "data": data})))
    assert track["userProperties"] == {
        "custom_properties": {"tier": "gold"},
        "zip": "10001",
        "is_bot": False,
        "consent": {"marketing": True},  # "sure" is not a boolean: never guessed
    }
    assert track["defaultProperties"] == {"ip": "203.0.113.9", "fv": True}


# --- batch -----------------------------------------------------------------------------------------

BATCH = {
    "verifier": {"type": "token", "header": "X-Hook-Token", "query": "key"},
    "batch": "entry[].changes[]",
    "item_id": "value.leadgen_id",
    "event_type": {"path": "field"},
    "time": {"path": "value.created_time", "format": "epoch_s"},
    "events": {"leadgen": "Lead Submitted"},
    "identity": {"externalId": "value.leadgen_id"},
    "eventProperties": {"form_id": "value.form_id"},
}


def leadgen(lead: str, form: str = "f-1", field: str = "leadgen") -> dict[str, Any]:
    value = {"leadgen_id": lead, "form_id": form, "created_time": RECEIVED_S - 10}
    return {"field": field, "value": value}


def test_a_batch_is_one_event_per_item_each_with_its_own_distinct_id() -> None:
    # Given one POST holding three changes in two entries (one of a type the spec does not map)
    source = compile_spec("meta-leads", BATCH)
    body = {"entry": [{"changes": [leadgen("L1"), leadgen("L2")]}, {"changes": [leadgen("X", field="feed")]}]}
    answer = receive(source, raw(body), {"content-type": "application/json"}, secrets=["tok"], query={"key": "tok"})
    assert answer.status == 200
    assert answer.envelope is not None
    result = translate(source, answer.envelope)
    # Then each mapped item is its own event, keyed on its own id
    assert [(t["event"], t["distinctId"]) for t in bodies(result)] == [
        ("Lead Submitted", "meta-leads:L1"),
        ("Lead Submitted", "meta-leads:L2"),
    ]
    assert result.event_type == "leadgen,feed"


def test_batch_items_without_an_id_are_keyed_on_the_webhook_id_and_their_index() -> None:
    source = compile_spec("meta-leads", {**BATCH, "item_id": None, "identity": {"externalId": "value.form_id"}})
    body = {"entry": [{"changes": [leadgen("L1"), leadgen("L2", form="f-2")]}]}
    env = envelope(source, body)
    assert [t["distinctId"] for t in bodies(translate(source, env))] == [
        f"meta-leads:{env.webhook_id}:0",
        f"meta-leads:{env.webhook_id}:1",
    ]


def test_an_empty_batch_is_skipped_and_a_body_without_the_batch_is_a_400() -> None:
    source = compile_spec("meta-leads", BATCH)
    assert translate(source, envelope(source, {"entry": []})).skipped == "empty_batch"
    answer = receive(
        source, raw({"object": "page"}), {"content-type": "application/json"}, secrets=["tok"], query={"key": "tok"}
    )
    assert answer.status == 400
    assert "no batch at entry[].changes[]" in answer.body["error"]


def test_a_token_verifier_takes_the_query_or_the_header_and_refuses_a_wrong_one() -> None:
    source = compile_spec("meta-leads", BATCH)
    body = raw({"entry": [{"changes": [leadgen("L1")]}]})
    json_ct = {"content-type": "application/json"}
    assert receive(source, body, json_ct, secrets=["tok"], query={"key": "tok"}).status == 200
    assert receive(source, body, json_ct | {"x-hook-token": "tok"}, secrets=["tok"]).status == 200
    assert receive(source, body, json_ct | {"x-hook-token": "nope"}, secrets=["tok"]).status == 401
    assert receive(source, body, json_ct, secrets=["tok"]).status == 401
    assert source.sign_headers(body, "tok", now=0) == {"Content-Type": "application/json", "X-Hook-Token": "tok"}


# --- content types and handshake -------------------------------------------------------------------


def test_a_form_post_becomes_a_flat_object() -> None:
    spec = {
        "verifier": {"type": "token"},
        "content_types": ["application/x-www-form-urlencoded"],
        "event_type": {"value": "submission"},
        "events": {"submission": "Form Submitted"},
        "identity": {"email": "lower(get(@, 'EMAIL'))"},
        "userProperties": {"first_name": "name_part(full_name, 'first')", "last_name": "name_part(full_name, 'last')"},
    }
    source = compile_spec("webform", spec)
    form = urlencode({"Email": "Ann@Example.com", "full_name": "Ann Q. Lee", "message": "free text"}).encode()
    answer = receive(
        source, form, {"content-type": "application/x-www-form-urlencoded"}, secrets=["tok"], query={"key": "tok"}
    )
    assert answer.status == 200
    assert answer.envelope is not None
    [track] = bodies(translate(source, answer.envelope))
    assert track["event"] == "Form Submitted"
    assert track["email"] == "ann@example.com"
    assert track["userProperties"] == {"first_name": "Ann", "last_name": "Q. Lee"}
    assert "free text" not in json.dumps(track)
    # And JSON is refused: the spec accepts forms only
    assert (
        receive(source, b"{}", {"content-type": "application/json"}, secrets=["tok"], query={"key": "tok"}).status
        == 415
    )


def test_a_handshake_is_answered_from_the_request_and_nothing_is_queued() -> None:
    spec = {**LEAD, "handshake": {"when": "type == 'url_verification'", "body": {"challenge": "challenge"}}}
    source = compile_spec("acme", spec)
    body = raw({"type": "url_verification", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"})
    answer = receive(source, body, acme_headers(body), secrets=["acme-secret"])
    assert (answer.status, answer.envelope) == (200, None)
    assert answer.body == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}
    # And an ordinary webhook is not a handshake
    assert receive(source, raw(BODY), acme_headers(raw(BODY)), secrets=["acme-secret"]).envelope is not None


def test_an_hmac_over_the_public_url_and_body_as_square_signs() -> None:
    # Square: x-square-hmacsha256-signature = base64(HMAC-SHA256(key, notification URL + body))
    # (https://developer.squareup.com/docs/webhooks/step3validate)
    spec = {
        "title": "Square",
        "verifier": {
            "type": "hmac",
            "header": "x-square-hmacsha256-signature",
            "signed": "{url}{body}",
            "encoding": "base64",
        },
        "id": {"path": "event_id"},
        "event_type": {"path": "type"},
        "time": {"path": "created_at", "format": "iso8601"},
        "events": {"customer.created": "Customer Created"},
        "identity": {"externalId": "data.id", "email": "lower(data.object.customer.email_address)"},
    }
    source = compile_spec("square", spec)
    body = raw(
        {
            "merchant_id": "6SSW7HV8K2ST5",
            "type": "customer.created",
            "event_id": "6a8f5f28-54a1-4eb0-a98a-3111513fd4fc",
            "created_at": "2026-11-18T09:00:00Z",
            "data": {
                "type": "customer",
                "id": "A0AP4GEPQ5ZD3QD1Q1B4V1EC3M",
                "object": {
                    "customer": {"id": "A0AP4GEPQ5ZD3QD1Q1B4V1EC3M", "email_address": "Amelia.Earhart@example.com"}
                },
            },
        }
    )
    url = "https://hooks.example.com/webhooks/square"
    signature = base64.b64encode(hmac.new(b"square-key", url.encode() + body, hashlib.sha256).digest()).decode()
    headers = {"content-type": "application/json", "x-square-hmacsha256-signature": signature}
    answer = receive(source, body, headers, secrets=["square-key"])
    assert answer.status == 200
    assert answer.envelope is not None
    [track] = bodies(translate(source, answer.envelope))
    assert (track["email"], track["distinctId"]) == (
        "amelia.earhart@example.com",
        "square:6a8f5f28-54a1-4eb0-a98a-3111513fd4fc",
    )
    # And the same body posted to another URL does not verify
    assert receive(source, body, headers, secrets=["square-key"], path="/webhooks/other").status == 401


# --- standard-webhooks with a spec -----------------------------------------------------------------


def test_standard_webhooks_with_a_spec_maps_any_sender_payload() -> None:
    spec = {
        "event_type": {"path": "event"},
        "events": {"invoice.paid": "Invoice Paid"},
        "identity": {"externalId": "payload.customer.id", "email": "payload.customer.email"},
        "eventProperties": {"amount": "payload.amount"},
    }
    source = compile_spec("standard-webhooks", spec)
    assert source.title == "Standard Webhooks (spec)"
    secret = "whsec_" + base64.b64encode(b"standard-webhooks-test-key-32byt").decode()
    body = raw(
        {"event": "invoice.paid", "payload": {"customer": {"id": "c_9", "email": "pay@example.com"}, "amount": 42}}
    )
    sig = StandardWebhook(secret).sign("msg_sw_1", RECEIVED_AT, body.decode())
    headers = {
        "content-type": "application/json",
        "webhook-id": "msg_sw_1",
        "webhook-timestamp": str(RECEIVED_S),
        "webhook-signature": sig,
    }
    answer = receive(source, body, headers, secrets=[secret])
    assert (answer.status, answer.body["id"]) == (200, "msg_sw_1")
    assert answer.envelope is not None
    [track] = bodies(translate(source, answer.envelope))
    assert (track["event"], track["externalId"], track["eventProperties"]) == ("Invoice Paid", "c_9", {"amount": 42})
    assert track["distinctId"] == "standard-webhooks:msg_sw_1"


def test_importing_the_spec_package_imports_no_jmespath() -> None:
    # When the configuration loader imports the package (for SpecError) in a fresh process
    probe = "import sys, webhook_translator.spec; print(any(m.startswith('jmespath') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    # Then jmespath and the engine are not imported yet
    assert out.stdout.strip() == "False"


def test_the_receiver_verifying_a_spec_source_builds_no_track_event() -> None:
    # When a fresh receiver looks up Resend and verifies (and ids) a webhook
    probe = """
import base64, json, sys
from datetime import datetime, timezone
from standardwebhooks.webhooks import Webhook
import webhook_translator.receiver
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.sources.request import InboundRequest
from pydantic import BaseModel
secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
body = b'{"type":"email.sent","data":{"to":["a@b.co"]}}'
now = datetime.now(timezone.utc)
headers = {"svix-id": "m1", "svix-timestamp": str(int(now.timestamp())),
           "svix-signature": Webhook(secret).sign("m1", now, body.decode()), "content-type": "application/json"}
source = REGISTRY["resend"]
request = InboundRequest(source="resend", body=body, headers=headers)
source.verify(request, [secret])
assert source.webhook_id(request) == "m1"
def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)
built = [c for c in set(subclasses(BaseModel)) if c.__dict__.get("__pydantic_complete__")]
print(json.dumps(sorted(c.__qualname__ for c in built if c.__module__.startswith("webhook_translator.ours"))))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    # Then no TrackEvent model is built on the receiver's path
    assert json.loads(out.stdout) == []
