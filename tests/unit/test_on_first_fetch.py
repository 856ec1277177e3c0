"""The forwarder's provider API client is made by the first fetch, once, whichever thread asks first."""

from __future__ import annotations

import threading
from typing import Any

from webhook_translator.fetch import Fetch, FetchRequest
from webhook_translator.translation import OnFirstFetch

REQUEST = FetchRequest(source="acuity", base_url="https://provider.invalid", path="/appointments/1", what="appointment")


class Api:
    made = 0

    def __init__(self) -> None:
        Api.made += 1
        self.asked: list[tuple[int, FetchRequest]] = []

    def bind(self, attempt: int) -> Fetch:
        def fetch(request: FetchRequest) -> dict[str, Any]:
            self.asked.append((attempt, request))
            return {"id": 1}

        return fetch


def test_binding_makes_nothing_and_the_first_fetch_makes_the_client_once() -> None:
    Api.made = 0
    lazy = OnFirstFetch(Api)
    # When records are bound (every record is) / Then nothing is made
    first, second = lazy.bind(1), lazy.bind(3)
    assert Api.made == 0
    # When their mappers fetch / Then one client is made, and each fetch carries its record's attempt
    assert first(REQUEST) == {"id": 1}
    assert second(REQUEST) == {"id": 1}
    made = lazy.made()
    assert Api.made == 1
    assert isinstance(made, Api)
    assert made.asked == [(1, REQUEST), (3, REQUEST)]


def test_concurrent_first_fetches_share_one_client() -> None:
    Api.made = 0
    lazy = OnFirstFetch(Api)
    start = threading.Barrier(8)

    def fetch() -> None:
        start.wait()
        lazy.bind(1)(REQUEST)

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Api.made == 1
