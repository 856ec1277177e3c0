"""OursClient against the local Ours over loopback: every answer Ours can give, and what the client makes of it.

No HTTP mocking: the client's real session talks to a real server that checks the contract.
"""

from __future__ import annotations

import json
import logging
import random
import socket
from collections.abc import Iterator
from email.utils import formatdate
from typing import Any

import boto3
import pytest
from moto import mock_aws

from webhook_translator.errors import PermanentDeliveryError, RetryableDeliveryError
from webhook_translator.ours.client import DELIVERED, MAX_RETRY_AFTER, OursClient, default_session
from webhook_translator.ours.models import InvalidTrackEvent, TrackEvent
from webhook_translator.secrets import SecretStore
from webhook_translator_tools.local.ours_server import Fault, LocalOurs

EMAIL = "jane.doe@example.com"
NOW_S = 1_795_000_000.0


class FakeTokens:
    """A TokenSource that hands out a sequence of tokens (the last one repeats) and records every read."""

    def __init__(self, *tokens: str) -> None:
        self.tokens = list(tokens)
        self.reads: list[tuple[str, bool]] = []

    def ours_token(self, source: str, *, force: bool = False) -> str:
        self.reads.append((source, force))
        return self.tokens.pop(0) if len(self.tokens) > 1 else self.tokens[0]

    @property
    def forced(self) -> int:
        return sum(1 for _, force in self.reads if force)


def event(n: int = 1, **fields: Any) -> TrackEvent:
    return TrackEvent.build(event="Order Completed", email=EMAIL, distinct_id=f"stripe:evt_{n}", **fields)


@pytest.fixture
def tokens(ours_token: str) -> FakeTokens:
    return FakeTokens(ours_token)


@pytest.fixture
def client(local_ours: LocalOurs, tokens: FakeTokens) -> Iterator[OursClient]:
    with OursClient(
        local_ours.url, tokens, connect_timeout=1.0, read_timeout=0.3, rng=random.Random(7), clock=lambda: NOW_S
    ) as ours_client:
        yield ours_client


# --- /track -----------------------------------------------------------------------------------


def test_an_event_is_delivered_once(client: OursClient, local_ours: LocalOurs, ours_token: str) -> None:
    # Given a valid event
    # When it is tracked
    client.track(event(1, user_properties={"first_name": "Jane"}), source="stripe")
    # Then Ours accepted exactly that body, once
    assert local_ours.accepted == [
        {
            "event": "Order Completed",
            "email": EMAIL,
            "distinctId": "stripe:evt_1",
            "userProperties": {"first_name": "Jane"},
        }
    ]
    assert local_ours.deliveries("stripe:evt_1") == 1


@pytest.mark.parametrize("status", [400, 404, 413, 415, 422, 418])
def test_payload_errors_are_permanent_with_ours_text(
    client: OursClient, local_ours: LocalOurs, ours_token: str, status: int
) -> None:
    # Given Ours refusing the payload, with an error text that quotes personal data and the token
    local_ours.inject(Fault("status", status=status, error=f"field email invalid: {EMAIL} (token {ours_token})"))
    # When the event is tracked
    with pytest.raises(PermanentDeliveryError) as caught:
        client.track(event(), source="stripe")
    # Then it is a permanent rejection carrying Ours's text, redacted
    error = caught.value
    assert (error.reason, error.status) == ("ours_rejected", status)
    assert "field email invalid" in error.message
    assert EMAIL not in error.message
    assert ours_token not in error.message


def test_a_real_contract_violation_comes_back_with_ours_text(client: OursClient, local_ours: LocalOurs) -> None:
    # Given an event whose time was valid by the mapper's clock but is stale by Ours's
    stale = TrackEvent.build(now_ms=int(NOW_S * 1000), event="Order Completed", email=EMAIL, time=NOW_S * 1000 - 1)
    # When it is tracked
    with pytest.raises(PermanentDeliveryError) as caught:
        client.track(stale, source="stripe")
    # Then the local Ours's own error text explains it
    assert caught.value.status == 400
    assert "time: must be within the last 7 days" in caught.value.message
    assert local_ours.accepted == []


def test_a_long_error_text_is_cut(client: OursClient, local_ours: LocalOurs) -> None:
    local_ours.inject(Fault("status", status=400, error="bad " * 500))
    with pytest.raises(PermanentDeliveryError) as caught:
        client.track(event(), source="stripe")
    assert len(caught.value.message) < 260


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (408, "ours_unavailable"),
        (409, "ours_unavailable"),
        (429, "rate_limited"),
        (500, "ours_unavailable"),
        (502, "ours_unavailable"),
        (503, "ours_unavailable"),
        (504, "ours_unavailable"),
    ],
)
def test_transient_statuses_are_retryable_with_backoff(
    client: OursClient, local_ours: LocalOurs, status: int, reason: str
) -> None:
    # Given Ours answering a transient status without Retry-After
    local_ours.inject(Fault("status", status=status, times=1))
    # When the first attempt is made
    with pytest.raises(RetryableDeliveryError) as caught:
        client.track(event(), source="stripe", attempt=1)
    # Then the caller is told to retry after 2 s plus 1-5 s of jitter
    error = caught.value
    assert (error.reason, error.status) == (reason, status)
    assert 3.0 <= error.delay <= 7.0
    # And the retry, with the same distinctId, is delivered
    client.track(event(), source="stripe", attempt=2)
    assert local_ours.deliveries("stripe:evt_1") == 1


@pytest.mark.parametrize(
    ("retry_after", "delay"),
    [
        ("7", 7.0),
        ("0", 1.0),
        ("2.5", 2.5),
        (formatdate(NOW_S + 30, usegmt=True), 30.0),
        (formatdate(NOW_S - 30, usegmt=True), 1.0),
        ("999999", MAX_RETRY_AFTER),
        (formatdate(NOW_S + 100_000, usegmt=True), MAX_RETRY_AFTER),
    ],
)
def test_retry_after_is_honoured(client: OursClient, local_ours: LocalOurs, retry_after: str, delay: float) -> None:
    # Given Ours asking for a pause
    local_ours.inject(Fault("status", status=429, retry_after=retry_after))
    # When the call fails
    with pytest.raises(RetryableDeliveryError) as caught:
        client.track(event(), source="stripe", attempt=5)
    # Then the delay is Ours's plus up to 1 s of jitter, never under 1 s ("0" must not burn every retry), at most 12 h
    assert delay <= caught.value.delay <= min(delay + 1.0, MAX_RETRY_AFTER)


@pytest.mark.parametrize("retry_after", ["soon", "-5", "", "Mon, 99 Foo 2025"])
def test_an_unusable_retry_after_falls_back_to_backoff(client: OursClient, retry_after: str) -> None:
    assert 3.0 <= client.retry_delay(1, retry_after) <= 7.0


@pytest.mark.parametrize("attempt", [-1, 0, 1, 2, 3, 4, 5, 6, 7, 10, 100, 10_000])
def test_backoff_doubles_from_two_seconds_to_the_cap_plus_jitter(local_ours: LocalOurs, attempt: int) -> None:
    # Given a client with a 60 s cap
    client = OursClient(local_ours.url, FakeTokens("t"), max_delay=60)
    base = float(min(2 * 2 ** (max(attempt, 1) - 1), 60))
    # Then every delay is the doubled base plus 1-5 s of jitter
    delays = [client.retry_delay(attempt, None) for _ in range(50)]
    assert all(base + 1.0 <= d <= base + 5.0 for d in delays)
    assert len(set(delays)) > 1  # jittered


def test_the_cap_is_configurable(local_ours: LocalOurs) -> None:
    client = OursClient(local_ours.url, FakeTokens("t"), max_delay=10, rng=random.Random(1))
    assert 11.0 <= client.retry_delay(20, None) <= 15.0


def test_a_slow_answer_beyond_the_read_timeout_is_retryable(client: OursClient, local_ours: LocalOurs) -> None:
    # Given Ours taking longer than the client's read timeout (0.3 s)
    local_ours.inject(Fault("slow", delay=1.5, times=1))
    # When the event is tracked
    with pytest.raises(RetryableDeliveryError) as caught:
        client.track(event(), source="stripe")
    # Then it is a retryable "unavailable", not a hang
    assert caught.value.reason == "ours_unavailable"
    assert caught.value.status is None
    assert "ReadTimeout" in caught.value.message


def test_a_dropped_connection_is_retryable(client: OursClient, local_ours: LocalOurs) -> None:
    local_ours.inject(Fault("drop", times=1))
    with pytest.raises(RetryableDeliveryError) as caught:
        client.track(event(), source="stripe")
    assert caught.value.reason == "ours_unavailable"
    client.track(event(), source="stripe")
    assert local_ours.deliveries("stripe:evt_1") == 1


def test_a_refused_connection_is_retryable(ours_token: str) -> None:
    # Given a port nothing listens on
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = OursClient(f"http://127.0.0.1:{port}/api/v1", FakeTokens(ours_token), connect_timeout=0.5)
    # When the event is tracked
    with pytest.raises(RetryableDeliveryError) as caught:
        client.track(event(), source="stripe")
    # Then it is retryable
    assert caught.value.reason == "ours_unavailable"
    assert "ConnectionError" in caught.value.message


# --- tokens -----------------------------------------------------------------------------------


def test_a_401_rereads_the_token_once_and_delivers(local_ours: LocalOurs, ours_token: str) -> None:
    # Given a token source still holding the old token, whose next read has the rotated one
    tokens = FakeTokens("old-token-before-rotation", ours_token)
    client = OursClient(local_ours.url, tokens)
    # When the event is tracked
    client.track(event(), source="stripe")
    # Then the token was re-read once with force, and the event delivered
    assert tokens.reads == [("stripe", False), ("stripe", True)]
    assert [r.status for r in local_ours.requests] == [401, 200]
    assert local_ours.deliveries("stripe:evt_1") == 1


def test_a_401_with_a_rotated_secret_in_secrets_manager(aws_env: None, local_ours: LocalOurs, ours_token: str) -> None:
    with mock_aws():
        # Given the secret store has cached an old token, and the secret was rotated since
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secrets.create_secret(Name="wt", SecretString=json.dumps({"ours_token": "old-token-before-rotation"}))
        store = SecretStore("wt", client=secrets)
        assert store.ours_token("stripe") == "old-token-before-rotation"
        secrets.put_secret_value(SecretId="wt", SecretString=json.dumps({"ours_token": ours_token}))
        client = OursClient(local_ours.url, store)
        # When an event is tracked
        client.track(event(), source="stripe")
    # Then Ours's 401 made the client re-read the secret, and the retry was delivered
    assert [r.status for r in local_ours.requests] == [401, 200]
    assert local_ours.deliveries("stripe:evt_1") == 1


@pytest.mark.parametrize("status", [401, 403])
def test_refused_twice_is_a_permanent_auth_failure_after_one_reread(local_ours: LocalOurs, status: int) -> None:
    # Given Ours refusing the token even after a re-read
    tokens = FakeTokens("revoked-token-0001")
    if status == 403:
        local_ours.inject(Fault("status", status=403, error="forbidden"))
    client = OursClient(local_ours.url, tokens)
    # When the event is tracked
    with pytest.raises(PermanentDeliveryError) as caught:
        client.track(event(), source="stripe")
    # Then it fails as "auth", after exactly one forced re-read and two calls: no hot loop
    assert (caught.value.reason, caught.value.status) == ("auth", status)
    assert tokens.forced == 1
    assert len(local_ours.requests) == 2
    assert "revoked-token-0001" not in caught.value.message


@pytest.mark.parametrize("bad", ["   ", "t" * 251])
def test_a_malformed_token_is_reread_once_then_an_auth_failure(local_ours: LocalOurs, bad: str) -> None:
    tokens = FakeTokens(bad)
    with pytest.raises(PermanentDeliveryError) as caught:
        OursClient(local_ours.url, tokens).track(event(), source="stripe")
    assert caught.value.reason == "auth"
    assert tokens.forced == 1
    assert local_ours.requests == []


def test_a_malformed_token_fixed_by_the_reread_is_used(local_ours: LocalOurs, ours_token: str) -> None:
    tokens = FakeTokens("  ", ours_token)
    OursClient(local_ours.url, tokens).track(event(), source="stripe")
    assert local_ours.deliveries("stripe:evt_1") == 1


# --- /batch -----------------------------------------------------------------------------------


def test_a_batch_is_delivered(client: OursClient, local_ours: LocalOurs) -> None:
    result = client.batch([event(1), event(2), event(3)], source="stripe")
    assert result.all_delivered
    assert list(result) == [DELIVERED] * 3
    assert [r.path for r in local_ours.requests] == ["/batch"]
    assert [local_ours.deliveries(f"stripe:evt_{n}") for n in (1, 2, 3)] == [1, 1, 1]


def test_an_empty_batch_sends_nothing(client: OursClient, local_ours: LocalOurs) -> None:
    assert len(client.batch([], source="stripe")) == 0
    assert local_ours.requests == []


def test_every_batch_row_needs_a_distinct_id(client: OursClient, local_ours: LocalOurs) -> None:
    rows = [event(1), TrackEvent.build(event="Order Completed", email=EMAIL)]
    with pytest.raises(InvalidTrackEvent) as caught:
        client.batch(rows, source="stripe")
    assert caught.value.rules == [("events.1.distinctId", "missing")]
    assert local_ours.requests == []


def test_a_207_sorts_rows_into_delivered_permanent_and_retryable(client: OursClient, local_ours: LocalOurs) -> None:
    # Given Ours refusing row 2 as invalid and failing to queue row 3
    local_ours.inject(Fault("status", status=422, distinct_id="stripe:evt_2", error=f"bad email {EMAIL}"))
    local_ours.inject(Fault("status", status=429, distinct_id="stripe:evt_3"))
    # When the batch is sent
    result = client.batch([event(1), event(2), event(3)], source="stripe", attempt=1)
    # Then each row gets its own outcome
    assert local_ours.requests[0].status == 207
    assert result.delivered == [0]
    assert list(result.permanent) == [1]
    assert result.permanent[1].reason == "ours_rejected"
    assert "bad email" in result.permanent[1].message
    assert EMAIL not in result.permanent[1].message
    assert list(result.retryable) == [2]
    assert 3.0 <= result.retryable[2].delay <= 7.0


def test_a_500_with_results_retries_only_the_failed_rows(client: OursClient, local_ours: LocalOurs) -> None:
    local_ours.inject(Fault("status", status=500, distinct_id="stripe:evt_2"))
    result = client.batch([event(1), event(2), event(3)], source="stripe")
    assert local_ours.requests[0].status == 500
    assert result.delivered == [0, 2]
    assert list(result.retryable) == [1]


def test_a_500_without_results_retries_every_row(client: OursClient, local_ours: LocalOurs) -> None:
    local_ours.inject(Fault("status", status=500, times=1, retry_after="4"))
    result = client.batch([event(1), event(2)], source="stripe")
    assert list(result.retryable) == [0, 1]
    assert all(4.0 <= e.delay <= 5.0 and e.status == 500 for e in result.retryable.values())


@pytest.mark.parametrize("status", [400, 415])
def test_a_refused_batch_request_is_permanent_for_every_row(
    client: OursClient, local_ours: LocalOurs, status: int
) -> None:
    local_ours.inject(Fault("status", status=status))
    result = client.batch([event(1), event(2)], source="stripe")
    assert list(result.permanent) == [0, 1]
    assert {e.status for e in result.permanent.values()} == {status}


def test_a_batch_auth_failure_rereads_once(local_ours: LocalOurs, ours_token: str) -> None:
    tokens = FakeTokens("old-token-before-rotation", ours_token)
    result = OursClient(local_ours.url, tokens).batch([event(1), event(2)], source="stripe")
    assert result.all_delivered
    assert tokens.forced == 1


def test_a_batch_auth_failure_after_the_reread_is_permanent(local_ours: LocalOurs) -> None:
    tokens = FakeTokens("revoked-token-0001")
    result = OursClient(local_ours.url, tokens).batch([event(1), event(2)], source="stripe")
    assert {e.reason for e in result.permanent.values()} == {"auth"}
    assert tokens.forced == 1
    assert len(local_ours.requests) == 2


def test_a_413_with_a_limit_is_split_and_resent(ours_token: str) -> None:
    # Given an Ours that takes at most 2 rows per batch
    with LocalOurs(tokens={ours_token}, max_batch_rows=2) as ours:
        client = OursClient(ours.url, FakeTokens(ours_token))
        # When 5 rows are sent
        result = client.batch([event(n) for n in range(5)], source="stripe")
        # Then the batch is split into chunks of 2 and every row is delivered once
        assert result.all_delivered
        assert [r.status for r in ours.requests] == [413, 200, 200, 200]
        assert [ours.deliveries(f"stripe:evt_{n}") for n in range(5)] == [1] * 5


def test_a_413_without_a_limit_is_halved_until_it_fits(ours_token: str) -> None:
    # Given an Ours whose body limit fits one row but not two
    row_size = len(json.dumps(event(1, event_properties={"pad": "x" * 600}).to_ours()))
    with LocalOurs(tokens={ours_token}, max_body_bytes=row_size + 200) as ours:
        client = OursClient(ours.url, FakeTokens(ours_token))
        result = client.batch([event(n, event_properties={"pad": "x" * 600}) for n in range(3)], source="stripe")
        # Then every row ends up delivered, one at a time
        assert result.all_delivered
        assert [ours.deliveries(f"stripe:evt_{n}") for n in range(3)] == [1, 1, 1]


def test_a_single_row_too_large_is_permanent(ours_token: str) -> None:
    with LocalOurs(tokens={ours_token}, max_body_bytes=100) as ours:
        result = OursClient(ours.url, FakeTokens(ours_token)).batch([event(1)], source="stripe")
        assert result.permanent[0].status == 413


def test_a_dropped_batch_retries_every_row(client: OursClient, local_ours: LocalOurs) -> None:
    local_ours.inject(Fault("drop", times=1))
    result = client.batch([event(1), event(2)], source="stripe")
    assert list(result.retryable) == [0, 1]


# --- no secrets or personal data in logs ------------------------------------------------------


def test_nothing_logged_holds_the_token_or_personal_data(
    caplog: pytest.LogCaptureFixture, local_ours: LocalOurs, ours_token: str
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="webhook-translator")  # the Powertools logger keeps its own level
    tokens = FakeTokens("old-token-before-rotation", ours_token)
    client = OursClient(local_ours.url, tokens, read_timeout=0.2)
    person = {"first_name": "Janet", "phone_number": "+1 415 555 0100"}
    # Given a run through success, rejection, re-read, timeout, drop and batch answers
    client.track(event(1, user_properties=person), source="stripe")
    local_ours.inject(Fault("status", status=400, times=1, error=f"bad email {EMAIL} Janet {ours_token}"))
    with pytest.raises(PermanentDeliveryError):
        client.track(event(2, user_properties=person), source="stripe")
    local_ours.inject(Fault("slow", delay=1.0, times=1))
    with pytest.raises(RetryableDeliveryError):
        client.track(event(3, user_properties=person), source="stripe")
    local_ours.inject(Fault("drop", times=1))
    with pytest.raises(RetryableDeliveryError):
        client.track(event(4, user_properties=person), source="stripe")
    local_ours.inject(Fault("status", status=422, distinct_id="stripe:evt_6", error=f"bad {EMAIL}"))
    client.batch([event(5, user_properties=person), event(6)], source="stripe")
    # Then something was logged, and none of it holds the token, the email, the name or the phone
    ours_records = [r for r in caplog.records if r.name.startswith("webhook-translator")]
    assert {r.levelname for r in ours_records} >= {"DEBUG", "WARNING"}
    for record in caplog.records:
        text = record.getMessage() + " " + " ".join(str(v) for v in vars(record).values())
        for secret in (ours_token, "old-token-before-rotation", EMAIL, "Janet", "555 0100"):
            assert secret not in text, record


def test_the_session_never_scans_the_environment_per_call() -> None:
    # Given the client's default session / Then proxies, .netrc and CA bundles come from no environment variable
    session = default_session()
    assert session.trust_env is False
    session.close()
