"""Fixtures shared by every suite: a fake AWS environment and a local Ours endpoint."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from webhook_translator_tools.local.ours_server import LocalOurs

#: the token the ``local_ours`` fixture accepts (also served by the ``ours_token`` fixture)
OURS_TOKEN = "test-ours-token-0123456789"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and region, and no endpoint override: boto3 talks only to moto's in-process mock."""
    for name in (
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_REGION", "us-east-1")


@pytest.fixture
def ours_token() -> str:
    """The token the ``local_ours`` fixture accepts."""
    return OURS_TOKEN


@pytest.fixture
def local_ours(ours_token: str) -> Iterator[LocalOurs]:
    """A contract-faithful Ours on a free loopback port, accepting only ``ours_token``."""
    with LocalOurs(tokens={ours_token}) as server:
        yield server
