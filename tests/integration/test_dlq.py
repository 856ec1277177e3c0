"""The DLQ against moto's SQS: a listing never changes the DLQ; a redrive never loses a message.

``DeadLetterQueue`` is given the boto3 client (no patching); a failing send is a
real client whose ``send_message`` raises, wrapped around moto's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from moto import mock_aws

from support.aws import Queues, make_queues
from webhook_translator.dlq_attributes import QueuedAttributes
from webhook_translator.envelope import Envelope
from webhook_translator_tools.dlq import RECEIVE_LIMIT, DeadLetterQueue

RECEIVED = datetime(2026, 11, 26, 12, 0, tzinfo=UTC).timestamp()


@pytest.fixture
def queues(aws_env: None) -> Iterator[Queues]:
    with mock_aws():
        yield make_queues(boto3.client("sqs", region_name="us-east-1"))


def envelope(source: str, webhook_id: str) -> str:
    return Envelope.wrap(
        source=source,
        webhook_id=webhook_id,
        received_at=datetime(2026, 11, 26, 12, 0, tzinfo=UTC),
        content_type="application/json",
        body=json.dumps({"id": webhook_id, "email": "jane.doe@example.com"}).encode(),
    ).to_message()


def dead_letter(
    queues: Queues,
    source: str,
    webhook_id: str,
    *,
    reason: str | None = "ours_rejected",
    attempts: int = 1,
    failed_at: str = "2026-11-26T12:00:00+00:00",
) -> None:
    """Put a message in the DLQ as the forwarder does (with ``reason=None``: as the redrive policy does)."""
    attributes = {"source": source, "webhook_id": webhook_id}
    if reason is not None:
        attributes |= {
            "event_type": "checkout.session.completed",
            "failure_reason": reason,
            "failure_detail": "Ours rejected /track (400): event: bad",
            "attempts": str(attempts),
            "failed_at": failed_at,
            "ours_status": "400",
        }
    queues.sqs.send_message(
        QueueUrl=queues.dlq_url,
        MessageBody=envelope(source, webhook_id),
        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
    )


def dlq(queues: Queues, sqs: Any = None) -> DeadLetterQueue:
    return DeadLetterQueue(sqs or queues.sqs, queues.dlq_url, queue_url=queues.queue_url, wait_seconds=0)


def ids(messages: list[dict[str, Any]]) -> list[str]:
    return sorted(m["MessageAttributes"]["webhook_id"]["StringValue"] for m in messages)


class FailingSend:
    """moto's client, except that ``send_message`` cannot reach SQS."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs
        self.sends = 0

    def send_message(self, **kwargs: Any) -> Any:
        self.sends += 1
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)


# --- list ---------------------------------------------------------------------------------------------


def test_list_describes_every_message_and_leaves_the_dlq_as_it_was(queues: Queues) -> None:
    # Given two messages the forwarder dead-lettered and one the redrive policy moved
    dead_letter(queues, "stripe", "evt_1", attempts=1)
    dead_letter(queues, "typeform", "tok_2", reason="no_identity", attempts=1)
    dead_letter(queues, "stripe", "evt_3", reason=None)

    # When the DLQ is listed
    now = datetime(2026, 11, 26, 12, 5, tzinfo=UTC).timestamp()
    letters = DeadLetterQueue(queues.sqs, queues.dlq_url, wait_seconds=0, clock=lambda: now).list_messages()

    # Then each message is described by source, id, type, reason, attempts and age
    by_id = {m.webhook_id: m for m in letters}
    assert set(by_id) == {"evt_1", "tok_2", "evt_3"}
    assert by_id["evt_1"].reason == "ours_rejected"
    assert by_id["evt_1"].event_type == "checkout.session.completed"
    assert by_id["evt_1"].attempts == 1
    assert by_id["evt_1"].age_seconds(now) == 300
    assert by_id["tok_2"].reason == "no_identity"
    assert by_id["evt_3"].reason == RECEIVE_LIMIT
    assert by_id["evt_3"].attempts is None
    # And a row never carries the body (the e-mail inside it)
    assert "jane.doe" not in json.dumps([m.to_json(now) for m in letters])
    # And every message is visible in the DLQ again, none moved
    assert ids(queues.drain(queues.dlq_url)) == ["evt_1", "evt_3", "tok_2"]
    assert queues.count() == 0


def test_list_reads_the_ids_from_the_envelope_when_attributes_are_missing(queues: Queues) -> None:
    # Given a DLQ message without message attributes
    queues.sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=envelope("tally", "sub_9"))

    # When the DLQ is listed
    [letter] = dlq(queues).list_messages()

    # Then source and webhook id come from the envelope
    assert (letter.source, letter.webhook_id, letter.reason) == ("tally", "sub_9", RECEIVE_LIMIT)


def test_list_of_an_empty_dlq_is_empty(queues: Queues) -> None:
    # Given an empty DLQ / When it is listed / Then nothing is returned
    assert dlq(queues).list_messages() == []


# --- redrive -------------------------------------------------------------------------------------------


def test_redrive_moves_every_message_back_with_its_attributes(queues: Queues) -> None:
    # Given two dead-lettered webhooks
    dead_letter(queues, "stripe", "evt_1")
    dead_letter(queues, "typeform", "tok_2", reason="no_identity")

    # When the DLQ is re-driven without filters
    result = dlq(queues).redrive()

    # Then both are back on the queue, body intact, with source and webhook_id attributes and their history
    assert sorted(m.webhook_id for m in result.moved) == ["evt_1", "tok_2"]
    back = queues.drain()
    assert ids(back) == ["evt_1", "tok_2"]
    for message in back:
        assert set(message["MessageAttributes"]) == {"source", "webhook_id", "history"}
        assert Envelope.from_message(message["Body"]).webhook_id in ("evt_1", "tok_2")
    # And the DLQ is empty
    assert queues.count(queues.dlq_url) == 0


@pytest.mark.parametrize(
    ("filters", "moved", "left"),
    [
        ({"source": "stripe"}, ["evt_1", "evt_3"], ["tok_2"]),
        ({"reason": "ours_rejected"}, ["evt_1"], ["evt_3", "tok_2"]),
        ({"source": "stripe", "reason": RECEIVE_LIMIT}, ["evt_3"], ["evt_1", "tok_2"]),
        ({"source": "calendly"}, [], ["evt_1", "evt_3", "tok_2"]),
    ],
    ids=["by-source", "by-reason", "by-both", "none-match"],
)
def test_redrive_moves_only_the_matching_messages_and_the_others_are_visible_again(
    queues: Queues, filters: dict[str, str], moved: list[str], left: list[str]
) -> None:
    # Given dead-lettered webhooks of two sources and three reasons
    dead_letter(queues, "stripe", "evt_1", reason="ours_rejected")
    dead_letter(queues, "typeform", "tok_2", reason="no_identity")
    dead_letter(queues, "stripe", "evt_3", reason=None)

    # When only some are re-driven
    result = dlq(queues).redrive(**filters)

    # Then exactly those are on the queue
    assert sorted(m.webhook_id for m in result.moved) == moved
    assert ids(queues.drain()) == moved
    # And the unmatched ones are still in the DLQ and visible right away (not hidden until a timeout)
    assert result.unmatched == len(left)
    assert ids(queues.drain(queues.dlq_url)) == left


def test_redrive_never_deletes_a_message_whose_copy_did_not_reach_the_queue(queues: Queues) -> None:
    # Given a dead-lettered webhook, and a queue that cannot be reached
    dead_letter(queues, "stripe", "evt_1")
    failing = FailingSend(queues.sqs)

    # When it is re-driven
    result = dlq(queues, failing).redrive()

    # Then the send was tried, nothing was moved, and the failure is reported
    assert failing.sends == 1
    assert result.moved == []
    assert [(m.webhook_id, error) for m, error in result.failed] == [("evt_1", "EndpointConnectionError")]
    # And the message is still in the DLQ, visible, body intact
    [message] = queues.drain(queues.dlq_url)
    assert Envelope.from_message(message["Body"]).webhook_id == "evt_1"
    assert queues.count() == 0


def test_redrive_without_a_queue_url_refuses(queues: Queues) -> None:
    # Given a DLQ handle that does not know the queue / When a redrive is asked / Then it refuses before reading
    with pytest.raises(ValueError, match="queue URL"):
        DeadLetterQueue(queues.sqs, queues.dlq_url).redrive()


def test_redriven_messages_are_mapped_again_by_the_forwarder(queues: Queues) -> None:
    # Given a webhook the forwarder dead-lettered, re-driven
    dead_letter(queues, "stripe", "evt_1")
    dlq(queues).redrive()

    # When the queue is read the way the event source mapping reads it
    [message] = queues.sqs.receive_message(
        QueueUrl=queues.queue_url, MessageAttributeNames=["All"], AttributeNames=["All"]
    )["Messages"]

    # Then it is a fresh delivery (receive count 1) of the same envelope
    assert message["Attributes"]["ApproximateReceiveCount"] == "1"
    assert Envelope.from_message(message["Body"]).source == "stripe"


def test_a_redriven_message_carries_its_attempts_and_reasons_and_a_second_redrive_adds_up(queues: Queues) -> None:
    # Given a webhook dead-lettered after 7 attempts
    dead_letter(queues, "stripe", "evt_1", reason="ours_unavailable", attempts=7)
    # When it is re-driven
    dlq(queues).redrive()
    # Then the queued copy carries its history: 7 attempts, the reason, Ours's status, the redrive time
    [message] = queues.drain(visibility=30)
    history = QueuedAttributes.from_sqs(message["MessageAttributes"]).history
    assert (history.attempts, history.reasons, history.ours_status, history.redrives) == (
        7,
        ("ours_unavailable",),
        400,
        1,
    )
    assert history.redriven_at is not None
    # And once dead-lettered again (by the forwarder: 3 more attempts, another reason), `dlq list` shows both rounds
    queues.sqs.delete_message(QueueUrl=queues.queue_url, ReceiptHandle=message["ReceiptHandle"])
    attributes = dict(message["MessageAttributes"])
    attributes |= {
        "failure_reason": {"DataType": "String", "StringValue": "ours_rejected"},
        "attempts": {"DataType": "String", "StringValue": "10"},
    }
    queues.sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=message["Body"], MessageAttributes=attributes)
    [letter] = dlq(queues).list_messages()
    assert (letter.attempts, letter.reason, letter.previous_reasons()) == (10, "ours_rejected", "ours_unavailable")
    assert letter.to_json(RECEIVED)["history"]["previous_reasons"] == ["ours_unavailable"]
    dlq(queues).redrive()
    [again] = queues.drain()
    history = QueuedAttributes.from_sqs(again["MessageAttributes"]).history
    assert (history.attempts, history.reasons, history.redrives) == (10, ("ours_unavailable", "ours_rejected"), 2)


@pytest.mark.parametrize(
    ("filters", "moved"),
    [
        ({"since": datetime(2026, 11, 26, 13, 0, tzinfo=UTC)}, ["evt_2", "evt_3"]),
        ({"until": datetime(2026, 11, 26, 13, 0, tzinfo=UTC)}, ["evt_1", "evt_2"]),
        (
            {"since": datetime(2026, 11, 26, 12, 30, tzinfo=UTC), "until": datetime(2026, 11, 26, 13, 30, tzinfo=UTC)},
            ["evt_2"],
        ),
        ({"ids": frozenset({"evt_1", "evt_3"})}, ["evt_1", "evt_3"]),
    ],
    ids=["since", "until", "window", "ids"],
)
def test_redrive_by_failure_time_or_id(queues: Queues, filters: dict[str, Any], moved: list[str]) -> None:
    # Given three webhooks that failed an hour apart
    dead_letter(queues, "stripe", "evt_1", failed_at="2026-11-26T12:00:00+00:00")
    dead_letter(queues, "stripe", "evt_2", failed_at="2026-11-26T13:00:00+00:00")
    dead_letter(queues, "stripe", "evt_3", failed_at="2026-11-26T14:00:00+00:00")
    # When only some are re-driven
    result = dlq(queues).redrive(**filters)
    # Then exactly those are back on the queue, the others still in the DLQ
    assert sorted(m.webhook_id for m in result.moved) == moved
    assert ids(queues.drain()) == moved
    assert queues.count(queues.dlq_url) == 3 - len(moved)


def test_redrive_reports_stale_webhooks_and_leaves_them_with_skip_stale(queues: Queues) -> None:
    # Given a webhook received 8 days ago (past Ours's 7-day window)
    dead_letter(queues, "stripe", "evt_old")
    queue = DeadLetterQueue(
        queues.sqs, queues.dlq_url, queue_url=queues.queue_url, wait_seconds=0, clock=lambda: RECEIVED + 8 * 86400
    )
    # When re-driven with --skip-stale: it is reported and stays in the DLQ
    result = queue.redrive(skip_stale=True)
    assert [m.webhook_id for m in result.stale] == ["evt_old"]
    assert result.moved == []
    assert queues.count(queues.dlq_url) == 1
    # When re-driven without it: it is moved, and counted past GA's real time and Meta's 7 days
    result = queue.redrive()
    assert [m.webhook_id for m in result.moved] == ["evt_old"]
    assert (len(result.stale), result.past_realtime, result.past_meta) == (1, 1, 1)


def test_redrive_paces_the_sends_at_the_rate(queues: Queues) -> None:
    for n in range(4):
        dead_letter(queues, "stripe", f"evt_{n}")
    waits: list[float] = []
    queue = DeadLetterQueue(queues.sqs, queues.dlq_url, queue_url=queues.queue_url, wait_seconds=0, sleep=waits.append)
    result = queue.redrive(rate=2.0)
    assert len(result.moved) == 4
    assert len(waits) == 3
    assert all(0 < w <= 0.5 for w in waits)
