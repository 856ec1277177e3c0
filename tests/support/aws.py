"""moto-backed queues for the integration tests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class Queues:
    sqs: Any
    queue_url: str
    dlq_url: str

    def drain(self, url: str | None = None, *, visibility: int = 0) -> list[dict[str, Any]]:
        """Every visible message of a queue (left in place when ``visibility`` is 0)."""
        out: list[dict[str, Any]] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=url or self.queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                VisibilityTimeout=visibility or 30,
            ).get("Messages", [])
            if not got:
                break
            out.extend(got)
        if not visibility:
            for m in out:
                self.sqs.change_message_visibility(
                    QueueUrl=url or self.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
        return out

    def count(self, url: str | None = None) -> int:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def make_queues(sqs: Any, max_receive_count: int = 3) -> Queues:
    """A queue and its DLQ wired like template.yaml (redrive by maxReceiveCount)."""
    dlq_url = sqs.create_queue(QueueName="webhooks-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName="webhooks",
        Attributes={
            "VisibilityTimeout": "180",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}),
        },
    )["QueueUrl"]
    return Queues(sqs=sqs, queue_url=queue_url, dlq_url=dlq_url)


def poll_once(queues: Queues, handler: Any, *, batch: int = 10) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One turn of Lambda's SQS event source mapping: receive, invoke, delete what did not fail."""
    from support.apigw import sqs_event

    messages = queues.sqs.receive_message(
        QueueUrl=queues.queue_url,
        MaxNumberOfMessages=batch,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    ).get("Messages", [])
    if not messages:
        return [], {"batchItemFailures": []}
    result = handler(sqs_event(messages))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failed:
            queues.sqs.delete_message(QueueUrl=queues.queue_url, ReceiptHandle=m["ReceiptHandle"])
    return messages, result


def make_visible() -> None:
    """Let time pass: every in-flight message in moto's SQS becomes visible again."""
    from moto.sqs.models import sqs_backends

    for backend in sqs_backends.values():
        for region in backend.values():
            for queue in region.queues.values():
                for message in queue._messages:
                    message.visible_at = 0


def hidden_for(queues: Queues) -> list[float]:
    """Seconds until each in-flight message of the main queue is visible again."""
    import time

    from moto.sqs.models import sqs_backends

    name = queues.queue_url.rsplit("/", 1)[-1]
    now = time.time() * 1000
    out = []
    for backend in sqs_backends.values():
        for region in backend.values():
            queue = region.queues.get(name)
            if queue is not None:
                out += [(m.visible_at - now) / 1000 for m in queue._messages if m.visible_at > now]
    return out
