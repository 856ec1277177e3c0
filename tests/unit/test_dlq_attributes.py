"""The one DLQ attribute schema: what the forwarder writes is what `dlq list` reads."""

from __future__ import annotations

from datetime import UTC, datetime

from webhook_translator.dlq_attributes import FailureAttributes, QueuedAttributes


def test_a_failure_written_by_the_forwarder_reads_back_the_same() -> None:
    # Given a dead-lettering's attributes
    written = FailureAttributes(
        source="stripe",
        webhook_id="evt_1",
        event_type="invoice.paid",
        reason="ours_rejected",
        detail="Ours rejected /track (400)",
        attempts=3,
        ours_status=400,
        failed_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    # When they are sent and read back (boto3's shape)
    read = FailureAttributes.from_sqs(written.to_sqs())
    # Then nothing is lost
    assert read == written


def test_unknown_values_read_as_none_and_are_bounded_and_printable() -> None:
    # Given a failure with unknowns and a hostile value
    attrs = FailureAttributes(source="x\n" * 300, webhook_id=None, event_type="-", reason="mapper_error").to_sqs()
    # Then every value is printable and bounded, and no Ours status is written
    assert all(v["StringValue"].isprintable() and len(v["StringValue"]) <= 256 for v in attrs.values())
    assert "ours_status" not in attrs
    read = FailureAttributes.from_sqs(attrs)
    assert (read.webhook_id, read.event_type, read.attempts, read.failed_at) == (None, None, None, None)


def test_queued_attributes_read_from_the_lambda_event_shape_and_skip_unknowns() -> None:
    # Given the attributes of an SQS record as Lambda hands them over
    event_shape = {"source": {"stringValue": "tally", "dataType": "String"}, "webhook_id": {"stringValue": "-"}}
    # When read / Then the unknown id is None, and writing it back leaves it out
    queued = QueuedAttributes.from_sqs(event_shape)
    assert queued == QueuedAttributes(source="tally", webhook_id=None)
    assert queued.to_sqs() == {"source": {"DataType": "String", "StringValue": "tally"}}


def test_a_history_round_trips_bounded_and_an_unreadable_one_counts_as_none() -> None:
    from datetime import UTC, datetime

    from webhook_translator.dlq_attributes import ATTRIBUTE_LIMIT, MAX_REASONS, History, QueuedAttributes

    # Given a long history (more reasons than are kept)
    history = History(
        attempts=412,
        reasons=tuple(f"reason_number_{i:02d}_long" for i in range(9)),
        ours_status=503,
        redriven_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
        redrives=9,
    )
    # When it is written as an attribute and read back
    attributes = QueuedAttributes("stripe", "evt_1", history).to_sqs()
    text = attributes["history"]["StringValue"]
    back = QueuedAttributes.from_sqs(attributes).history
    # Then it fits an attribute, keeps the newest reasons and everything else
    assert len(text) <= ATTRIBUTE_LIMIT
    assert back.reasons == history.reasons[-MAX_REASONS:]
    assert (back.attempts, back.ours_status, back.redriven_at, back.redrives) == (412, 503, history.redriven_at, 9)
    # And garbage reads as no history (it is advisory; never a reason to fail a webhook)
    assert History.parse("{not json") == History()
    assert History.parse('{"a": "x", "r": 5}') == History()
