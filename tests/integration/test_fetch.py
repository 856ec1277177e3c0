"""The fetch step's client against the local provider fakes (real HTTP on loopback): every outcome row.

=====================================  ======================================================
the provider answers                   the fetch
=====================================  ======================================================
200                                    the object
404 (Graph: 400 code 100/33)           ``provider_not_found``, dead-lettered at once
401 (Graph: 400 code 190)              ``provider_auth``, dead-lettered at once
429 with Retry-After                   retryable ``provider_rate_limited``, delay = Retry-After
5xx                                    retryable ``provider_unavailable``, the backoff's delay
a hang past the read timeout           retryable ``provider_unavailable``
a connection reset                     retryable ``provider_unavailable``
=====================================  ======================================================
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator

import pytest

from webhook_translator.errors import PermanentDeliveryError, ProviderRefused, ProviderUnavailable
from webhook_translator.fetch import FetchRequest
from webhook_translator.fetch.client import ProviderApi
from webhook_translator.secrets import StaticSecrets
from webhook_translator.sources.facebook_leads import LEAD_FIELDS, graph_status
from webhook_translator_tools.local.acuity_server import LocalAcuity
from webhook_translator_tools.local.graph_server import LocalGraph
from webhook_translator_tools.local.provider_server import ProviderFault

PAGE_TOKEN = "page-token-EAAG-0123456789abcdef"
ACUITY_USER, ACUITY_KEY = "21934561", "acuity-api-key-0123456789"
LEAD = "2120387161554301"
APPOINTMENT = "1203456789"
SECRETS = StaticSecrets(
    {
        "sources": {
            "facebook-leads": {"api_token": PAGE_TOKEN},
            "acuity": {"api_user": ACUITY_USER, "api_token": ACUITY_KEY},
        }
    }
)


@pytest.fixture
def graph() -> Iterator[LocalGraph]:
    fake = LocalGraph(tokens={PAGE_TOKEN})
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def acuity() -> Iterator[LocalAcuity]:
    fake = LocalAcuity(credentials={(ACUITY_USER, ACUITY_KEY)})
    fake.start()
    yield fake
    fake.stop()


def api(secrets: StaticSecrets = SECRETS, read_timeout: float = 2.0) -> ProviderApi:
    return ProviderApi(secrets, connect_timeout=1.0, read_timeout=read_timeout, max_delay=60, rng=random.Random(7))


def lead(graph: LocalGraph, lead_id: str = LEAD) -> FetchRequest:
    return FetchRequest(
        source="facebook-leads",
        base_url=graph.url,
        path=f"/{lead_id}",
        what="lead",
        params={"fields": LEAD_FIELDS},
        classify=graph_status,
    )


def appointment(acuity: LocalAcuity, ident: str = APPOINTMENT) -> FetchRequest:
    return FetchRequest(
        source="acuity", base_url=acuity.url, path=f"/appointments/{ident}", what="appointment", auth="basic"
    )


# --- 200 ---------------------------------------------------------------------------------------------


def test_a_lead_is_fetched_with_the_page_token_and_only_the_fields_asked_for(graph: LocalGraph) -> None:
    # Given the Graph fake holding the lead
    # When it is fetched
    answer = api().get(lead(graph))
    # Then the lead's field_data and ad ids come back, nothing else of it
    assert answer["id"] == LEAD
    assert {f["name"] for f in answer["field_data"]} >= {"email", "full_name", "phone_number"}
    assert set(answer) <= {"id", *LEAD_FIELDS.split(",")}
    assert graph.calls[-1].status == 200


def test_an_appointment_is_fetched_with_basic_auth(acuity: LocalAcuity) -> None:
    answer = api().get(appointment(acuity))
    assert answer["id"] == int(APPOINTMENT)
    assert answer["email"] == "priya.natarajan@example.com"


# --- permanent ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410])
def test_a_missing_object_is_provider_not_found(acuity: LocalAcuity, status: int) -> None:
    acuity.inject(ProviderFault("status", status=status, times=1))
    with pytest.raises(ProviderRefused) as caught:
        api().get(appointment(acuity))
    assert caught.value.reason == "provider_not_found"
    assert isinstance(caught.value, PermanentDeliveryError)


def test_an_unknown_appointment_id_is_provider_not_found(acuity: LocalAcuity) -> None:
    with pytest.raises(ProviderRefused) as caught:
        api().get(appointment(acuity, "999"))
    assert caught.value.reason == "provider_not_found"


def test_graphs_own_unknown_object_error_is_provider_not_found(graph: LocalGraph) -> None:
    # Given a lead id the Graph API does not know (it answers 400, code 100, subcode 33)
    with pytest.raises(ProviderRefused) as caught:
        api().get(lead(graph, "2120387161559999"))
    # Then it is the not-found outcome, not a generic rejection
    assert caught.value.reason == "provider_not_found"
    assert graph.calls[-1].status == 400


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_credential_is_provider_auth(acuity: LocalAcuity, status: int) -> None:
    acuity.inject(ProviderFault("status", status=status, times=1))
    with pytest.raises(ProviderRefused) as caught:
        api().get(appointment(acuity))
    assert caught.value.reason == "provider_auth"


def test_a_wrong_acuity_key_is_provider_auth(acuity: LocalAcuity) -> None:
    wrong = StaticSecrets({"sources": {"acuity": {"api_user": ACUITY_USER, "api_token": "not-the-key"}}})
    with pytest.raises(ProviderRefused) as caught:
        api(wrong).get(appointment(acuity))
    assert caught.value.reason == "provider_auth"


def test_graphs_invalid_token_error_is_provider_auth(graph: LocalGraph) -> None:
    wrong = StaticSecrets({"sources": {"facebook-leads": {"api_token": "expired-token"}}})
    with pytest.raises(ProviderRefused) as caught:
        api(wrong).get(lead(graph))
    assert caught.value.reason == "provider_auth"


def test_no_credential_in_the_secret_is_provider_auth_and_nothing_is_sent(acuity: LocalAcuity) -> None:
    with pytest.raises(ProviderRefused) as caught:
        api(StaticSecrets({"sources": {"acuity": {"api_token": ACUITY_KEY}}})).get(appointment(acuity))
    assert caught.value.reason == "provider_auth"
    assert "api_user" in caught.value.message
    assert acuity.calls == []


# --- retryable ---------------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_after_that_delay(graph: LocalGraph) -> None:
    graph.inject(ProviderFault("status", status=429, retry_after="120", times=1))
    with pytest.raises(ProviderUnavailable) as caught:
        api().get(lead(graph))
    assert caught.value.reason == "provider_rate_limited"
    assert 120 <= caught.value.delay <= 121


@pytest.mark.parametrize(
    ("code", "subcode", "meaning"),
    [
        (190, None, 401),
        (102, None, 401),
        (10, None, 403),
        (200, None, 403),
        (100, 33, 404),
        (4, None, 429),
        (17, None, 429),
        (32, None, 429),
        (613, None, 429),
        (2, None, 503),
        (100, None, 400),
    ],
)
def test_graphs_error_codes_mean_their_http_outcome(code: int, subcode: int | None, meaning: int) -> None:
    # Graph answers most errors 400 with an error.code (Meta's "Handling Errors" reference)
    error: dict[str, object] = {"message": "x", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    assert graph_status(400, {"error": error}) == meaning
    assert graph_status(200, {"id": "1"}) == 200


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_5xx_is_retried_with_the_backoff_of_the_attempt(acuity: LocalAcuity, status: int) -> None:
    acuity.inject(ProviderFault("status", status=status))
    with pytest.raises(ProviderUnavailable) as first:
        api().get(appointment(acuity), attempt=1)
    with pytest.raises(ProviderUnavailable) as fourth:
        api().get(appointment(acuity), attempt=4)
    assert first.value.reason == "provider_unavailable"
    assert 3 <= first.value.delay <= 7  # 2 s + 1-5 s of jitter
    assert 17 <= fourth.value.delay <= 21  # 16 s + jitter: the same backoff as the Ours call


def test_a_hang_past_the_read_timeout_is_retryable(acuity: LocalAcuity) -> None:
    acuity.inject(ProviderFault("hang", delay=3, times=1))
    with pytest.raises(ProviderUnavailable) as caught:
        api(read_timeout=0.3).get(appointment(acuity))
    assert caught.value.reason == "provider_unavailable"
    assert "in time" in caught.value.message


def test_a_connection_reset_is_retryable(graph: LocalGraph) -> None:
    graph.inject(ProviderFault("reset", times=1))
    with pytest.raises(ProviderUnavailable) as caught:
        api().get(lead(graph))
    assert caught.value.reason == "provider_unavailable"
    assert graph.calls[-1].status == 0
    # and the next call, on the same pool, gets the lead
    assert api().get(lead(graph))["id"] == LEAD


def test_an_unreachable_provider_is_retryable() -> None:
    request = FetchRequest(
        source="acuity", base_url="http://127.0.0.1:9", path="/appointments/1", what="appointment", auth="basic"
    )
    with pytest.raises(ProviderUnavailable):
        api().get(request)


# --- privacy ----------------------------------------------------------------------------------------


def test_nothing_personal_or_secret_is_logged(
    graph: LocalGraph, acuity: LocalAcuity, caplog: pytest.LogCaptureFixture
) -> None:
    # Given fetches that succeed and fail, logged at DEBUG
    caplog.set_level(logging.DEBUG)
    api().get(lead(graph))
    api().get(appointment(acuity))
    graph.inject(ProviderFault("status", status=503, times=1))
    with pytest.raises(ProviderUnavailable) as caught:
        api().get(lead(graph))
    # Then no line of the pipeline's log and no error holds a credential, an object id, or a value of the
    # answer (urllib3's own DEBUG lines hold the request path, ids included, never the Authorization header)
    ours = [r.getMessage() + str(r.__dict__) for r in caplog.records if r.name.startswith("webhook-translator")]
    assert ours
    text = "".join(ours) + caught.value.message
    for secret in (PAGE_TOKEN, ACUITY_KEY, ACUITY_USER, LEAD, "morgan", "priya", "@example", "Asthma"):
        assert secret.lower() not in text.lower()
    assert PAGE_TOKEN not in caplog.text
    assert ACUITY_KEY not in caplog.text
