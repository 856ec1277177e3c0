"""Standard Webhooks: the published vector, the ``standardwebhooks`` library as oracle both ways, the envelope."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from webhook_translator.errors import BadRequest, MappingError, SignatureError
from webhook_translator.ours.models import InvalidTrackEvent

# The library's own test vector (sources.md)
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TS = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-test-key-32byt").decode()
OTHER = "whsec_" + base64.b64encode(b"another-test-key-for-rotation-32").decode()
BODY = b'{"type":"Lead Created","data":{"email":"lead@example.com"}}'


def cases(*rows: tuple[Any, ...]) -> list[Any]:
    """Parametrize rows named by their first item (the case), so that test ids never show test data."""
    return [pytest.param(*row, id=str(row[0])) for row in rows]


@pytest.fixture
def h(harness: Callable[[str], Any]) -> Any:
    return harness("standard-webhooks")


def received(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def oracle_headers(secret: str, msg_id: str, ts: int, body: bytes, prefix: str = "webhook") -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, datetime.fromtimestamp(ts, UTC), body.decode())
    return {f"{prefix}-id": msg_id, f"{prefix}-timestamp": str(ts), f"{prefix}-signature": signature}


# --- the published vector --------------------------------------------------------------------


def test_the_published_vector_is_what_we_sign_and_what_we_verify(h: Any) -> None:
    # Given the library's test vector
    headers = h.source.sign_headers(VECTOR_BODY, VECTOR_SECRET, now=VECTOR_TS, webhook_id=VECTOR_ID)
    # Then our signature is the published one, and the published headers verify at that time
    assert headers["webhook-signature"] == VECTOR_SIG
    assert (headers["webhook-id"], headers["webhook-timestamp"]) == (VECTOR_ID, str(VECTOR_TS))
    published = {"webhook-id": VECTOR_ID, "webhook-timestamp": str(VECTOR_TS), "webhook-signature": VECTOR_SIG}
    h.source.verify(h.request(VECTOR_BODY, published, received_at=received(VECTOR_TS)), [VECTOR_SECRET])


def test_the_oracle_computes_the_published_vector() -> None:
    # the oracle itself, so that a broken library cannot make the tests below vacuous
    assert Webhook(VECTOR_SECRET).sign(VECTOR_ID, received(VECTOR_TS), VECTOR_BODY.decode()) == VECTOR_SIG


# --- against the oracle, both ways (it checks against the real clock) -------------------------


@pytest.mark.parametrize("prefix", ["webhook", "svix"])
def test_the_oracle_signs_and_we_verify(h: Any, prefix: str) -> None:
    # Given a webhook signed by the standardwebhooks library, under webhook-* or svix-* names
    now = int(time.time())
    headers = oracle_headers(SECRET, "msg_oracle_1", now, BODY, prefix)
    # Then our verifier accepts it
    h.source.verify(h.request(BODY, headers, received_at=received(now)), [SECRET])


def test_we_sign_and_the_oracle_verifies(h: Any) -> None:
    # Given headers from our sign_headers at the real time
    headers = h.source.sign_headers(BODY, SECRET, now=time.time(), webhook_id="msg_ours_1")
    # Then the library accepts them (it returns the parsed body)
    assert Webhook(SECRET).verify(BODY, headers) == {"type": "Lead Created", "data": {"email": "lead@example.com"}}


def test_several_signatures_with_unknown_versions_are_handled_like_the_oracle(h: Any) -> None:
    # Given a signature list: an unknown version, a wrong v1, then the right v1
    now = int(time.time())
    good = oracle_headers(SECRET, "msg_multi", now, BODY)
    wrong_v1 = "v1," + base64.b64encode(b"\0" * 32).decode()
    headers = {**good, "webhook-signature": f"v1a,{'A' * 44} {wrong_v1} {good['webhook-signature']}"}
    # Then both the oracle and we accept it
    Webhook(SECRET).verify(BODY, headers)
    h.source.verify(h.request(BODY, headers, received_at=received(now)), [SECRET])
    # and with only the unknown version and the wrong one, both refuse it
    refused = {**good, "webhook-signature": f"v1a,{'A' * 44} {wrong_v1}"}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY, refused)
    with pytest.raises(SignatureError):
        h.source.verify(h.request(BODY, refused, received_at=received(now)), [SECRET])


def test_an_unpadded_secret_works_like_in_the_oracle(h: Any) -> None:
    # Given a secret whose base64 lost its padding (the library pads it)
    raw = base64.b64encode(b"sixteen-byte-key").decode()
    unpadded = "whsec_" + raw.rstrip("=")
    now = int(time.time())
    headers = oracle_headers(unpadded, "msg_pad", now, BODY)
    # Then we accept what the library signed with it
    h.source.verify(h.request(BODY, headers, received_at=received(now)), [unpadded])


# --- refusals --------------------------------------------------------------------------------


def _signed(
    h: Any, *, age: int = 5, secret: str = SECRET, body: bytes = BODY, prefix: str = "webhook"
) -> dict[str, str]:
    return oracle_headers(secret, "msg_case", h.now_s - age, body, prefix)


@pytest.mark.parametrize(
    ("case", "body", "headers", "secrets"),
    cases(
        ("genuine", BODY, lambda h: _signed(h), [SECRET]),
        ("rotation: the second secret matches", BODY, lambda h: _signed(h), [OTHER, SECRET]),
        ("secret without the whsec_ prefix", BODY, lambda h: _signed(h), [SECRET.removeprefix("whsec_")]),
        ("299 s old", BODY, lambda h: _signed(h, age=299), [SECRET]),
        ("299 s ahead", BODY, lambda h: _signed(h, age=-299), [SECRET]),
        ("svix-* aliases", BODY, lambda h: _signed(h, prefix="svix"), [SECRET]),
    ),
)
def test_genuine_deliveries_verify(
    h: Any, case: str, body: bytes, headers: Callable[[Any], dict[str, str]], secrets: list[str]
) -> None:
    h.source.verify(h.request(body, headers(h), received_at=h.at(0)), secrets)


@pytest.mark.parametrize(
    ("case", "body", "headers", "secrets"),
    cases(
        ("tampered body", BODY.replace(b"Lead", b"Deal"), lambda h: _signed(h), [SECRET]),
        ("wrong secret", BODY, lambda h: _signed(h, secret=OTHER), [SECRET]),
        ("stale: 301 s old", BODY, lambda h: _signed(h, age=301), [SECRET]),
        ("future: 301 s ahead", BODY, lambda h: _signed(h, age=-301), [SECRET]),
        (
            "missing signature",
            BODY,
            lambda h: {k: v for k, v in _signed(h).items() if k != "webhook-signature"},
            [SECRET],
        ),
        ("missing id", BODY, lambda h: {k: v for k, v in _signed(h).items() if k != "webhook-id"}, [SECRET]),
        (
            "missing timestamp",
            BODY,
            lambda h: {k: v for k, v in _signed(h).items() if k != "webhook-timestamp"},
            [SECRET],
        ),
        ("id changed", BODY, lambda h: {**_signed(h), "webhook-id": "msg_other"}, [SECRET]),
        ("timestamp changed", BODY, lambda h: {**_signed(h), "webhook-timestamp": str(h.now_s - 4)}, [SECRET]),
        ("garbage signature", BODY, lambda h: {**_signed(h), "webhook-signature": "nonsense"}, [SECRET]),
        ("garbage timestamp", BODY, lambda h: {**_signed(h), "webhook-timestamp": "later"}, [SECRET]),
        ("secret is not base64", BODY, lambda h: _signed(h), ["whsec_***not base64***"]),
        ("no secret configured", BODY, lambda h: _signed(h), []),
    ),
)
def test_bad_deliveries_are_refused(
    h: Any, case: str, body: bytes, headers: Callable[[Any], dict[str, str]], secrets: list[str]
) -> None:
    with pytest.raises(SignatureError) as caught:
        h.source.verify(h.request(body, headers(h), received_at=h.at(0)), secrets)
    assert _signed(h)["webhook-signature"][3:] not in caught.value.message


# --- webhook id ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["webhook-id", "svix-id"])
def test_the_webhook_id_is_the_id_header(h: Any, name: str) -> None:
    assert h.source.webhook_id(h.request(BODY, {name: "msg_abc"})) == "msg_abc"


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (BODY, {}),
        (b"{", {"webhook-id": "m"}),
        (b"[]", {"webhook-id": "m"}),
        (b'{"data":{}}', {"webhook-id": "m"}),
        (b'{"type":" "}', {"webhook-id": "m"}),
    ],
    ids=["no id header", "not json", "not an object", "no type", "blank type"],
)
def test_a_missing_id_or_a_body_without_type_is_a_bad_request(h: Any, body: bytes, headers: dict[str, str]) -> None:
    with pytest.raises(BadRequest):
        h.source.webhook_id(h.request(body, headers))


def test_the_receiver_takes_svix_headers_and_forwards_only_id_and_timestamp(h: Any) -> None:
    # Given a svix-signed delivery at the receiver's clock
    ts = h.now_s - 60
    headers = {"Content-Type": "application/json", **oracle_headers(SECRET, "msg_rx", ts, BODY, "svix")}
    # When the receiver handles it
    status, answer, envelope = h.receive(BODY, headers, secrets=[SECRET])
    # Then it is queued under the svix-id, and the envelope carries id and timestamp but no signature
    assert (status, answer) == (200, {"received": True, "id": "msg_rx"})
    assert envelope is not None
    assert envelope.headers == {"svix-id": "msg_rx", "svix-timestamp": str(ts)}


# --- mapping ---------------------------------------------------------------------------------


def test_the_documented_envelope_maps_every_field(h: Any) -> None:
    # Given the sample from "your own backend"
    sample = h.sample("lead_created")
    # When it is mapped
    out = h.one(sample["body"], sample["headers"])
    # Then type → event, userId / externalId / email, the rest of data → userProperties, properties → eventProperties
    assert out == {
        "event": "Lead Created",
        "userId": "ours-9e8d7c6b",
        "externalId": "user_48213",
        "email": "jamie.fox@example.com",
        "distinctId": "standard-webhooks:msg_2pQx7Ld0Vb9KsT4nY1cR8wEa",
        "time": 1794998880000,  # 2026-11-18T10:48:00.000Z
        "userProperties": {
            "first_name": "Jamie",
            "last_name": "Fox",
            "phone_number": "+15555550166",
            "company_name": "Fox Foods",
            "utm_source": "webinar",
        },
        "eventProperties": {"plan": "team", "seats": 12, "trial": True, "source_form": "pricing-page"},
    }


@pytest.mark.parametrize(
    ("timestamp", "headers", "expected"),
    [
        ("2026-11-18T10:00:00Z", {}, 1794996000000),
        ("2026-11-18T11:00:00+01:00", {}, 1794996000000),
        ("2026-11-18T10:00:00", {}, 1794996000000),  # naive: UTC
        (1794996000, {}, 1794996000000),  # epoch seconds
        (1794996000123, {}, 1794996000123),  # epoch ms
        ("1794996000", {}, 1794996000000),  # epoch seconds as text
        (None, {"webhook-timestamp": "1794996000"}, 1794996000000),
        (None, {"svix-timestamp": "1794996000"}, 1794996000000),
        (None, {}, 1_795_000_000_000 - 60_000),  # no time at all: the receive time
    ],
)
def test_time_comes_from_the_payload_then_the_timestamp_header(
    h: Any, timestamp: Any, headers: dict[str, str], expected: int
) -> None:
    body: dict[str, Any] = {"type": "Ping", "data": {"email": "t@example.com"}}
    if timestamp is not None:
        body["timestamp"] = timestamp
    assert h.one(body, {"webhook-id": "msg_t", **headers})["time"] == expected


@pytest.mark.parametrize(
    ("data", "field", "expected"),
    [
        ({"userId": "ours-1"}, "userId", "ours-1"),
        ({"ours_user_id": "ours-2"}, "userId", "ours-2"),
        ({"externalId": 42}, "externalId", "42"),
        ({"external_id": "u-3"}, "externalId", "u-3"),
        ({"phone": "+15555550100"}, "userProperties", {"phone_number": "+15555550100"}),
        (
            {"phone_number": 15555550100, "zip": "10115", "city": "Berlin"},
            "userProperties",
            {"phone_number": "15555550100", "zip": "10115", "city": "Berlin"},
        ),
        (
            {"email": "b@example.com", "is_bot": True, "custom_properties": {"tier": "gold", "none": None}, "city": 7},
            "userProperties",
            {"is_bot": True, "custom_properties": {"tier": "gold"}, "city": "7"},
        ),
    ],
)
def test_identity_fields_and_their_aliases(h: Any, data: dict[str, Any], field: str, expected: Any) -> None:
    out = h.one({"type": "Ping", "data": data}, {"webhook-id": "msg_i"})
    assert out[field] == expected


def test_the_svix_id_is_the_distinct_id_when_there_is_no_webhook_id(h: Any) -> None:
    out = h.one(h.body("svix_epoch_timestamp"), {"svix-id": "msg_3rTy8Me1Wc0LtU5oZ2dS9xFb"})
    assert out["distinctId"] == "standard-webhooks:msg_3rTy8Me1Wc0LtU5oZ2dS9xFb"


def test_properties_are_kept_within_ours_limits(h: Any) -> None:
    # Given properties with a 300-item list, 6 object levels and 260 more keys
    properties = {"list": list(range(300)), "deep": {"a": {"b": {"c": {"d": {"e": 1}}}}}} | {
        f"k{i}": i for i in range(260)
    }
    # When they are mapped
    out = h.one({"type": "Ping", "data": {"email": "l@example.com", "properties": properties}}, {"webhook-id": "m"})
    # Then the object keeps its first 200 keys, the list 250 items, and the sixth level becomes JSON text
    props = out["eventProperties"]
    assert len(props) == 200
    assert props["list"] == list(range(250))
    assert props["deep"] == {"a": {"b": {"c": {"d": '{"e":1}'}}}}


def test_no_identity_is_a_permanent_no_identity_failure(h: Any) -> None:
    with pytest.raises(InvalidTrackEvent) as caught:
        h.map({"type": "Ping", "data": {"first_name": "Nobody", "properties": {"x": 1}}}, {"webhook-id": "m"})
    assert caught.value.reason == "no_identity"


@pytest.mark.parametrize(
    ("config", "event", "skipped"),
    [
        ({"rename": {"Lead Created": "Lead"}}, "Lead", None),
        ({"drop": ["Lead Created"]}, None, "dropped_by_config"),
        ({"drop": ["Something Else"]}, "Lead Created", None),
    ],
)
def test_configuration_renames_and_drops_by_type(
    h: Any, config: dict[str, Any], event: str | None, skipped: str | None
) -> None:
    sample = h.sample("lead_created")
    result = h.map(sample["body"], sample["headers"], config=config)
    assert result.skipped == skipped
    assert [e.event for e in result.events] == ([event] if event else [])


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        {"data": {"email": "bad@example.com"}},
        {"type": "", "data": {"email": "bad@example.com"}},
        {"type": "X", "data": "bad@example.com"},
        {"type": "X", "data": {"email": "bad@example.com", "properties": ["a"]}},
        {"type": "X", "timestamp": "the day before", "data": {"email": "bad@example.com"}},
        {"type": "X", "data": {"email": 12345}},
    ],
)
def test_a_malformed_payload_is_a_mapping_error_without_values(h: Any, body: Any) -> None:
    with pytest.raises(MappingError) as caught:
        h.map(body, {"webhook-id": "m"})
    assert "bad@example.com" not in caught.value.message
    assert "day before" not in caught.value.message


def test_options_are_refused_because_there_are_none(h: Any) -> None:
    sample = h.sample("lead_created")
    with pytest.raises(MappingError, match="invalid options"):
        h.map(sample["body"], sample["headers"], config={"options": {"synonyms": {}}})
