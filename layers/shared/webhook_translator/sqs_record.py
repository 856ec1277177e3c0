"""One record of an SQS event, read as Powertools' ``SQSRecord`` reads it — at a fraction of the import.

``aws_lambda_powertools.utilities.data_classes.sqs_event`` cannot be imported alone: its package
imports every one of Powertools' ~30 event classes (API Gateway, Kinesis, S3 batch, Cognito…),
about 45 % of Powertools' import time in the forwarder, which reads five fields of a record.
These read them the same way (the same keys, the same ``KeyError`` for a missing one); a test
checks them against Powertools' own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

__all__ = ["SQSRecord", "SQSRecordAttributes"]


class SQSRecordAttributes:
    """The record's ``attributes`` (SQS's system attributes, all strings)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @property
    def approximate_receive_count(self) -> str:
        return cast(str, self._data["ApproximateReceiveCount"])

    @property
    def sent_timestamp(self) -> str:
        """Milliseconds since the epoch, as text."""
        return cast(str, self._data["SentTimestamp"])


class SQSRecord:
    """One element of an SQS event's ``Records``."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @property
    def raw_event(self) -> Mapping[str, Any]:
        return self._data

    @property
    def message_id(self) -> str:
        return cast(str, self._data["messageId"])

    @property
    def receipt_handle(self) -> str:
        return cast(str, self._data["receiptHandle"])

    @property
    def body(self) -> str:
        return cast(str, self._data["body"])

    @property
    def attributes(self) -> SQSRecordAttributes:
        return SQSRecordAttributes(self._data["attributes"])
