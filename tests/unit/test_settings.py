"""The settings, read from the environment by hand (no pydantic in the receiver): the same values, the same faults."""

from __future__ import annotations

import json

import pytest

from webhook_translator.config import (
    DEFAULT_OURS_API_URL,
    InvalidConfiguration,
    Settings,
    SourceConfig,
    TranslatorConfig,
)


def fault_of(**env: str) -> str:
    with pytest.raises(InvalidConfiguration) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.ours_api_url == DEFAULT_OURS_API_URL
    assert (settings.max_receive_count, settings.stale_event_policy, settings.ours_read_timeout) == (200, "dlq", 5.0)
    assert settings.translator_config == TranslatorConfig()
    assert settings.queue_url is None
    assert settings.enabled_sources is None


def test_values_are_read_as_the_environment_gives_them() -> None:
    settings = Settings.from_env(
        {
            "QUEUE_URL": "https://sqs.local/q",
            "MAX_RECEIVE_COUNT": " 300 ",
            "OURS_READ_TIMEOUT": "2.5",
            "RETRY_MAX_DELAY": "900.0",
            "OURS_API_URL": "https://ours.example/api/v1/",
            "ENABLED_SOURCES": "stripe, typeform tally",
            "STALE_EVENT_POLICY": "send_without_time",
            "SECRET_ID": "",  # empty is unset
            "HOME": "/root",  # anything else is ignored
        }
    )
    assert (settings.queue_url, settings.max_receive_count, settings.ours_read_timeout) == (
        "https://sqs.local/q",
        300,
        2.5,
    )
    assert settings.retry_max_delay == 900
    assert settings.ours_api_url == "https://ours.example/api/v1"
    assert settings.enabled_sources == frozenset({"stripe", "typeform", "tally"})
    assert settings.stale_event_policy == "send_without_time"
    assert settings.secret_id is None


def test_attributes_and_variables_both_name_a_setting() -> None:
    assert Settings(max_body_bytes=10).max_body_bytes == Settings(MAX_BODY_BYTES="10").max_body_bytes == 10
    copy = Settings().model_copy(update={"auth_grace_seconds": 0})
    assert copy.auth_grace_seconds == 0
    assert Settings().auth_grace_seconds == 900
    assert Settings.model_fields["max_receive_count"].default == 200
    assert Settings.model_fields["max_receive_count"].alias == "MAX_RECEIVE_COUNT"


@pytest.mark.parametrize(
    ("env", "fault"),
    [
        (
            {"MAX_RECEIVE_COUNT": "many"},
            "MAX_RECEIVE_COUNT: Input should be a valid integer, unable to parse string as an integer",
        ),
        ({"MAX_RECEIVE_COUNT": "2.5"}, "MAX_RECEIVE_COUNT: Input should be a valid integer"),
        ({"MAX_RECEIVE_COUNT": "0"}, "MAX_RECEIVE_COUNT: Input should be greater than or equal to 1"),
        ({"MAX_RECEIVE_COUNT": "1001"}, "MAX_RECEIVE_COUNT: Input should be less than or equal to 1000"),
        ({"MAX_BODY_BYTES": "0"}, "MAX_BODY_BYTES: Input should be greater than 0"),
        (
            {"OURS_READ_TIMEOUT": "soon"},
            "OURS_READ_TIMEOUT: Input should be a valid number, unable to parse string as a number",
        ),
        ({"OURS_READ_TIMEOUT": "-1"}, "OURS_READ_TIMEOUT: Input should be greater than 0"),
        ({"STALE_EVENT_POLICY": "drop"}, "STALE_EVENT_POLICY: Input should be 'dlq' or 'send_without_time'"),
        ({"TRANSLATOR_CONFIG": "{nope"}, "TRANSLATOR_CONFIG: not valid JSON (line 1 column 2"),
        (
            {"TRANSLATOR_CONFIG": '{"sources": {"stripe": {"rnme": {}}}}'},
            "TRANSLATOR_CONFIG.sources.stripe.rnme: Extra inputs",
        ),
        (
            {"TRANSLATOR_CONFIG": '{"sources": {"stripe": {"drop": [1]}}}'},
            "TRANSLATOR_CONFIG.sources.stripe.drop.0: Input should be a valid string",
        ),
        (
            {"TRANSLATOR_CONFIG": "{}", "TRANSLATOR_CONFIG_FILE": "x", "TRANSLATOR_CONFIG_PARAMETER": "y"},
            "environment: set only one of TRANSLATOR_CONFIG_FILE, TRANSLATOR_CONFIG_PARAMETER",
        ),
    ],
)
def test_every_fault_is_named_in_one_line(env: dict[str, str], fault: str) -> None:
    message = fault_of(**env)
    assert message.startswith("invalid configuration: ")
    assert fault in message


def test_several_faults_are_all_named() -> None:
    with pytest.raises(InvalidConfiguration) as caught:
        Settings.from_env({"MAX_RECEIVE_COUNT": "x", "RETRY_MAX_DELAY": "0"})
    assert [f.split(":")[0] for f in caught.value.faults] == ["MAX_RECEIVE_COUNT", "RETRY_MAX_DELAY"]


def test_the_document_round_trips_through_its_json() -> None:
    document = {
        "sources": {"stripe": {"rename": {"invoice.paid": "Paid"}, "drop": ["b", "a"]}, "tally": {"options": {"x": 1}}}
    }
    config = TranslatorConfig.model_validate(document)
    assert config.source("stripe") == SourceConfig(rename={"invoice.paid": "Paid"}, drop=frozenset({"a", "b"}))
    assert config.source("webflow") == SourceConfig()
    assert TranslatorConfig.model_validate(json.loads(config.model_dump_json(exclude_defaults=True))) == config
    assert TranslatorConfig().model_dump_json(exclude_defaults=True) == "{}"


@pytest.mark.parametrize("value", ["12.", "٣", "１２", "1e3", "twelve"])
def test_a_count_is_ascii_digits_with_at_most_a_zero_fraction(value: str) -> None:
    # As pydantic read them: "12" and "12.0" are 12; int() alone would take a trailing dot or other scripts' digits
    assert "FORWARD_CONCURRENCY" in fault_of(FORWARD_CONCURRENCY=value)


@pytest.mark.parametrize("value", ["١", "１.５"])
def test_a_number_is_ascii(value: str) -> None:
    assert "OURS_READ_TIMEOUT" in fault_of(OURS_READ_TIMEOUT=value)
