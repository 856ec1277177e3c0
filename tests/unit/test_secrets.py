"""The secret document: parsing, token resolution, and SecretStore's caching over a fake provider."""

from __future__ import annotations

import json
from typing import Any

import pytest

from webhook_translator.errors import ConfigurationError
from webhook_translator.secrets import SecretDocument, SecretStore, SourceSecrets, StaticSecrets

DEFAULT_TOKEN = "ours_default_tok_0123456789"
STRIPE_TOKEN = "ours_stripe_tok_9876543210"
STRIPE_SECRET = "whsec_stripe_AAAAAAAAAAAAAAAA"
TYPEFORM_SECRET = "tf_secret_BBBBBBBBBBBBBBBB"
DOCUMENT = {
    "ours_token": DEFAULT_TOKEN,
    "sources": {
        "stripe": {"signing_secrets": [STRIPE_SECRET, "whsec_next_CCCCCCCCCCCC"], "ours_token": STRIPE_TOKEN},
        "typeform": {"signing_secrets": [TYPEFORM_SECRET]},
    },
}
SECRET_VALUES = (DEFAULT_TOKEN, STRIPE_TOKEN, STRIPE_SECRET, TYPEFORM_SECRET, "whsec_next_CCCCCCCCCCCC")


def assert_no_secret_in(text: str) -> None:
    for value in SECRET_VALUES:
        assert value not in text
        assert value[:12] not in text


# --- the document ---------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["str", "bytes", "mapping"])
def test_a_document_parses_from_text_bytes_or_a_mapping(form: str) -> None:
    text = json.dumps(DOCUMENT)
    raw: Any = {"str": text, "bytes": text.encode(), "mapping": DOCUMENT}[form]
    document = SecretDocument.parse(raw)
    assert document.ours_token == DEFAULT_TOKEN
    assert document.sources["stripe"] == SourceSecrets(
        signing_secrets=[STRIPE_SECRET, "whsec_next_CCCCCCCCCCCC"], ours_token=STRIPE_TOKEN
    )


@pytest.mark.parametrize(
    ("source", "token"),
    [("stripe", STRIPE_TOKEN), ("typeform", DEFAULT_TOKEN), ("never-configured", DEFAULT_TOKEN)],
)
def test_a_sources_own_token_overrides_the_default(source: str, token: str) -> None:
    assert StaticSecrets(DOCUMENT).ours_token(source) == token


@pytest.mark.parametrize(
    ("source", "secrets"),
    [("stripe", [STRIPE_SECRET, "whsec_next_CCCCCCCCCCCC"]), ("typeform", [TYPEFORM_SECRET]), ("calendly", [])],
)
def test_signing_secrets_per_source(source: str, secrets: list[str]) -> None:
    assert StaticSecrets(DOCUMENT).signing_secrets(source) == secrets


def test_no_token_at_all_is_a_configuration_error_naming_the_source() -> None:
    # Given a document with signing secrets but no Ours token anywhere
    secrets = StaticSecrets({"sources": {"typeform": {"signing_secrets": [TYPEFORM_SECRET]}}})
    # When a token is asked for
    with pytest.raises(ConfigurationError) as caught:
        secrets.ours_token("typeform")
    # Then the error says which source and which key is missing, without any secret
    assert "typeform" in str(caught.value)
    assert "ours_token" in str(caught.value)
    assert_no_secret_in(str(caught.value))


def test_values_are_trimmed() -> None:
    document = SecretDocument.parse(
        {"ours_token": f" {DEFAULT_TOKEN}\n", "sources": {"stripe": {"signing_secrets": [f"{STRIPE_SECRET}\n"]}}}
    )
    assert document.ours_token == DEFAULT_TOKEN
    assert document.sources["stripe"].signing_secrets == [STRIPE_SECRET]


def test_an_empty_document_is_valid_and_has_nothing() -> None:
    secrets = StaticSecrets()
    assert secrets.signing_secrets("stripe") == []
    with pytest.raises(ConfigurationError):
        secrets.ours_token("stripe")


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (f'{{"ours_token": "{DEFAULT_TOKEN}", ', "not valid JSON"),
        (f'"{DEFAULT_TOKEN}"', "must be a JSON object"),
        (json.dumps([STRIPE_SECRET]), "must be a JSON object"),
        (b"\xff\xfe" + DEFAULT_TOKEN.encode(), "not"),
        ({"ours_token": 12345678901}, "ours_token"),
        ({"ours_token": "   "}, "ours_token"),
        ({"sources": [STRIPE_SECRET]}, "sources"),
        ({"sources": {"stripe": {"signing_secrets": STRIPE_SECRET}}}, "sources.stripe.signing_secrets"),
        ({"sources": {"stripe": {"signing_secret": [STRIPE_SECRET]}}}, "sources.stripe.signing_secret"),
        ({"sources": {"stripe": {"signing_secrets": [STRIPE_SECRET, ""]}}}, "sources.stripe.signing_secrets.1"),
        ({"sources": {"stripe": {"signing_secrets": [STRIPE_SECRET, 7]}}}, "sources.stripe.signing_secrets.1"),
        ({"sources": {"stripe": {"ours_token": ["x"]}}}, "sources.stripe.ours_token"),
        ({"ours_tokn": DEFAULT_TOKEN}, "ours_tokn"),
    ],
)
def test_a_bad_document_names_the_problem_never_the_values(raw: Any, names: str) -> None:
    # Given a malformed secret document that holds real-looking secrets
    # When it is parsed
    with pytest.raises(ConfigurationError) as caught:
        SecretDocument.parse(raw)
    # Then the message names what is wrong
    message = str(caught.value)
    assert names in message
    # And never repeats a secret value
    assert_no_secret_in(message)
    assert "12345678901" not in message
    # And it is a 503-class configuration error (the provider should retry)
    assert caught.value.status == 503


def test_static_secrets_force_is_harmless() -> None:
    secrets = StaticSecrets(SecretDocument.parse(DOCUMENT))
    assert secrets.ours_token("stripe", force=True) == STRIPE_TOKEN
    assert secrets.document(force=True).ours_token == DEFAULT_TOKEN


# --- SecretStore over a fake provider -------------------------------------------------------


class FakeProvider:
    """Stands in for Powertools' SecretsProvider: serves a value, counts reads, remembers force_fetch."""

    def __init__(self, value: str | bytes) -> None:
        self.value = value
        self.calls: list[dict[str, Any]] = []

    def get(self, name: str, max_age: int | None = None, force_fetch: bool = False) -> str | bytes:
        self.calls.append({"name": name, "max_age": max_age, "force_fetch": force_fetch})
        return self.value

    def clear_cache(self) -> None:
        pass


def store_with(value: str | bytes, **kwargs: Any) -> tuple[SecretStore, FakeProvider]:
    provider = FakeProvider(value)
    return SecretStore("webhook-translator/secret", provider=provider, **kwargs), provider  # type: ignore[arg-type]


def test_the_store_asks_the_provider_with_its_max_age() -> None:
    store, provider = store_with(json.dumps(DOCUMENT), max_age=120)
    assert store.ours_token("stripe") == STRIPE_TOKEN
    assert provider.calls == [{"name": "webhook-translator/secret", "max_age": 120, "force_fetch": False}]


def test_force_is_passed_through_as_force_fetch() -> None:
    # Given a store whose secret was rotated behind its back
    store, provider = store_with(json.dumps(DOCUMENT))
    assert store.ours_token("typeform") == DEFAULT_TOKEN
    provider.value = json.dumps({**DOCUMENT, "ours_token": "ours_rotated_tok_55555"})
    # When the token is re-read with force
    token = store.ours_token("typeform", force=True)
    # Then the provider was asked to bypass its cache and the new token is used
    assert token == "ours_rotated_tok_55555"
    assert [c["force_fetch"] for c in provider.calls] == [False, True]


def test_an_unchanged_value_is_not_parsed_again() -> None:
    store, _ = store_with(json.dumps(DOCUMENT))
    assert store.document() is store.document()


def test_nothing_is_created_at_construction(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given boto3 sessions that explode when asked for a client
    import boto3.session

    def no_clients(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a boto3 client was created")

    monkeypatch.setattr(boto3.session.Session, "client", no_clients)
    # When a store is constructed
    SecretStore("webhook-translator/secret")
    # Then no client was made (the first read would make one)


@pytest.mark.parametrize("secret_id", ["", "   "])
def test_a_store_needs_a_secret_id(secret_id: str) -> None:
    with pytest.raises(ConfigurationError, match="SECRET_ID"):
        SecretStore(secret_id)


def test_a_bad_value_from_the_provider_is_a_configuration_error_without_secrets() -> None:
    store, _ = store_with(f'{{"ours_token": "{DEFAULT_TOKEN}"')
    with pytest.raises(ConfigurationError) as caught:
        store.ours_token("stripe")
    assert "webhook-translator/secret" in str(caught.value)
    assert_no_secret_in(str(caught.value))
