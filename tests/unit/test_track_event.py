"""TrackEvent: every rule of the Ours /track contract, at its boundaries.

The oracle for "Ours would accept this" is the local Ours's validator, written
from the contract independently of the model.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhook_translator.errors import MappingError
from webhook_translator.ours.models import (
    MAX_UTF16_UNITS,
    WINDOW_MS,
    InvalidTrackEvent,
    TrackEvent,
    track_body,
    validate_token,
)
from webhook_translator_tools.local.ours_server import check_token, parse_json, validate_track

NOW = 1_795_000_000_000  # ms; every test passes its own clock
EMAIL = "jane.doe@example.com"
PHONE = "+1 415 555 0100"
TOKEN = "tok_live_0123456789"


def build(**fields: Any) -> TrackEvent:
    fields.setdefault("event", "Order Completed")
    return TrackEvent.build(now_ms=NOW, **fields)


def rules_of(**fields: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidTrackEvent) as caught:
        build(**fields)
    return caught.value.rules


def nested(levels: int) -> dict[str, Any]:
    """An object ``levels`` object levels deep (1 = a flat object)."""
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


# --- identity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "identities"),
    [
        ({"userId": "u_1"}, ["userId"]),
        ({"externalId": "cus_1"}, ["externalId"]),
        ({"email": EMAIL}, ["email"]),
        ({"userProperties": {"phone_number": PHONE}}, ["phone_number"]),
        ({"userProperties": {"phone_number": 14155550100}}, ["phone_number"]),
        ({"userId": "u_1", "email": EMAIL}, ["userId", "email"]),
    ],
)
def test_any_one_identity_is_enough(fields: dict[str, Any], identities: list[str]) -> None:
    # Given an event with one (or more) of the accepted identities
    # When it is built
    event = build(**fields)
    # Then it is valid and names the identities it carries
    assert list(event.identities) == identities


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"distinctId": "stripe:evt_1"},
        {"userProperties": {"phone_number": "   "}},
        {"userProperties": {"first_name": "Jane"}},
        {"email": None, "userId": None},
    ],
)
def test_an_event_without_identity_is_refused(fields: dict[str, Any]) -> None:
    # Given an event with no userId, externalId, email or phone number
    # When it is built
    with pytest.raises(InvalidTrackEvent) as caught:
        build(**fields)
    # Then it fails as no_identity: a permanent mapping error
    assert caught.value.reason == "no_identity"
    assert isinstance(caught.value, MappingError)


# --- null vs unset ----------------------------------------------------------------------------


def test_none_is_omitted_never_sent_as_null() -> None:
    # Given an event whose unknown fields are None
    event = build(email=EMAIL, userId=None, externalId=None, time=None, eventProperties={"a": 1, "b": None})
    # When it is serialised
    body = event.to_ours()
    # Then the unknown fields are absent (a null would erase the stored value)
    assert body == {"event": "Order Completed", "email": EMAIL, "eventProperties": {"a": 1}}
    assert None not in body.values()


def test_erase_sends_null_explicitly() -> None:
    # Given an event that erases the stored externalId and email on purpose
    event = build(userId="u_1", erase={"external_id", "email"})
    # When it is serialised
    body = event.to_ours()
    # Then those keys are sent as null, with Ours's names
    assert body == {"event": "Order Completed", "userId": "u_1", "externalId": None, "email": None}


@pytest.mark.parametrize("field", ["user_id", "email"])
def test_a_field_cannot_be_both_set_and_erased(field: str) -> None:
    # Given a field that is set and also named in erase
    # When it is built
    rules = rules_of(userId="u_1", email=EMAIL, erase={field})
    # Then it is refused as a conflict
    assert ("event", "erase_conflict") in rules


def test_erase_names_only_known_fields() -> None:
    assert rules_of(email=EMAIL, erase={"event"})[0][1] == "literal_error"


# --- strings: trimming and lengths ------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "limit"),
    [("event", 1000), ("userId", 400), ("externalId", 400), ("distinctId", 400), ("email", 1000)],
)
def test_string_lengths_are_measured_after_trimming(alias: str, limit: int) -> None:
    identity = {"externalId": "cus_1"} if alias != "externalId" else {"userId": "u_1"}
    # Given a value exactly at the limit, padded with whitespace
    at_limit = "  " + "a" * limit + "\n"
    # When it is built
    event = build(**identity, **{alias: at_limit})
    # Then it is accepted and sent trimmed
    assert event.to_ours()[alias] == "a" * limit
    # And one character more is refused
    assert rules_of(**identity, **{alias: "a" * (limit + 1)}) == [(alias, "string_too_long")]


@pytest.mark.parametrize(("alias", "limit"), [("userId", 400), ("event", 1000)])
def test_lengths_count_utf16_units_like_ours(alias: str, limit: int) -> None:
    # Given a value of astral characters (2 UTF-16 units each) just over the limit in units
    value = "😀" * (limit // 2 + 1)
    # When it is built
    rules = rules_of(**{"externalId": "x", alias: value})
    # Then it is refused, though it has fewer code points than the limit
    assert rules == [(alias, "string_too_long")]
    assert build(**{"externalId": "x", alias: "😀" * (limit // 2)})


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"event": "   "}, "event"),
        ({"event": ""}, "event"),
        ({"userId": " \t\n"}, "userId"),
        ({"email": "  "}, "email"),
        ({"distinctId": ""}, "distinctId"),
    ],
)
def test_whitespace_only_strings_are_empty(fields: dict[str, Any], where: str) -> None:
    rules = rules_of(**{"externalId": "cus_1", **fields})
    assert (where, "string_too_short") in rules


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"userId": 12345}, "userId"),
        ({"externalId": 7.0}, "externalId"),
        ({"email": ["a@b.c"]}, "email"),
        ({"distinctId": 1}, "distinctId"),
        ({"event": True}, "event"),
        ({"userProperties": {"first_name": 1}}, "userProperties.first_name"),
    ],
)
def test_ids_and_names_must_be_strings_not_coerced(fields: dict[str, Any], where: str) -> None:
    rules = rules_of(**{"email": EMAIL, **fields})
    assert (where, "string_type") in rules


@pytest.mark.parametrize(
    ("token", "ok"),
    [("t", True), ("  " + "t" * 250 + " ", True), ("t" * 251, False), ("   ", False), ("", False)],
)
def test_token_is_1_to_250_characters_after_trimming(token: str, ok: bool) -> None:
    event = build(email=EMAIL)
    if ok:
        # Then the body carries the trimmed token
        assert track_body(event, token)["token"] == token.strip()
    else:
        with pytest.raises(InvalidTrackEvent) as caught:
            validate_token(token)
        assert caught.value.rules[0][0] == "token"
        assert token.strip() == "" or token not in str(caught.value)


# --- time ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time", "code"),
    [
        (NOW, None),
        (NOW - 1, None),
        (NOW - WINDOW_MS, None),
        (NOW - WINDOW_MS + 0.5, None),
        (NOW - WINDOW_MS - 1, "stale_event"),
        (NOW + 1, "time_in_future"),
        (NOW // 1000, "time_not_ms"),
        (1_700_000_000.5, "time_not_ms"),
        (float("nan"), "time_not_ms"),
        (float("inf"), "time_in_future"),
    ],
)
def test_time_is_ms_in_the_past_within_seven_days(time: float, code: str | None) -> None:
    # Given an event time relative to an injected clock
    if code is None:
        # Then times inside the window (both ends included) are accepted
        assert build(email=EMAIL, time=time).time == time
    else:
        # Then others are refused with the rule they break
        assert rules_of(email=EMAIL, time=time) == [("time", code)]


def test_a_stale_event_carries_the_stale_reason() -> None:
    with pytest.raises(InvalidTrackEvent) as caught:
        build(email=EMAIL, time=NOW - WINDOW_MS - 1)
    assert caught.value.reason == "stale_event"


def test_time_must_be_a_number() -> None:
    assert {where for where, _ in rules_of(email=EMAIL, time=True)} <= {"time", "time.int", "time.float"}
    assert rules_of(email=EMAIL, time="1795000000000")


# --- properties ---------------------------------------------------------------------------------


def _size_padding(units: int) -> dict[str, Any]:
    """``{"k": "..."}`` serialised to exactly ``units`` UTF-16 units."""
    return {"k": "x" * (units - len('{"k":""}'))}


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({f"k{i}": i for i in range(200)}, None),
        ({f"k{i}": i for i in range(201)}, "too_many_keys"),
        ({"outer": {f"k{i}": i for i in range(201)}}, "too_many_keys"),
        (nested(5), None),
        (nested(6), "too_deep"),
        ({"list": [nested(4)]}, None),
        ({"list": [nested(5)]}, "too_deep"),
        ({"items": list(range(250))}, None),
        ({"items": list(range(251))}, "array_too_long"),
        ({"deep": {"items": [[0] * 251]}}, "array_too_long"),
        (_size_padding(MAX_UTF16_UNITS - 1), None),
        (_size_padding(MAX_UTF16_UNITS), "too_large"),
        ({"k": "😀" * ((MAX_UTF16_UNITS - 8) // 2 - 1)}, None),
        ({"k": "😀" * ((MAX_UTF16_UNITS - 8) // 2)}, "too_large"),
        ({"": 1}, "empty_key"),
        ({"  ": 1}, "empty_key"),
        ({"x": float("nan")}, "not_json"),
        ({"x": {1, 2}}, "not_json"),
        ({"x": b"bytes"}, "not_json"),
    ],
)
def test_event_properties_limits(properties: dict[str, Any], code: str | None) -> None:
    # Given eventProperties at or just over one of Ours's limits
    if code is None:
        # Then at the limit they are accepted, and the local Ours agrees
        event = build(email=EMAIL, eventProperties=properties)
        assert validate_track(track_body(event, TOKEN), now_ms=NOW) == []
    else:
        # Then over it they are refused with the rule's code
        rules = rules_of(email=EMAIL, eventProperties=properties)
        assert rules == [("eventProperties", code)]


@pytest.mark.parametrize("key", ["custom_properties", "consent"])
def test_user_property_objects_have_the_same_limits(key: str) -> None:
    assert build(email=EMAIL, userProperties={key: nested(5)})
    assert rules_of(email=EMAIL, userProperties={key: nested(6)}) == [(f"userProperties.{key}", "too_deep")]
    assert rules_of(email=EMAIL, userProperties={key: {f"k{i}": 1 for i in range(201)}}) == [
        (f"userProperties.{key}", "too_many_keys")
    ]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), {1, 2}, b"x"])
@pytest.mark.parametrize("key", ["phone_number", "zip", "is_bot"])
def test_any_json_user_properties_refuse_what_json_cannot_carry(key: str, value: Any) -> None:
    # Given a value JSON cannot carry (it would be sent as null, or silently coerced)
    # When it is built
    rules = rules_of(email=EMAIL, userProperties={key: value})
    # Then it is refused
    assert rules == [(f"userProperties.{key}", "not_json")]


@pytest.mark.parametrize("key", ["duration", "screen_width"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), "12", True])
def test_default_property_numbers_are_finite_numbers(key: str, value: Any) -> None:
    assert rules_of(email=EMAIL, defaultProperties={key: value})


# --- known keys only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "where", "code"),
    [
        ({"token": "t"}, "token", "extra_forbidden"),
        ({"properties": {}}, "properties", "extra_forbidden"),
        ({"anonymousId": "a"}, "anonymousId", "extra_forbidden"),
        ({"userProperties": {"favourite_colour": "blue"}}, "userProperties.favourite_colour", "extra_forbidden"),
        ({"defaultProperties": {"colour": "blue"}}, "defaultProperties.colour", "extra_forbidden"),
        ({"defaultProperties": {"received_at": "2025-01-01"}}, "defaultProperties", "received_at"),
        ({"identityContext": {"ip": "203.0.113.7"}}, "identityContext.userAgent", "missing"),
        ({"identityContext": {"userAgent": "Mozilla/5.0"}}, "identityContext.ip", "missing"),
        ({"identityContext": {"ip": "203.0.113.7", "userAgent": "UA", "x": 1}}, "identityContext.x", "extra_forbidden"),
    ],
)
def test_only_documented_keys_are_sent(fields: dict[str, Any], where: str, code: str) -> None:
    assert (where, code) in rules_of(email=EMAIL, **fields)


def test_identity_context_accepts_both_spellings_and_sends_ours_names() -> None:
    event = build(email=EMAIL, identity_context={"ip": "203.0.113.7", "user_agent": "UA"})
    assert event.to_ours()["identityContext"] == {"ip": "203.0.113.7", "userAgent": "UA"}


# --- serialisation ------------------------------------------------------------------------------


def test_serialises_to_ours_names_and_omits_unset_fields() -> None:
    # Given an event built with Python names
    event = TrackEvent.build(
        now_ms=NOW,
        event=" Order Completed ",
        user_id="u_1",
        external_id="cus_1",
        email=EMAIL,
        distinct_id="stripe:evt_1",
        time=NOW - 1000,
        event_properties={"amount": 12.5, "currency": "usd", "note": None},
        user_properties={"first_name": "Jane", "phone_number": PHONE, "custom_properties": {"plan": "pro"}},
        default_properties={"current_url": "https://example.com/checkout", "fv": True, "duration": 3},
        identity_context={"ip": "203.0.113.7", "userAgent": "UA"},
    )
    # When it is turned into a /track body
    body = track_body(event, TOKEN)
    # Then it has Ours's field names, trimmed values, and nothing unknown
    assert body == {
        "token": TOKEN,
        "event": "Order Completed",
        "userId": "u_1",
        "externalId": "cus_1",
        "email": EMAIL,
        "distinctId": "stripe:evt_1",
        "time": NOW - 1000,
        "eventProperties": {"amount": 12.5, "currency": "usd"},
        "userProperties": {"first_name": "Jane", "phone_number": PHONE, "custom_properties": {"plan": "pro"}},
        "defaultProperties": {"current_url": "https://example.com/checkout", "fv": True, "duration": 3},
        "identityContext": {"ip": "203.0.113.7", "userAgent": "UA"},
    }
    # And the local Ours accepts it
    assert validate_track(body, now_ms=NOW) == []


def test_the_event_is_immutable() -> None:
    event = build(email=EMAIL)
    with pytest.raises(ValueError, match="frozen"):
        event.email = "other@example.com"  # type: ignore[misc]


# --- no personal data in errors ----------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"email": EMAIL, "userId": 42},
        {"email": EMAIL + "x" * 1000},
        {"email": EMAIL, "userProperties": {"first_name": "Janet", "favourite": "Janet"}},
        {"email": EMAIL, "userProperties": {"phone_number": [PHONE] * 251}},
        {"email": EMAIL, "eventProperties": {"note": "Janet " * 10, "bad": float("nan")}},
        {"email": EMAIL, "identityContext": {"ip": "203.0.113.7"}},
        {"userProperties": {"first_name": "Janet"}},
        {"email": EMAIL, "time": NOW + 5},
    ],
)
def test_errors_never_contain_the_values(fields: dict[str, Any]) -> None:
    # Given an invalid event holding personal data
    with pytest.raises(InvalidTrackEvent) as caught:
        build(**fields)
    # Then neither the message nor the rules repeat any of it
    shown = f"{caught.value} {caught.value.rules!r} {caught.value.message}"
    for secret in (EMAIL, "jane", "Janet", PHONE, "203.0.113.7", str(NOW + 5)):
        assert secret.lower() not in shown.lower()


# --- property: what the model accepts, Ours accepts ---------------------------------------------

_text = st.text(min_size=1, max_size=24).filter(lambda s: s.strip() != "")
_keys = st.text(min_size=1, max_size=8).filter(lambda s: s.strip() != "")
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats()  # NaN and infinities included: the model must refuse what JSON cannot carry
    | st.text(max_size=16)
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=12,
)
_numbers = st.integers(min_value=0, max_value=10**9) | st.floats(min_value=0) | st.just(float("nan"))


@st.composite
def track_fields(draw: st.DrawFn) -> dict[str, Any]:
    fields: dict[str, Any] = {"event": draw(_text)}
    for name in ("userId", "externalId", "email", "distinctId"):
        if draw(st.booleans()):
            fields[name] = draw(_text)
    if draw(st.booleans()):
        fields["time"] = draw(st.integers(min_value=NOW - WINDOW_MS, max_value=NOW) | st.just(float(NOW - 1)))
    if draw(st.booleans()):
        fields["eventProperties"] = draw(st.dictionaries(_keys, _json, max_size=5))
    if draw(st.booleans()):
        user: dict[str, Any] = {}
        for key in draw(
            st.sets(st.sampled_from(["first_name", "city", "gclid", "utm_source", "email", "external_id"]))
        ):
            user[key] = draw(_text)
        for key in draw(st.sets(st.sampled_from(["phone_number", "zip", "is_bot"]))):
            user[key] = draw(_json)
        if draw(st.booleans()):
            user["custom_properties"] = draw(st.dictionaries(_keys, _json, max_size=4))
        fields["userProperties"] = user
    if draw(st.booleans()):
        default: dict[str, Any] = {}
        for key in draw(st.sets(st.sampled_from(["current_url", "title", "referring_domain", "utm_campaign"]))):
            default[key] = draw(_text)
        for key in draw(st.sets(st.sampled_from(["duration", "screen_width", "sessionCount"]))):
            default[key] = draw(_numbers)
        for key in draw(st.sets(st.sampled_from(["fv", "new_s"]))):
            default[key] = draw(st.booleans())
        fields["defaultProperties"] = default
    if draw(st.booleans()):
        fields["identityContext"] = {"ip": draw(_text), "userAgent": draw(_text)}
    erasable = {"externalId": "external_id", "distinctId": "distinct_id", "time": "time"}
    unset = sorted(python for alias, python in erasable.items() if alias not in fields)
    fields["erase"] = draw(st.sets(st.sampled_from(unset))) if unset else set()
    return fields


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(track_fields(), st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != ""))
def test_every_valid_event_is_accepted_by_the_local_ours(fields: dict[str, Any], token: str) -> None:
    # Given any event the model accepts
    try:
        event = TrackEvent.build(now_ms=NOW, **fields)
    except InvalidTrackEvent:
        return
    # When it is sent with any well-formed token, as strict JSON (the client's encoding)
    wire = json.dumps(track_body(event, token), ensure_ascii=False, allow_nan=False).encode("utf-8")
    body = parse_json(wire)
    # Then the contract's independent validator has nothing to object to
    assert check_token(body["token"]) is not None
    assert validate_track(body, now_ms=NOW) == []


PLAIN = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=12), PLAIN, max_size=12))
def test_the_fast_path_for_plain_properties_decides_as_the_full_walk(properties: dict[str, Any]) -> None:
    # Given a flat object of plain values (what most mappers send: the fast path)
    from webhook_translator.ours import limits

    def walked() -> dict[str, Any] | str:
        problems: list[str] = []
        cleaned, bound = limits._check_tree(properties, depth=1, problems=problems)
        if not problems:  # the walk's bound never undercounts either
            assert bound >= limits.utf16_units(json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")))
        return problems[0] if problems else cleaned

    # When it is checked / Then the outcome is the full walk's, and the size bound never undercounts
    try:
        outcome: dict[str, Any] | str = limits.check_properties(properties)
    except limits.RuleBroken as exc:  # carries the rule's code
        outcome = exc.code
    assert outcome == walked()
    bound = limits._plain_units(properties)
    if bound is not None:
        text = json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
        assert bound >= limits.utf16_units(text)


def test_the_body_is_a_copy_the_caller_may_change() -> None:
    # Given an event with nested properties
    event = build(
        email=EMAIL, eventProperties={"a": 1, "l": [{"x": 1}]}, userProperties={"custom_properties": {"p": 1}}
    )
    # When a caller changes the body it was given
    body = event.to_ours()
    body["eventProperties"]["z"] = 1
    body["eventProperties"]["l"][0]["y"] = 2
    body["userProperties"]["custom_properties"]["q"] = 2
    # Then the event, and every body built from it later, is as it was built
    assert event.to_ours() == {
        "event": "Order Completed",
        "email": EMAIL,
        "eventProperties": {"a": 1, "l": [{"x": 1}]},
        "userProperties": {"custom_properties": {"p": 1}},
    }
