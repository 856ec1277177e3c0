"""``GET /webhooks/{source}``: Meta's subscription handshake, answered by the receiver without the queue.

DESIGN.md: the challenge comes back as text/plain when ``hub.verify_token`` matches the source's
``verify_token`` in the secret document, 403 otherwise; every other source answers GET with 405.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.apigw import http_event
from webhook_translator.config import Settings
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets

VERIFY = "verify-token-4f1c9a"
QUERY = f"hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444"


class NoQueue:
    """An SQS client that fails the test if the receiver touches the queue."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the handshake touched the queue ({name})")


def receiver(document: dict[str, Any] | None = None) -> Receiver:
    document = document or {"sources": {"facebook-leads": {"signing_secrets": ["s"], "verify_token": VERIFY}}}
    return Receiver(
        Settings(QUEUE_URL="https://sqs.us-east-1.amazonaws.com/123456789012/webhooks"),
        StaticSecrets(document),
        sqs=NoQueue(),  # type: ignore[arg-type]
    )


def get(source: str, query: str, document: dict[str, Any] | None = None) -> dict[str, Any]:
    return receiver(document).handle(http_event(source, "", {}, method="GET", query=query))


def test_the_challenge_is_answered_as_plain_text_when_the_verify_token_matches() -> None:
    # Given Meta's GET with the configured verify token
    # When the receiver takes it (a queue client that refuses every call)
    answer = get("facebook-leads", QUERY)
    # Then the challenge comes back, as text/plain, exactly
    assert answer["statusCode"] == 200
    assert answer["headers"]["content-type"] == "text/plain"
    assert answer["body"] == "1158201444"


def test_a_wrong_verify_token_is_refused_with_403() -> None:
    answer = get("facebook-leads", "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444")
    assert answer["statusCode"] == 403
    body = json.loads(answer["body"])
    assert "1158201444" not in answer["body"]
    assert VERIFY not in answer["body"]
    assert "verify_token" in body["error"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "hub.mode=unsubscribe&hub.verify_token=" + VERIFY + "&hub.challenge=1",
        "hub.mode=subscribe&hub.verify_token=" + VERIFY,
    ],
)
def test_a_get_that_is_not_a_subscription_handshake_is_a_400(query: str) -> None:
    assert get("facebook-leads", query)["statusCode"] == 400


def test_without_a_configured_verify_token_the_handshake_is_503_not_accepted() -> None:
    answer = get("facebook-leads", QUERY, {"sources": {"facebook-leads": {"signing_secrets": ["s"]}}})
    assert answer["statusCode"] == 503


def test_every_other_source_answers_get_with_405() -> None:
    assert get("stripe", QUERY)["statusCode"] == 405
    assert get("acuity", "")["statusCode"] == 405
