"""A queue in simulated time: SQS's visibility and receive counts, driven by an injected clock.

moto's SQS runs on the wall clock; an hour-long outage cannot be waited for. This stand-in keeps
what the forwarder relies on — a message is hidden while in flight, for the visibility the
forwarder sets (``change_message_visibility``), counts its receives, carries its attributes and
sent timestamp — plus the DLQ the forwarder sends to and the queue's own redrive at
``max_receive_count``. It is the forwarder's ``sqs`` client and the event source at once.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from support.apigw import sqs_event


@dataclass
class Clock:
    now: float

    def __call__(self) -> float:
        return self.now


@dataclass
class _Message:
    id: str
    body: str
    attributes: dict[str, Any]
    sent: float
    receives: int = 0
    visible_at: float = 0.0
    handle: str = ""


@dataclass
class SimQueue:
    clock: Clock
    visibility: int = 180
    max_receive_count: int = 200
    messages: dict[str, _Message] = field(default_factory=dict)
    dead: list[dict[str, Any]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    # --- the receiver's side
    def send(self, body: str, attributes: dict[str, Any] | None = None) -> str:
        ident = f"m-{next(self._ids)}"
        self.messages[ident] = _Message(ident, body, attributes or {}, sent=self.clock.now, visible_at=self.clock.now)
        return ident

    # --- the event source mapping
    def receive(self, batch: int) -> dict[str, Any]:
        now = self.clock.now
        out: list[dict[str, Any]] = []
        for message in sorted(self.messages.values(), key=lambda m: m.visible_at):
            if len(out) >= batch or message.visible_at > now:
                continue
            if message.receives >= self.max_receive_count:  # the redrive policy
                del self.messages[message.id]
                self.dead.append({"Body": message.body, "MessageAttributes": {}, "by": "redrive"})
                continue
            message.receives += 1
            message.visible_at = now + self.visibility
            message.handle = f"{message.id}#{message.receives}"
            out.append(
                {
                    "MessageId": message.id,
                    "ReceiptHandle": message.handle,
                    "Body": message.body,
                    "Attributes": {
                        "ApproximateReceiveCount": str(message.receives),
                        "SentTimestamp": str(int(message.sent * 1000)),
                    },
                    "MessageAttributes": message.attributes,
                }
            )
        return sqs_event(out)

    def settle(self, event: dict[str, Any], result: dict[str, Any]) -> None:
        """Delete what the forwarder did not report failed (Lambda's partial batch response)."""
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for record in event["Records"]:
            if record["messageId"] not in failed:
                self.messages.pop(record["messageId"], None)

    def receive_ready(self) -> bool:
        return any(m.visible_at <= self.clock.now for m in self.messages.values())

    def next_visible(self) -> float | None:
        return min((m.visible_at for m in self.messages.values()), default=None)

    # --- the forwarder's SQS client
    def change_message_visibility(self, *, QueueUrl: str, ReceiptHandle: str, VisibilityTimeout: int) -> None:
        ident = ReceiptHandle.split("#")[0]
        if ident in self.messages:
            self.messages[ident].visible_at = self.clock.now + VisibilityTimeout

    def send_message(self, *, QueueUrl: str, MessageBody: str, MessageAttributes: dict[str, Any]) -> dict[str, str]:
        self.dead.append({"Body": MessageBody, "MessageAttributes": MessageAttributes, "by": "forwarder"})
        return {"MessageId": f"d-{len(self.dead)}"}
