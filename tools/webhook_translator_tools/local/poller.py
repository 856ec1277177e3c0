"""Lambda's SQS event source mapping, on this machine.

Like the mapping in ``template.yaml`` (``BatchSize`` 100, ``MaximumBatchingWindowInSeconds``
1 s, ``ReportBatchItemFailures``): long-poll the queue, then keep receiving (ten at a time,
SQS's most per call) until the batch is full or the batching window has passed, with every
attribute; build the SQS event Lambda builds, invoke the forwarder,
delete the records that are not in ``batchItemFailures`` and leave the others
to their visibility timeout (the forwarder sets it per message). A handler that
raises, or answers with an identifier that is not in the batch, fails the whole
batch, as on Lambda.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from webhook_translator.redact import redact
from webhook_translator_tools.local.console import Console

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

__all__ = ["SqsPoller", "lambda_attribute", "lambda_record", "sqs_event"]

BATCH_SIZE: Final = 100
BATCHING_WINDOW: Final = 1.0
WAIT_SECONDS: Final = 1
#: SQS returns at most ten messages per ReceiveMessage
RECEIVE_MAX: Final = 10

Invoke = Callable[[dict[str, Any]], Any]


def lambda_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """A message attribute in the shape Lambda passes it (camelCase keys, base64 for binary values), from
    the shape boto3 sends and receives it in."""
    import base64

    out: dict[str, Any] = {}
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    out["stringListValues"] = list(value.get("StringListValues") or [])
    out["binaryListValues"] = [base64.b64encode(v).decode("ascii") for v in value.get("BinaryListValues") or []]
    out["dataType"] = value.get("DataType", "String")
    return out


def lambda_record(message: MessageTypeDef | Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of a Lambda SQS event, from a message as ``receive_message`` returns it."""
    attributes = dict(message.get("Attributes") or {})
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", str(int(time.time() * 1000))),
            "SenderId": attributes.get("SenderId", "AIDAIENQZJOLO23YVJ4VO"),
            "ApproximateFirstReceiveTimestamp": attributes.get(
                "ApproximateFirstReceiveTimestamp", str(int(time.time() * 1000))
            ),
            **{k: v for k, v in attributes.items() if k in ("AWSTraceHeader", "MessageGroupId", "SequenceNumber")},
        },
        "messageAttributes": {k: lambda_attribute(v) for k, v in (message.get("MessageAttributes") or {}).items()},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if message.get("MD5OfMessageAttributes"):
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sqs_event(
    messages: list[MessageTypeDef] | list[Mapping[str, Any]], *, queue_arn: str, region: str
) -> dict[str, Any]:
    return {"Records": [lambda_record(m, queue_arn=queue_arn, region=region) for m in messages]}


class SqsPoller:
    """Polls one queue and invokes one function with its batches, in a background thread."""

    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        queue_arn: str,
        invoke: Invoke,
        *,
        region: str,
        console: Console | None = None,
        batch_size: int = BATCH_SIZE,
        wait_seconds: int = WAIT_SECONDS,
        batching_window: float = BATCHING_WINDOW,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.invoke = invoke
        self.region = region
        self.console = console
        self.batch_size = batch_size
        self.wait_seconds = wait_seconds
        self.batching_window = batching_window
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _say(self, text: str) -> None:
        if self.console is not None:
            self.console.line(text)

    def poll_once(self) -> int:
        """One turn: receive a batch, invoke, delete the successes. Returns how many messages were received."""
        messages = self._receive(self.wait_seconds, self.batch_size)
        if not messages:
            return 0
        deadline = time.monotonic() + self.batching_window
        while len(messages) < self.batch_size and time.monotonic() < deadline and not self._stop.is_set():
            more = self._receive(0, self.batch_size - len(messages))
            messages.extend(more)
            if not more:
                self._stop.wait(0.05)
        event = sqs_event(messages, queue_arn=self.queue_arn, region=self.region)
        ids = {m["MessageId"] for m in messages}
        try:
            result = self.invoke(event)
        except Exception as exc:  # the whole batch stays on the queue, as on Lambda
            self._say(
                f"error: the forwarder raised {type(exc).__name__}: {redact(str(exc), 160)}; "
                f"{len(messages)} message(s) stay on the queue"
            )
            return len(messages)
        failed = _failed_ids(result, ids)
        if failed is None:
            self._say("error: the forwarder's batchItemFailures name unknown records; the whole batch is retried")
            return len(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        self._delete(done)
        return len(messages)

    def _receive(self, wait: int, want: int) -> list[MessageTypeDef]:
        return self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max(1, min(RECEIVE_MAX, want)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])

    def _delete(self, messages: list[MessageTypeDef]) -> None:
        for start in range(0, len(messages), 10):
            chunk = messages[start : start + 10]
            try:
                answer = self.sqs.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
                )
            except Exception as exc:
                self._say(f"warning: could not delete processed messages ({type(exc).__name__}); they will repeat")
                continue
            if answer.get("Failed"):
                self._say(f"warning: {len(answer['Failed'])} processed message(s) not deleted; they will repeat")

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # SQS unreachable for a moment: say so, wait, go on
                if self._stop.is_set():
                    break
                self._say(f"warning: polling the queue failed ({type(exc).__name__}); retrying")
                self._stop.wait(1.0)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="local-sqs-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None


def _failed_ids(result: Any, ids: set[str]) -> set[str] | None:
    """The message ids to keep, from a partial batch response; ``None`` if the response is invalid.

    Lambda: an empty or missing ``batchItemFailures`` means all succeeded; an item with a
    missing, empty or unknown ``itemIdentifier`` fails the whole batch.
    """
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set()
    items = result.get("batchItemFailures")
    if items is None:
        return set()
    if not isinstance(items, list):
        return None
    failed: set[str] = set()
    for item in items:
        ident = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(ident, str) or ident not in ids:
            return None
        failed.add(ident)
    return failed
