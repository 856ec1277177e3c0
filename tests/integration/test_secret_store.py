"""SecretStore against moto's Secrets Manager: resolution, caching, rotation and failures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from webhook_translator.errors import ConfigurationError
from webhook_translator.secrets import SecretStore

SECRET_ID = "webhook-translator/test"
DEFAULT_TOKEN = "ours_default_tok_0123456789"
STRIPE_TOKEN = "ours_stripe_tok_9876543210"
ROTATED_TOKEN = "ours_rotated_tok_5555555555"
STRIPE_SECRET = "whsec_stripe_AAAAAAAAAAAAAAAA"
DOCUMENT = {
    "ours_token": DEFAULT_TOKEN,
    "sources": {
        "stripe": {"signing_secrets": [STRIPE_SECRET], "ours_token": STRIPE_TOKEN},
        "typeform": {"signing_secrets": ["tf_secret_BBBBBBBBBBBB"]},
    },
}


@dataclass
class SecretsManager:
    client: Any
    reads: list[str]

    def put(self, document: Any, *, secret_id: str = SECRET_ID) -> None:
        value = document if isinstance(document, str) else json.dumps(document)
        self.client.put_secret_value(SecretId=secret_id, SecretString=value)

    def store(self, **kwargs: Any) -> SecretStore:
        return SecretStore(SECRET_ID, client=self.client, **kwargs)


@pytest.fixture
def secretsmanager(aws_env: None) -> Iterator[SecretsManager]:
    """moto's Secrets Manager holding DOCUMENT, with a client that counts GetSecretValue calls."""
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        client.create_secret(Name=SECRET_ID, SecretString=json.dumps(DOCUMENT))
        reads: list[str] = []
        client.meta.events.register(
            "before-call.secrets-manager.GetSecretValue", lambda **kwargs: reads.append("GetSecretValue")
        )
        yield SecretsManager(client, reads)


def test_tokens_and_signing_secrets_come_from_the_secret(secretsmanager: SecretsManager) -> None:
    # Given the secret document in Secrets Manager
    store = secretsmanager.store()
    # Then each source gets its own token, or the default, and its signing secrets
    assert store.ours_token("stripe") == STRIPE_TOKEN
    assert store.ours_token("typeform") == DEFAULT_TOKEN
    assert store.signing_secrets("stripe") == [STRIPE_SECRET]
    assert store.signing_secrets("calendly") == []


def test_the_document_is_cached_for_max_age(secretsmanager: SecretsManager) -> None:
    # Given a store that has read the secret once
    store = secretsmanager.store(max_age=300)
    assert store.ours_token("typeform") == DEFAULT_TOKEN
    # When the secret changes in AWS and the store is asked again
    secretsmanager.put({**DOCUMENT, "ours_token": ROTATED_TOKEN})
    token = store.ours_token("typeform")
    signing = store.signing_secrets("stripe")
    # Then the cached value is served, with no further call to AWS
    assert token == DEFAULT_TOKEN
    assert signing == [STRIPE_SECRET]
    assert secretsmanager.reads == ["GetSecretValue"]


def test_a_forced_read_picks_up_a_rotated_token(secretsmanager: SecretsManager) -> None:
    # Given a store holding the old token, and the token rotated in AWS
    store = secretsmanager.store()
    assert store.ours_token("typeform") == DEFAULT_TOKEN
    secretsmanager.put({**DOCUMENT, "ours_token": ROTATED_TOKEN})
    # When the token is re-read with force (what the client does on a 401)
    token = store.ours_token("typeform", force=True)
    # Then the new token is read from AWS, and is what later calls get from the cache
    assert token == ROTATED_TOKEN
    assert store.ours_token("typeform") == ROTATED_TOKEN
    assert secretsmanager.reads == ["GetSecretValue", "GetSecretValue"]


def test_max_age_zero_reads_every_time(secretsmanager: SecretsManager) -> None:
    store = secretsmanager.store(max_age=0)
    store.ours_token("stripe")
    store.ours_token("stripe")
    assert len(secretsmanager.reads) == 2


def test_a_binary_secret_is_read_too(secretsmanager: SecretsManager) -> None:
    secretsmanager.client.create_secret(Name="binary", SecretBinary=json.dumps(DOCUMENT).encode())
    store = SecretStore("binary", client=secretsmanager.client)
    assert store.ours_token("stripe") == STRIPE_TOKEN


def test_the_client_is_created_lazily_at_the_first_read(aws_env: None) -> None:
    # Given a store constructed before any AWS endpoint exists (a cold start)
    store = SecretStore(SECRET_ID)
    # When the first read happens inside moto
    with mock_aws():
        boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name=SECRET_ID, SecretString=json.dumps(DOCUMENT)
        )
        # Then the client made then (from the environment) reads the secret
        assert store.ours_token("stripe") == STRIPE_TOKEN


def test_a_missing_secret_is_a_configuration_error(secretsmanager: SecretsManager) -> None:
    store = SecretStore("does-not-exist", client=secretsmanager.client)
    with pytest.raises(ConfigurationError) as caught:
        store.ours_token("stripe")
    message = str(caught.value)
    assert "does-not-exist" in message
    assert "ResourceNotFoundException" in message


@pytest.mark.parametrize(
    "value",
    [
        f'{{"ours_token": "{DEFAULT_TOKEN}", "sources": {{"stripe": {{"signing_secrets": ["{STRIPE_SECRET}"]',
        json.dumps({"ours_token": DEFAULT_TOKEN, "sources": {"stripe": {"signing_secrets": STRIPE_SECRET}}}),
        json.dumps([DEFAULT_TOKEN, STRIPE_SECRET]),
    ],
)
def test_a_bad_document_is_a_configuration_error_without_secret_material(
    secretsmanager: SecretsManager, value: str
) -> None:
    # Given a malformed document in Secrets Manager that holds secrets
    secretsmanager.put(value)
    # When it is read
    with pytest.raises(ConfigurationError) as caught:
        secretsmanager.store().ours_token("stripe")
    # Then the error names the secret and the problem, never a value
    message = str(caught.value)
    assert SECRET_ID in message
    for secret in (DEFAULT_TOKEN, STRIPE_SECRET, "whsec_", "ours_default"):
        assert secret not in message


def test_a_bad_document_after_rotation_fails_the_forced_read(secretsmanager: SecretsManager) -> None:
    # Given a good cached document, then a broken rotation
    store = secretsmanager.store()
    assert store.ours_token("stripe") == STRIPE_TOKEN
    secretsmanager.put("{not json")
    # Then the forced re-read reports the problem rather than serving a stale token silently
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        store.ours_token("stripe", force=True)


def test_no_region_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, aws_env: None) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with mock_aws(), pytest.raises(ConfigurationError, match="cannot read secret"):
        SecretStore(SECRET_ID).ours_token("stripe")
