"""The local Ours: its contract validator, its HTTP answers, its faults and its control endpoints."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from webhook_translator_tools.local.ours_server import Fault, LocalOurs, validate_identify, validate_track

NOW_S = 1_795_000_000.0
NOW = int(NOW_S * 1000)
DAY = 24 * 3600 * 1000
TOKEN = "local-test-token-0001"
EMAIL = "jane.doe@example.com"


def body(**fields: Any) -> dict[str, Any]:
    return {"token": TOKEN, "event": "Order Completed", "email": EMAIL, **fields}


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels - 1):
        value = {"k": value}
    return value


@pytest.fixture
def ours() -> Iterator[LocalOurs]:
    with LocalOurs(tokens={TOKEN}, clock=lambda: NOW_S) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def post(http: requests.Session, ours: LocalOurs, path: str, payload: Any, **kwargs: Any) -> requests.Response:
    return http.post(f"{ours.url}{path}", json=payload, timeout=5, **kwargs)


def control(ours: LocalOurs) -> str:
    return f"http://127.0.0.1:{ours.port}/_control"


# --- the validator --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"userId": "u_1", "email": None},
        {"email": None, "userProperties": {"phone_number": 14155550100}},
        {"userId": None, "externalId": None, "distinctId": "stripe:evt_1"},
        {"time": NOW},
        {"time": NOW - 7 * DAY},
        {"time": float(NOW - 1)},
        {"event": " " + "e" * 1000 + " "},
        {"userId": "u" * 400, "externalId": "x" * 400, "distinctId": "d" * 400},
        {"email": "e" * 1000},
        {"eventProperties": {f"k{i}": {"n": [1, {"a": None}]} for i in range(200)}},
        {"eventProperties": nested(5)},
        {"eventProperties": {"a": list(range(250))}},
        {"eventProperties": None, "userProperties": None, "defaultProperties": None, "identityContext": None},
        {"userProperties": {"first_name": "Jane", "custom_properties": nested(5), "consent": {"ads": True}}},
        {"userProperties": {"zip": 2139, "is_bot": False, "utm_source": "x", "gclid": "g"}},
        {"defaultProperties": {"duration": 1.5, "fv": True, "current_url": "https://x", "utm_anything": "y"}},
        {"identityContext": {"ip": "203.0.113.7", "userAgent": "Mozilla/5.0"}},
    ],
)
def test_validator_accepts_what_the_contract_allows(fields: dict[str, Any]) -> None:
    assert validate_track(body(**fields), now_ms=NOW) == []


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"properties": {}}, "unknown top-level key"),
        ({"event": None}, "event: required"),
        ({"event": "   "}, "event: must not be empty"),
        ({"event": "e" * 1001}, "event: must be at most 1000"),
        ({"event": "😀" * 501}, "event: must be at most 1000"),
        ({"userId": "u" * 401}, "userId: must be at most 400"),
        ({"userId": 42}, "userId: must be a string"),
        ({"externalId": ""}, "externalId: must not be empty"),
        ({"distinctId": "d" * 401}, "distinctId: must be at most 400"),
        ({"email": "e" * 1001}, "email: must be at most 1000"),
        ({"time": NOW + 1}, "time: must be in the past"),
        ({"time": NOW - 7 * DAY - 1}, "time: must be within the last 7 days"),
        ({"time": NOW_S}, "time: must be milliseconds"),
        ({"time": str(NOW)}, "time: must be a number"),
        ({"time": True}, "time: must be a number"),
        ({"eventProperties": {f"k{i}": i for i in range(201)}}, "more than 200 keys"),
        ({"eventProperties": nested(6)}, "deeper than 5 object levels"),
        ({"eventProperties": {"a": [nested(5)]}}, "deeper than 5 object levels"),
        ({"eventProperties": {"a": list(range(251))}}, "array longer than 250"),
        ({"eventProperties": {"k": "x" * 1_048_568}}, "serialised size"),
        ({"eventProperties": {"": 1}}, "empty key"),
        ({"eventProperties": [1]}, "eventProperties: must be an object"),
        ({"userProperties": {"favourite_colour": "blue"}}, "userProperties: unknown key"),
        ({"userProperties": {"first_name": 7}}, "userProperties.first_name: must be a string"),
        ({"userProperties": {"external_id": "x" * 401}}, "userProperties.external_id: must be at most 400"),
        ({"userProperties": {"custom_properties": nested(6)}}, "deeper than 5"),
        ({"defaultProperties": {"received_at": "2025-01-01T00:00:00Z"}}, "received_at: set by Ours"),
        ({"defaultProperties": {"duration": "12"}}, "defaultProperties.duration: must be a number"),
        ({"defaultProperties": {"fv": "yes"}}, "defaultProperties.fv: must be a boolean"),
        ({"defaultProperties": {"title": 3}}, "defaultProperties.title: must be a string"),
        ({"identityContext": {"ip": "203.0.113.7"}}, "identityContext.userAgent: required"),
        ({"identityContext": {"ip": "1.2.3.4", "userAgent": "UA", "x": 1}}, "identityContext: unknown key"),
        ({"email": None}, "identity: one of"),
        ({"email": "  ", "userProperties": {"phone_number": " "}}, "identity: one of"),
    ],
)
def test_validator_names_each_broken_rule(fields: dict[str, Any], problem: str) -> None:
    problems = validate_track(body(**fields), now_ms=NOW)
    assert any(problem in p for p in problems), problems


def test_validator_problems_never_repeat_values() -> None:
    problems = validate_track(body(userId=12345, email="x" * 1001 + EMAIL, time=NOW + 99), now_ms=NOW)
    assert problems
    assert not any(EMAIL in p or "12345" in p or str(NOW + 99) in p for p in problems)


@pytest.mark.parametrize(
    ("payload", "ok"),
    [
        ({"token": TOKEN, "userProperties": {"email": EMAIL}, "userId": "u_1"}, True),
        ({"token": TOKEN, "userProperties": {"phone_number": "+14155550100"}}, True),
        ({"token": TOKEN, "userId": "u_1"}, False),
        ({"token": TOKEN, "userId": "u_1", "userProperties": {}, "event": "x"}, False),
    ],
)
def test_identify_needs_user_properties_and_an_identity(payload: dict[str, Any], ok: bool) -> None:
    assert (validate_identify(payload) == []) is ok


# --- HTTP: /track ---------------------------------------------------------------------------


def test_an_accepted_event_is_recorded_without_its_token(ours: LocalOurs, http: requests.Session) -> None:
    # Given a valid /track call
    response = post(http, ours, "/track", body(distinctId="stripe:evt_1", time=NOW - 1000))
    # Then Ours's success answer comes back
    assert (response.status_code, response.json()) == (200, {"success": True})
    # And the event is recorded once, without the token
    assert ours.accepted == [
        {"event": "Order Completed", "email": EMAIL, "distinctId": "stripe:evt_1", "time": NOW - 1000}
    ]
    assert ours.deliveries("stripe:evt_1") == 1
    assert ours.deliveries("stripe:evt_2") == 0
    assert [(r.path, r.status) for r in ours.requests] == [("/track", 200)]
    assert "token" not in ours.requests[0].body


def test_the_same_distinct_id_accepted_twice_is_counted_twice(ours: LocalOurs, http: requests.Session) -> None:
    for _ in range(2):
        post(http, ours, "/track", body(distinctId="stripe:evt_1"))
    assert ours.deliveries("stripe:evt_1") == 2


@pytest.mark.parametrize(
    "token",
    [None, "", "   ", 42, "wrong-token", "t" * 251],
)
def test_a_missing_malformed_or_unknown_token_is_401(ours: LocalOurs, http: requests.Session, token: Any) -> None:
    payload = body()
    if token is None:
        del payload["token"]
    else:
        payload["token"] = token
    response = post(http, ours, "/track", payload)
    assert (response.status_code, response.json()) == (401, {"success": False, "error": "invalid token"})
    assert ours.accepted == []


def test_the_token_is_trimmed_before_it_is_checked(ours: LocalOurs, http: requests.Session) -> None:
    assert post(http, ours, "/track", body(token=f"  {TOKEN}\n")).status_code == 200


def test_without_a_token_set_any_well_formed_token_is_accepted(http: requests.Session) -> None:
    with LocalOurs() as ours:
        assert post(http, ours, "/track", body(token="anything")).status_code == 200
        assert post(http, ours, "/track", body(token="t" * 251)).status_code == 401


def test_a_payload_error_is_400_with_the_rule(ours: LocalOurs, http: requests.Session) -> None:
    response = post(http, ours, "/track", body(email=None))
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert "identity" in response.json()["error"]
    assert ours.accepted == []


def test_the_seven_day_window_follows_the_servers_clock(http: requests.Session) -> None:
    # Given a local Ours whose clock is a week after the event
    clock = [NOW_S]
    with LocalOurs(tokens={TOKEN}, clock=lambda: clock[0]) as ours:
        assert post(http, ours, "/track", body(time=NOW)).status_code == 200
        clock[0] = NOW_S + 7 * 24 * 3600 + 1
        # Then the same event is now too old
        assert post(http, ours, "/track", body(time=NOW)).status_code == 400


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"token": "t", "time": NaN}', "application/json", 400),
        (b"\xff\xfe", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (json.dumps(body()).encode(), "text/plain", 415),
        (json.dumps(body()).encode(), "application/x-www-form-urlencoded", 415),
        (json.dumps(body()).encode(), "application/json; charset=utf-8", 200),
    ],
)
def test_body_and_content_type(
    ours: LocalOurs, http: requests.Session, data: bytes, content_type: str, status: int
) -> None:
    response = http.post(f"{ours.url}/track", data=data, headers={"Content-Type": content_type}, timeout=5)
    assert response.status_code == status
    assert response.json()["success"] is (status == 200)


def test_a_body_over_the_limit_is_413(http: requests.Session) -> None:
    with LocalOurs(tokens={TOKEN}, max_body_bytes=2048) as ours:
        response = post(http, ours, "/track", body(eventProperties={"k": "x" * 4096}))
        assert response.status_code == 413
        # and the server still answers afterwards
        assert post(http, ours, "/track", body()).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/api/v1/track", 405), ("POST", "/api/v1/nope", 404), ("POST", "/track", 404), ("GET", "/", 404)],
)
def test_unknown_paths_and_methods(
    ours: LocalOurs, http: requests.Session, method: str, path: str, status: int
) -> None:
    response = http.request(method, f"http://127.0.0.1:{ours.port}{path}", json=body(), timeout=5)
    assert response.status_code == status


def test_identify(ours: LocalOurs, http: requests.Session) -> None:
    ok = post(http, ours, "/identify", {"token": TOKEN, "email": EMAIL, "userProperties": {"first_name": "Jane"}})
    bad = post(http, ours, "/identify", {"token": TOKEN, "email": EMAIL})
    assert (ok.status_code, bad.status_code) == (200, 400)
    assert ours.identified == [{"email": EMAIL, "userProperties": {"first_name": "Jane"}}]
    assert ours.accepted == []


# --- HTTP: /batch ---------------------------------------------------------------------------


def row(n: int, **fields: Any) -> dict[str, Any]:
    return {"event": "Order Completed", "email": EMAIL, "distinctId": f"stripe:evt_{n}", **fields}


def test_a_batch_of_valid_rows_is_200(ours: LocalOurs, http: requests.Session) -> None:
    response = post(http, ours, "/batch", {"token": TOKEN, "events": [row(1), row(2)]})
    assert response.status_code == 200
    assert response.json() == {"success": True, "accepted": 2, "failed": 0, "results": []}
    assert [e["distinctId"] for e in ours.accepted] == ["stripe:evt_1", "stripe:evt_2"]


def test_a_batch_with_invalid_rows_is_207_with_per_row_results(ours: LocalOurs, http: requests.Session) -> None:
    # Given a batch whose second row has no distinctId and third row no identity
    events = [row(1), {"event": "x", "email": EMAIL}, row(3, email=None), row(4, token=TOKEN)]
    # When it is posted
    response = post(http, ours, "/batch", {"token": TOKEN, "events": events})
    # Then the good row is accepted and each bad one is reported by index
    assert response.status_code == 207
    answer = response.json()
    assert (answer["success"], answer["accepted"], answer["failed"]) == (False, 1, 3)
    assert [(r["index"], r["code"]) for r in answer["results"]] == [
        (1, "invalid_event"),
        (2, "invalid_event"),
        (3, "invalid_event"),
    ]
    assert "distinctId: required" in answer["results"][0]["message"]
    assert ours.deliveries("stripe:evt_1") == 1


def test_a_batch_over_the_row_limit_is_413_with_the_limit(http: requests.Session) -> None:
    with LocalOurs(tokens={TOKEN}, max_batch_rows=2) as ours:
        response = post(http, ours, "/batch", {"token": TOKEN, "events": [row(1), row(2), row(3)]})
        assert response.status_code == 413
        assert response.json()["limit"] == 2
        assert ours.accepted == []


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"token": TOKEN, "events": []}, 400),
        ({"token": TOKEN, "events": {"0": row(1)}}, 400),
        ({"token": TOKEN, "events": [row(1)], "extra": 1}, 400),
        ({"token": "nope", "events": [row(1)]}, 401),
    ],
)
def test_a_malformed_batch_request(ours: LocalOurs, http: requests.Session, payload: Any, status: int) -> None:
    assert post(http, ours, "/batch", payload).status_code == status
    assert ours.accepted == []


# --- faults ---------------------------------------------------------------------------------


def test_a_status_fault_answers_like_ours_with_retry_after(ours: LocalOurs, http: requests.Session) -> None:
    # Given a 429 fault for the next call only
    ours.inject(Fault("status", status=429, retry_after="7", times=1, error="slow down"))
    # When two calls are made
    first = post(http, ours, "/track", body(distinctId="d1"))
    second = post(http, ours, "/track", body(distinctId="d1"))
    # Then the first gets the fault, the second is accepted
    assert (first.status_code, first.headers["Retry-After"], first.json()) == (
        429,
        "7",
        {"success": False, "error": "slow down"},
    )
    assert second.status_code == 200
    assert ours.deliveries("d1") == 1
    assert ours.faults == []


def test_a_fault_can_target_one_distinct_id_or_event(ours: LocalOurs, http: requests.Session) -> None:
    ours.inject(Fault("status", status=503, distinct_id="d2"))
    ours.inject(Fault("status", status=500, event="Refund"))
    statuses = [
        post(http, ours, "/track", body(distinctId="d1")).status_code,
        post(http, ours, "/track", body(distinctId="d2")).status_code,
        post(http, ours, "/track", body(distinctId="d3", event="Refund")).status_code,
    ]
    assert statuses == [200, 503, 500]
    ours.clear_faults()
    assert post(http, ours, "/track", body(distinctId="d2")).status_code == 200


def test_a_slow_fault_answers_late_but_normally(ours: LocalOurs, http: requests.Session) -> None:
    ours.inject(Fault("slow", delay=0.3, times=1))
    started = time.monotonic()
    response = post(http, ours, "/track", body(distinctId="d1"))
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3
    assert ours.deliveries("d1") == 1


def test_a_drop_fault_hangs_up_without_answering(ours: LocalOurs, http: requests.Session) -> None:
    ours.inject(Fault("drop", times=1))
    with pytest.raises(requests.ConnectionError):
        post(http, ours, "/track", body(distinctId="d1"))
    assert ours.accepted == []
    assert [(r.path, r.status) for r in ours.requests] == [("/track", 0)]
    assert post(http, ours, "/track", body(distinctId="d1")).status_code == 200


def test_targeted_status_faults_fail_single_batch_rows(ours: LocalOurs, http: requests.Session) -> None:
    # Given a queue failure for one distinctId and a 500 for another
    ours.inject(Fault("status", status=503, distinct_id="stripe:evt_2", retry_after="3"))
    # When a batch holding it is posted
    response = post(http, ours, "/batch", {"token": TOKEN, "events": [row(1), row(2), row(3)]})
    # Then Ours reports the failed row and accepts the others (a 5xx with results)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "3"
    answer = response.json()
    assert (answer["accepted"], answer["failed"]) == (2, 1)
    assert answer["results"] == [{"index": 1, "success": False, "code": "queue_failed", "message": "injected fault"}]
    # And a 4xx-class row fault is an invalid_event in a 207
    ours.clear_faults()
    ours.inject(Fault("status", status=422, distinct_id="stripe:evt_3"))
    response = post(http, ours, "/batch", {"token": TOKEN, "events": [row(3), row(4)]})
    assert response.status_code == 207
    assert response.json()["results"][0]["code"] == "invalid_event"


def test_stop_is_prompt_even_with_a_slow_call_in_flight() -> None:
    # Given a call stuck in a long "slow" fault
    ours = LocalOurs(tokens={TOKEN}).start()
    ours.inject(Fault("slow", delay=30))
    caller = threading.Thread(target=lambda: requests.post(f"{ours.url}/track", json=body(), timeout=10), daemon=True)
    caller.start()
    time.sleep(0.2)  # let the call arrive (the assertion holds either way)
    # When the server is stopped
    started = time.monotonic()
    ours.stop()
    # Then it does not wait for the slow call
    assert time.monotonic() - started < 5
    caller.join(timeout=5)


# --- control endpoints ------------------------------------------------------------------------


def test_control_endpoints_drive_the_server_over_http(ours: LocalOurs, http: requests.Session) -> None:
    base = control(ours)
    assert http.get(f"{base}/health", timeout=5).json() == {"ok": True}
    # Given a fault added over HTTP
    added = http.post(f"{base}/faults", json={"kind": "status", "status": 502, "times": 1}, timeout=5)
    assert added.status_code == 201
    assert http.get(f"{base}/faults", timeout=5).json()[0]["status"] == 502
    # Then the next call gets it, and the one after is accepted
    assert post(http, ours, "/track", body(distinctId="d1")).status_code == 502
    assert post(http, ours, "/track", body(distinctId="d1")).status_code == 200
    # And what was accepted can be read back
    assert http.get(f"{base}/accepted", timeout=5).json() == [
        {"event": "Order Completed", "email": EMAIL, "distinctId": "d1"}
    ]
    assert http.get(f"{base}/deliveries", timeout=5).json() == {"d1": 1}
    assert [r["status"] for r in http.get(f"{base}/requests", timeout=5).json()] == [502, 200]
    # And cleared
    http.post(f"{base}/faults", json={"kind": "drop"}, timeout=5)
    assert http.delete(f"{base}/faults", timeout=5).status_code == 200
    assert ours.faults == []
    assert http.delete(f"{base}/accepted", timeout=5).status_code == 200
    assert ours.accepted == []
    assert ours.requests == []
    assert ours.deliveries("d1") == 0


@pytest.mark.parametrize(
    "fault",
    [
        {"status": 503},
        {"kind": "explode"},
        {"kind": "status", "status": 99},
        {"kind": "slow", "delay": -1},
        {"kind": "status", "colour": "red"},
        {"kind": "status", "times": "twice"},
        ["status"],
    ],
)
def test_a_bad_fault_is_refused(ours: LocalOurs, http: requests.Session, fault: Any) -> None:
    response = http.post(f"{control(ours)}/faults", json=fault, timeout=5)
    assert response.status_code == 400
    assert ours.faults == []


@pytest.mark.parametrize(("method", "path", "status"), [("GET", "/nope", 404), ("PUT", "/faults", 405)])
def test_unknown_control_routes(ours: LocalOurs, http: requests.Session, method: str, path: str, status: int) -> None:
    assert http.request(method, f"{control(ours)}{path}", timeout=5).status_code == status


def test_echo_prints_one_line_per_call_without_personal_data() -> None:
    # Given a local Ours that echoes
    lines: list[str] = []
    with LocalOurs(tokens={TOKEN}, clock=lambda: NOW_S, echo=lines.append) as ours, requests.Session() as http:
        # When three calls are made
        post(http, ours, "/track", body(distinctId="stripe:evt_1", userProperties={"first_name": "Jane"}))
        post(http, ours, "/track", body(token="wrong-token-123456"))
        post(http, ours, "/batch", {"token": TOKEN, "events": [row(1)]})
    # Then there is one line each: event, distinctId, status; no email, no name, no full token
    assert len(lines) == 3
    assert '/track 200 event="Order Completed" distinctId="stripe:evt_1"' in lines[0]
    assert "401" in lines[1]
    assert "/batch 200 rows=1" in lines[2]
    for line in lines:
        assert EMAIL not in line
        assert "Jane" not in line
        assert TOKEN not in line
        assert "wrong-token-123456" not in line


def test_url_and_port(ours: LocalOurs) -> None:
    assert ours.url == f"http://127.0.0.1:{ours.port}/api/v1"
    assert ours.port > 0
