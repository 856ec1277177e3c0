"""The pipeline the fetch tests drive: receiver → moto SQS → forwarder → the fetch from local provider
fakes (real HTTP on loopback) → the local Ours (``tests/integration/test_fetch_*.py``)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from moto import mock_aws

from support.apigw import http_event
from support.aws import Queues, make_queues, poll_once
from webhook_translator.config import Settings
from webhook_translator.fetch.client import ProviderApi
from webhook_translator.forwarder import Forwarder
from webhook_translator.ours.client import OursClient
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import SecretStore, StaticSecrets
from webhook_translator_tools.local.ours_server import LocalOurs
from webhook_translator_tools.local.provider_server import LocalProviderApi

__all__ = ["SECRET_ID", "FetchPipeline", "running"]

SECRET_ID = "webhook-translator"


class FetchPipeline:
    """The receiver and a forwarder whose sources fetch from ``fakes`` (source name → its provider fake),
    at the fixed time ``now``; the secret document ``document`` is in moto's Secrets Manager."""

    def __init__(
        self,
        queues: Queues,
        ours: LocalOurs,
        fakes: Mapping[str, LocalProviderApi],
        *,
        document: Mapping[str, Any],
        now: int,
    ) -> None:
        self.queues, self.ours, self.now = queues, ours, now
        self.receiver = Receiver(
            Settings(QUEUE_URL=queues.queue_url),
            StaticSecrets(dict(document)),
            sqs=queues.sqs,
            clock=lambda: datetime.fromtimestamp(now, UTC),
        )
        self._options = {name: {"options": {"api_base_url": fake.url}} for name, fake in fakes.items()}
        self.use()

    def use(self, **settings: Any) -> None:
        """A forwarder with these settings (the defaults: an outage budget of 24 h over 200 receives)."""
        config = Settings(
            QUEUE_URL=self.queues.queue_url,
            DLQ_URL=self.queues.dlq_url,
            SECRET_ID=SECRET_ID,
            TRANSLATOR_CONFIG=json.dumps({"sources": self._options}),
            **settings,
        )
        store = SecretStore(SECRET_ID, max_age=300)
        client = OursClient(self.ours.url, store, connect_timeout=1, read_timeout=1)
        fetcher = ProviderApi(store, connect_timeout=1, read_timeout=1)
        self.forwarder = Forwarder(config, client, sqs=self.queues.sqs, clock=lambda: self.now + 5, fetcher=fetcher)

    def send(self, source: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
        response = self.receiver.handle(http_event(source, body, headers))
        assert response["statusCode"] == 200, response["body"]
        return dict(json.loads(response["body"]))

    def poll(self) -> dict[str, Any]:
        return poll_once(self.queues, self.forwarder.handle)[1]

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.queues.drain(self.queues.dlq_url)

    def delivered(self) -> list[str]:
        return [e["distinctId"] for e in self.ours.accepted]


@contextlib.contextmanager
def running(
    document: Mapping[str, Any], fakes: Mapping[str, LocalProviderApi], *, now: int
) -> Iterator[tuple[Queues, LocalOurs]]:
    """The local Ours (taking the document's token), moto with the secret and the queues, and ``fakes``
    started: (the queues, the local Ours); everything stopped after."""
    with (
        LocalOurs(tokens={document["ours_token"]}, clock=lambda: now + 10) as ours,
        mock_aws(),
        contextlib.ExitStack() as started,
    ):
        for fake in fakes.values():
            started.enter_context(fake)
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name=SECRET_ID, SecretString=json.dumps(document))
        yield make_queues(boto3.client("sqs", region_name="us-east-1")), ours
