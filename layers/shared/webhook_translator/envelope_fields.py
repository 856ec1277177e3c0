"""Reading a queue message's fields (:meth:`webhook_translator.envelope.Envelope.from_message`): the
JSON parser, the receive time, and which fields are wrong when a message is not an envelope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final

ENCODINGS: Final = frozenset({"text", "base64", "gzip+base64"})
#: the message's keys, in the order they are written
KEYS: Final = (
    "version", "source", "webhook_id", "received_at", "content_type", "headers", "query", "body", "body_encoding"
)  # fmt: skip
KEY_SET: Final = frozenset(KEYS)


@cache
def json_parser() -> Callable[[str | bytes], Any]:
    """pydantic-core's JSON parser: ~3x ``json.loads`` on a message's escaped body. The forwarder, which
    reads messages, imports pydantic anyway; the receiver only writes them (and never imports it)."""
    from pydantic_core import from_json

    return from_json


#: the slots' own setters: an envelope is immutable (``__setattr__`` refuses), and built as fast as a plain one
def text_map(value: dict[str, Any]) -> bool:  # a loop: all() over a generator costs more (a hot path)
    for item in value.values():  # noqa: SIM110
        if type(item) is not str:
            return False
    return True


def bad_fields(data: dict[str, Any], when: datetime | None) -> list[str]:
    """The fields of a message that are missing, unknown or of the wrong kind, sorted."""
    source, webhook_id, version = data.get("source"), data.get("webhook_id"), data.get("version", 1)
    checks = (
        ("version", type(version) is int and version == 1),
        ("source", isinstance(source, str) and 0 < len(source) <= 64),
        ("webhook_id", isinstance(webhook_id, str) and 0 < len(webhook_id) <= 256),
        ("received_at", when is not None),
        ("content_type", isinstance(data.get("content_type", ""), str)),
        ("headers", type(data.get("headers", {})) is dict and text_map(data.get("headers", {}))),
        ("query", type(data.get("query", {})) is dict and text_map(data.get("query", {}))),
        ("body", isinstance(data.get("body"), str)),
        ("body_encoding", data.get("body_encoding", "text") in ENCODINGS),
    )
    bad = [name for name, good in checks if not good]
    bad += [key for key in data if key not in KEY_SET]  # unknown keys (a message of another kind)
    return sorted(bad)


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time (a naive one is UTC), or Unix seconds (milliseconds past 2e10); None if neither."""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value[:-1] + "Z" if value.endswith("z") else value)  # RFC 3339 allows "z"
            return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        except ValueError:
            try:
                value = float(value)
            except ValueError:
                return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = value / 1000 if abs(value) > 2e10 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None
