"""The URL / header token shared by the sources that cannot sign (``sources/tokens.py``):
jotform, gravityforms and wpforms verify the same way, with the same reason codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from reasons import assert_reason

from webhook_translator.errors import SignatureError

TOKEN = "a-long-random-url-token-4c8e2a6f0b1d3e5a7c9f"
OLD = "the-previous-url-token-000000000000000000"
SOURCES = ("jotform", "gravityforms", "wpforms")


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("case", "query", "headers", "secrets"),
    [
        ("query", {"key": TOKEN}, {}, [TOKEN]),
        ("header", {}, {"X-Webhook-Token": TOKEN}, [TOKEN]),
        ("rotation", {"key": TOKEN}, {}, [OLD, TOKEN]),
    ],
    ids=["query", "header", "rotation"],
)
def test_the_right_token_verifies(
    harness: Callable[[str], Any],
    source: str,
    case: str,
    query: dict[str, str],
    headers: dict[str, str],
    secrets: list[str],
) -> None:
    h = harness(source)
    h.source.verify(h.request(b"{}", headers, query=query), secrets)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize(
    ("case", "query", "headers", "secrets", "code"),
    [
        ("missing", {}, {}, [TOKEN], "missing_signature"),
        ("empty", {"key": ""}, {"X-Webhook-Token": ""}, [TOKEN], "missing_signature"),
        ("wrong", {"key": OLD}, {}, [TOKEN], "no_matching_secret"),
        ("tampered (a prefix)", {"key": TOKEN[:-1]}, {}, [TOKEN], "no_matching_secret"),
        ("another parameter name", {"token": TOKEN}, {}, [TOKEN], "missing_signature"),
        ("an empty secret never matches", {"key": "x"}, {}, [""], "no_matching_secret"),
        ("none configured", {"key": TOKEN}, {}, [], "no_matching_secret"),
    ],
    ids=["missing", "empty", "wrong", "prefix", "other name", "empty secret", "none configured"],
)
def test_a_missing_or_wrong_token_is_refused_with_its_reason(
    harness: Callable[[str], Any],
    source: str,
    case: str,
    query: dict[str, str],
    headers: dict[str, str],
    secrets: list[str],
    code: str,
) -> None:
    h = harness(source)
    with pytest.raises(SignatureError) as info:
        h.source.verify(h.request(b"{}", headers, query=query), secrets)
    assert_reason(info, code)
    assert TOKEN not in info.value.message


@pytest.mark.parametrize("source", ["gravityforms", "wpforms"])
def test_the_receiver_queues_a_sample_with_the_url_token_and_refuses_it_without(
    harness: Callable[[str], Any], source: str
) -> None:
    h = harness(source)
    sample = h.sample("entry")
    headers = {"Content-Type": sample["content_type"], **sample["headers"]}
    status, _, envelope = h.receive(sample["body"], headers, query={"key": TOKEN}, secrets=[TOKEN])
    assert status == 200
    assert envelope is not None
    assert TOKEN not in envelope.to_message()
    status, _, envelope = h.receive(sample["body"], headers, secrets=[TOKEN])
    assert (status, envelope) == (401, None)


@pytest.mark.parametrize("source", ["gravityforms", "wpforms"])
def test_sign_headers_give_the_token_header_and_the_body_s_content_type(
    harness: Callable[[str], Any], source: str
) -> None:
    h = harness(source)
    assert h.source.sign_headers(b'{"a":1}', TOKEN, now=h.now_s) == {
        "Content-Type": "application/json",
        "X-Webhook-Token": TOKEN,
    }
    form = h.source.sign_headers(b"a=1", TOKEN, now=h.now_s)
    assert form["Content-Type"] == "application/x-www-form-urlencoded"
    h.source.verify(h.request(b"a=1", form), [TOKEN])
