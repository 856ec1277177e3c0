"""What the local fakes share (:mod:`webhook_translator_tools.local.loopback`): lifecycle and control endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from webhook_translator_tools.local.graph_server import LocalGraph
from webhook_translator_tools.local.loopback import LoopbackService
from webhook_translator_tools.local.ours_server import LocalOurs
from webhook_translator_tools.local.platform_server import LocalPlatform
from webhook_translator_tools.local.provider_server import ProviderFault

Service = LoopbackService[Any, Any]


@pytest.fixture(params=[LocalOurs, LocalPlatform, LocalGraph], ids=["ours", "platform", "graph"])
def fake(request: pytest.FixtureRequest) -> Iterator[Service]:
    with request.param() as service:
        yield service


def control(fake: Service) -> str:
    return f"{fake.base_url}/_control"


def test_every_fake_has_health_requests_and_faults(fake: Service) -> None:
    assert requests.get(f"{control(fake)}/health", timeout=5).json() == {"ok": True}
    assert requests.get(f"{control(fake)}/requests", timeout=5).json() == []
    assert requests.get(f"{control(fake)}/faults", timeout=5).json() == []
    assert requests.post(f"{control(fake)}/faults", data=b"{not json", timeout=5).status_code == 400
    assert requests.delete(f"{control(fake)}/faults", timeout=5).json() == {"ok": True}


def test_a_known_control_path_with_another_method_is_405_and_an_unknown_one_404(
    fake: Service,
) -> None:
    assert requests.patch(f"{control(fake)}/health", timeout=5).status_code in (405, 501)
    assert requests.post(f"{control(fake)}/health", timeout=5).status_code == 405
    assert requests.get(f"{control(fake)}/nope", timeout=5).status_code == 404


def test_an_oversized_control_body_is_413(fake: Service) -> None:
    response = requests.post(f"{control(fake)}/faults", data=b"x" * 1_048_577, timeout=10)
    assert response.status_code == 413


def test_a_stopped_fake_says_it_is_not_running_and_starts_again() -> None:
    graph = LocalGraph()
    with pytest.raises(RuntimeError, match="the local graph is not running"):
        _ = graph.url
    with graph:
        first = graph.port
        graph.inject(ProviderFault("status", times=1))
        assert len(graph.faults) == 1
    graph.stop()  # a second stop does nothing
    with pytest.raises(RuntimeError):
        _ = graph.port
    with graph:
        assert graph.port > 0
        assert requests.get(f"{graph.base_url}/_control/health", timeout=5).ok
    assert first > 0


def test_a_method_a_fake_does_not_serve_is_501() -> None:
    with LocalPlatform() as platform:
        assert requests.put(f"{platform.url}/rest/v1/versions", timeout=5).status_code == 501
    with LocalOurs() as ours:  # the local Ours answers every method (405 where Ours would)
        assert requests.put(f"{ours.url}/track", timeout=5).status_code == 405
