"""The receiver's admission and the forwarder's translation as pure steps (no queue, no logs)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from webhook_translator.admission import Admitted, admit
from webhook_translator.config import TranslatorConfig
from webhook_translator.errors import SignatureError, UnknownSource, UnsupportedMediaType
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.sources.request import InboundRequest
from webhook_translator.translation import translate

SECRET = "whsec_test_secret"
BODY = json.dumps(
    {"id": "evt_1", "type": "customer.created", "created": int(time.time()), "data": {"object": {}}}
).encode()


def _request(headers: dict[str, str]) -> InboundRequest:
    return InboundRequest(source="stripe", body=BODY, headers=headers, received_at=datetime.now(UTC))


def _signed() -> dict[str, str]:
    headers = REGISTRY["stripe"].sign_headers(BODY, SECRET, now=time.time())
    return {k.lower(): v for k, v in headers.items()}


def test_a_signed_webhook_is_admitted_with_its_envelope_and_translated() -> None:
    # Given a signed Stripe webhook / When admitted
    admitted = admit(_request(_signed()), registry=REGISTRY, max_body_bytes=10_000, secrets_for=lambda _: [SECRET])
    # Then it is ready for the queue under the provider's id
    assert isinstance(admitted, Admitted)
    assert (admitted.envelope.source, admitted.envelope.webhook_id) == ("stripe", "evt_1")
    # And translating it says what the forwarder would do (an unmapped type is skipped)
    source, result = translate(admitted.envelope, TranslatorConfig(), registry=REGISTRY, now_ms=int(time.time() * 1000))
    assert (source.name, result.skipped) == ("stripe", "ignored_type")


def test_refusals_are_typed() -> None:
    # Given a wrong secret, a wrong content type and an unknown source / Then each is its typed refusal
    with pytest.raises(SignatureError):
        admit(_request(_signed()), registry=REGISTRY, max_body_bytes=10_000, secrets_for=lambda _: ["whsec_other"])
    with pytest.raises(UnsupportedMediaType):
        admit(_request({"content-type": "text/plain"}), registry=REGISTRY, max_body_bytes=10_000, secrets_for=None)
    with pytest.raises(UnknownSource):
        admit(
            InboundRequest(source="nope", body=b"{}", headers={"content-type": "application/json"}),
            registry=REGISTRY,
            max_body_bytes=10_000,
            secrets_for=None,
        )
