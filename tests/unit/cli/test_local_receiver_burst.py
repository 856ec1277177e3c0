"""The local HTTP adapter takes a burst of concurrent senders: every valid webhook is answered, none reset."""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

from webhook_translator_tools.local.apigw import LISTEN_BACKLOG, ReceiverServer

SENDERS = 64


def test_concurrent_senders_are_all_answered_none_reset() -> None:
    # Given the receiver's HTTP server in front of a function that runs one invocation at a time
    lock = threading.Lock()
    invoked: list[str] = []

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        with lock:
            time.sleep(0.005)
            invoked.append(event["pathParameters"]["source"])
        return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": '{"received":true}'}

    server = ReceiverServer("127.0.0.1", 0, invoke)
    server.start()
    start = threading.Barrier(SENDERS)
    statuses: list[int] = []
    errors: list[str] = []

    def send() -> None:
        start.wait(timeout=30)
        try:
            answer = requests.post(
                f"{server.url}/webhooks/stripe",
                data=b'{"id":"evt_1"}',
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
            statuses.append(answer.status_code)
        except requests.RequestException as exc:
            errors.append(repr(exc))

    # When 64 senders connect at the same moment, each on its own connection
    threads = [threading.Thread(target=send) for _ in range(SENDERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.stop()

    # Then every one got its 200 (no connection reset), and each reached the function once
    assert errors == []
    assert statuses == [200] * SENDERS
    assert len(invoked) == SENDERS
    assert LISTEN_BACKLOG >= SENDERS
