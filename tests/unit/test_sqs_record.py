"""The forwarder's SQS record reader reads what Powertools' SQSRecord reads (Powertools as the oracle)."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord as PowertoolsRecord

from webhook_translator.sqs_record import SQSRecord

RECORD: dict[str, Any] = {
    "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
    "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
    "body": '{"version":1,"source":"stripe"}',
    "attributes": {
        "ApproximateReceiveCount": "3",
        "SentTimestamp": "1545082649183",
        "SenderId": "AIDAIENQZJOLO23YVJ4VO",
        "ApproximateFirstReceiveTimestamp": "1545082649185",
    },
    "messageAttributes": {"source": {"stringValue": "stripe", "dataType": "String"}},
    "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
    "eventSource": "aws:sqs",
    "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
    "awsRegion": "us-east-2",
}


def test_the_fields_the_forwarder_reads_are_powertools_own() -> None:
    ours, theirs = SQSRecord(RECORD), PowertoolsRecord(RECORD)
    assert ours.raw_event is RECORD
    assert theirs.raw_event is RECORD
    assert (ours.message_id, ours.receipt_handle, ours.body) == (
        theirs.message_id,
        theirs.receipt_handle,
        theirs.body,
    )
    assert ours.attributes.approximate_receive_count == theirs.attributes.approximate_receive_count == "3"
    assert ours.attributes.sent_timestamp == theirs.attributes.sent_timestamp == "1545082649183"


@pytest.mark.parametrize("missing", ["ApproximateReceiveCount", "SentTimestamp"])
def test_a_missing_attribute_is_a_key_error_as_in_powertools(missing: str) -> None:
    record = {**RECORD, "attributes": {k: v for k, v in RECORD["attributes"].items() if k != missing}}
    name = {"ApproximateReceiveCount": "approximate_receive_count", "SentTimestamp": "sent_timestamp"}[missing]
    for reader in (SQSRecord(record), PowertoolsRecord(record)):
        with pytest.raises(KeyError):
            getattr(reader.attributes, name)
