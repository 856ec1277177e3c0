"""events/apigw and events/sqs are what `webhook-translator samples refresh` writes, and a refresh makes them
good *now*: the receiver accepts the API Gateway events on its real clock, and the forwarder delivers the SQS
batch instead of dead-lettering it as stale_event."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from support.apigw import EVENTS
from support.aws import Queues, make_queues
from webhook_translator import config, forwarder, receiver
from webhook_translator.ours.client import OursClient
from webhook_translator.secrets import StaticSecrets
from webhook_translator_tools.cli import main
from webhook_translator_tools.local.lambda_events import APIGW_EVENTS, SAMPLE_SECRET, SQS_BATCHES, build_all, signed_at
from webhook_translator_tools.local.ours_server import LocalOurs

TOKEN = "lambda-events-token-0123456789"
LAMBDA_EVENTS = sorted([*(f"apigw/{n}" for n in APIGW_EVENTS), *(f"sqs/{n}" for n in SQS_BATCHES)])


def test_every_lambda_event_in_events_is_made_by_the_refresh() -> None:
    # Given the committed folders: nothing there that the refresh does not write
    assert sorted(str(p.relative_to(EVENTS)) for p in [*EVENTS.glob("apigw/*"), *EVENTS.glob("sqs/*")]) == (
        LAMBDA_EVENTS
    )
    for relative in LAMBDA_EVENTS:
        committed = json.loads((EVENTS / relative).read_text())
        # When the refresh is made again at the time the committed file was made
        rebuilt = build_all(EVENTS, now=signed_at(committed))[EVENTS / relative]
        # Then it is the same event: the file is the refresh's output, not edited by hand
        assert rebuilt == committed, relative


@pytest.fixture
def refreshed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A copy of events/, refreshed now by the command the README names."""
    events = tmp_path / "events"
    shutil.copytree(EVENTS, events)
    assert main(["samples", "refresh", str(events)]) == 0
    out = capsys.readouterr().out
    assert out.count("wrote ") == len(LAMBDA_EVENTS)
    return events


@pytest.fixture
def queues(aws_env: None) -> Iterator[Queues]:
    with mock_aws():
        yield make_queues(boto3.client("sqs", region_name="us-east-1"))


@pytest.mark.parametrize("name", sorted(APIGW_EVENTS))
def test_a_refreshed_api_gateway_event_is_accepted_now(refreshed: Path, queues: Queues, name: str) -> None:
    # Given an API Gateway event refreshed just now, and a receiver on the real clock
    event = json.loads((refreshed / "apigw" / name).read_text())
    handler = receiver.Receiver(
        config.Settings(QUEUE_URL=queues.queue_url),
        StaticSecrets({"sources": {"stripe": {"signing_secrets": [SAMPLE_SECRET]}}}),
        sqs=queues.sqs,
    )
    # When the receiver handles it / Then it is verified and queued
    answer = handler.handle(event)
    assert answer["statusCode"] == 200, answer["body"]
    assert queues.count() == 1


def test_a_refreshed_sqs_batch_is_delivered_now_not_dead_lettered(refreshed: Path, queues: Queues) -> None:
    # Given the SQS batch refreshed just now, and a forwarder and Ours on the real clock
    event = json.loads((refreshed / "sqs" / "stripe-batch.json").read_text())
    with LocalOurs(tokens={TOKEN}) as ours:
        handler = forwarder.Forwarder(
            config.Settings(QUEUE_URL=queues.queue_url, DLQ_URL=queues.dlq_url),
            OursClient(ours.url, StaticSecrets({"ours_token": TOKEN})),
            sqs=queues.sqs,
            clock=time.time,
        )
        # When the forwarder handles it
        result = handler.handle(event)
        # Then the two mapped events reach Ours and nothing is dead-lettered (no stale_event)
        assert result == {"batchItemFailures": []}
        assert sorted(e["event"] for e in ours.accepted) == ["Checkout Completed", "Invoice Paid"]
    assert queues.count(queues.dlq_url) == 0


def test_the_committed_sqs_batch_a_week_later_is_what_the_refresh_fixes(queues: Queues) -> None:
    # Given the committed batch, handled 8 days after it was made (what `sam local invoke` meets later)
    event = json.loads((EVENTS / "sqs" / "stripe-batch.json").read_text())
    later = signed_at(event) + 8 * 86_400
    with LocalOurs(tokens={TOKEN}, clock=lambda: later) as ours:
        handler = forwarder.Forwarder(
            config.Settings(QUEUE_URL=queues.queue_url, DLQ_URL=queues.dlq_url),
            OursClient(ours.url, StaticSecrets({"ours_token": TOKEN})),
            sqs=queues.sqs,
            clock=lambda: later,
        )
        handler.handle(event)
    # Then the mapped events are dead-lettered as stale: the reason events/README.md gives for a refresh
    assert queues.count(queues.dlq_url) == 2
    readme = (EVENTS / "README.md").read_text()
    assert "webhook-translator samples refresh" in readme
    assert "stale_event" in readme


def test_refresh_of_a_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["samples", "refresh", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "no such directory" in err


def test_refresh_with_an_empty_secret_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(EVENTS, tmp_path / "events")
    assert main(["samples", "refresh", str(tmp_path / "events"), "--secret", ""]) == 1
    assert "--secret is empty" in capsys.readouterr().err
