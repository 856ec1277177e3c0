"""boto3 clients with timeouts that fit inside a Lambda invocation.

boto3's defaults (60 s connect and read, several retries) can outlast the
functions' 10 s and 30 s timeouts; these clients fail fast instead, so that the
typed error paths (503 to the provider, retry on the queue) run. boto3 is
imported here, lazily: creating the clients belongs in the Lambda's init phase,
not in module import (the CLI and the tests import the package without AWS).
boto3 honours ``AWS_ENDPOINT_URL``, so the same clients talk to moto's server locally.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient


def _config() -> Any:
    from botocore.config import Config

    return Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"})


def sqs_client() -> SQSClient:
    import boto3

    return boto3.client("sqs", config=_config())


def secrets_client() -> SecretsManagerClient:
    import boto3

    return boto3.client("secretsmanager", config=_config())
