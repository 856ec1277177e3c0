"""What the translation keeps per container instead of redoing per event: checked tokens, validated options.

Each cache must give what the uncached step gives, and keep refusing what it refuses.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ConfigDict

from webhook_translator.config import SourceConfig
from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError
from webhook_translator.ours.models import InvalidTrackEvent, TrackEvent, validate_token
from webhook_translator.sources.context import MapContext
from webhook_translator.sources.registry import REGISTRY


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str | None = None


def ctx(config: SourceConfig) -> MapContext:
    return MapContext(source=REGISTRY["stripe"], now_ms=1_795_000_000_000, config=config)


def test_a_valid_token_is_the_same_trimmed_token_every_time() -> None:
    assert validate_token("  tok_cache_1 \n") == "tok_cache_1"
    assert validate_token("  tok_cache_1 \n") == "tok_cache_1"


@pytest.mark.parametrize("token", ["", "   ", "x" * 251])
def test_an_invalid_token_is_refused_every_time(token: str) -> None:
    for _ in range(2):
        with pytest.raises(InvalidTrackEvent):
            validate_token(token)


def test_options_are_validated_once_per_configuration_and_each_configuration_gets_its_own() -> None:
    first = SourceConfig(options={"key": "a"})
    assert ctx(first).options(Options) is ctx(first).options(Options)
    assert ctx(first).options(Options).key == "a"
    # another configuration (even an equal one) is validated on its own
    assert ctx(SourceConfig(options={"key": "b"})).options(Options).key == "b"
    assert ctx(SourceConfig()).options(Options) == Options()


def test_invalid_options_are_refused_every_time() -> None:
    config = SourceConfig(options={"nope": 1})
    for _ in range(2):
        with pytest.raises(MappingError, match="invalid options for source 'stripe': nope"):
            ctx(config).options(Options)


def test_to_ours_is_json_in_ours_order_with_the_erased_fields_as_null() -> None:
    event = TrackEvent.build(
        now_ms=1_795_000_000_000,
        event="Order Completed",
        email="jane@example.com",
        event_properties={"n": 1, "x": 1.5, "nested": {"list": [1, "a", None, True]}},
        user_properties={"phone_number": "+1 415 555 0100", "zip": 94107},
        erase=frozenset({"user_id"}),
    )
    expected = {
        "event": "Order Completed",
        "email": "jane@example.com",
        "eventProperties": {"n": 1, "x": 1.5, "nested": {"list": [1, "a", None, True]}},
        "userProperties": {"phone_number": "+1 415 555 0100", "zip": 94107},
        "userId": None,
    }
    assert json.dumps(event.to_ours()) == json.dumps(expected)  # the same keys, values and order


@pytest.mark.parametrize(
    "body",
    [b'{"a": "\xc3\xa9"}', b'\xef\xbb\xbf{"a": 1}', '{"a": 1}'.encode("utf-16"), '{"a": 1}'.encode("utf-32-le")],
    ids=["utf-8", "utf-8-bom", "utf-16-bom", "utf-32-le"],
)
def test_json_body_reads_what_json_loads_reads_from_the_bytes(body: bytes) -> None:
    envelope = Envelope.wrap(
        source="stripe", webhook_id="w", received_at=datetime.now(UTC), content_type="application/json", body=body
    )
    assert envelope.json_body() == json.loads(body)
