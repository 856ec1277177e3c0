"""The local Ours Platform API: the bearer key, the allowlist draft, publishing, faults and control endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from webhook_translator_tools.local.platform_server import DEV_API_KEY, LocalPlatform, PlatformFault

AUTH = {"Authorization": f"Bearer {DEV_API_KEY}"}


@pytest.fixture
def platform() -> Iterator[LocalPlatform]:
    with LocalPlatform() as server:
        yield server


def call(platform: LocalPlatform, method: str, path: str, body: Any = None, **headers: str) -> requests.Response:
    return requests.request(method, platform.url + path, json=body, headers=headers or AUTH, timeout=5)


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer wrong-key", f"Basic {DEV_API_KEY}"])
def test_an_absent_or_wrong_key_gets_401(platform: LocalPlatform, header: str) -> None:
    response = call(platform, "GET", "/rest/v1/allowed-events", Authorization=header)

    assert response.status_code == 401
    assert "error" in response.json()


def test_added_names_are_listed_from_the_draft_and_live_only_once_published(platform: LocalPlatform) -> None:
    # When a name is added
    created = call(platform, "POST", "/rest/v1/allowed-events", {"name": " Invoice Paid "})

    # Then it is an entity in the listed draft, not yet live
    assert created.status_code == 200
    assert created.json()["name"] == "Invoice Paid"
    assert created.json()["destinationIds"] == []
    listed = call(platform, "GET", "/rest/v1/allowed-events").json()
    assert [e["name"] for e in listed["entities"]] == ["Invoice Paid"]
    assert platform.published == []
    diff = call(platform, "GET", "/rest/v1/versions/draft/diff").json()
    assert diff["count"] == 1
    assert diff["differences"]["allowedEvents"]["added"] == [{"id": created.json()["id"], "name": "Invoice Paid"}]

    # When the draft is published, then it is live and nothing is left to publish
    version = call(platform, "POST", "/rest/v1/versions", {})
    assert version.status_code == 200
    assert version.json()["versionNumber"] == 1
    assert platform.published == ["Invoice Paid"]
    assert call(platform, "GET", "/rest/v1/versions/draft/diff").json()["count"] == 0
    again = call(platform, "POST", "/rest/v1/versions", {})
    assert again.status_code == 409
    assert "no draft changes" in again.json()["error"]


@pytest.mark.parametrize("name", ["invoice paid", "INVOICE PAID", "Invoice Paid"])
def test_a_duplicate_in_any_case_gets_409(platform: LocalPlatform, name: str) -> None:
    platform.seed(["Invoice Paid"])

    response = call(platform, "POST", "/rest/v1/allowed-events", {"name": name})

    assert response.status_code == 409
    assert "already exists" in response.json()["error"]
    assert platform.draft == ["Invoice Paid"]


@pytest.mark.parametrize("name", ["", "   ", "$pageview", "x" * 1001])
def test_invalid_names_get_409_with_the_reason(platform: LocalPlatform, name: str) -> None:
    response = call(platform, "POST", "/rest/v1/allowed-events", {"name": name})

    assert response.status_code == 409
    assert response.json()["error"]
    assert platform.draft == []


def test_system_names_are_hidden_from_the_list(platform: LocalPlatform) -> None:
    platform.seed(["$identify", "Form Submitted"])

    listed = call(platform, "GET", "/rest/v1/allowed-events").json()

    assert [e["name"] for e in listed["entities"]] == ["Form Submitted"]


def test_publish_running_fault_answers_409_then_publishing_works(platform: LocalPlatform) -> None:
    platform.seed(["A"], published=False)
    platform.inject(PlatformFault.publish_running(times=1))

    refused = call(platform, "POST", "/rest/v1/versions", {})
    accepted = call(platform, "POST", "/rest/v1/versions", {})

    assert refused.status_code == 409
    assert "in flight" in refused.json()["error"]
    assert accepted.status_code == 200
    assert platform.published == ["A"]


@pytest.mark.parametrize("status", [401, 500, 503])
def test_status_faults_apply_to_the_matching_calls_only(platform: LocalPlatform, status: int) -> None:
    platform.inject(PlatformFault(status, "boom", "GET", "/rest/v1/allowed-events"))

    assert call(platform, "GET", "/rest/v1/allowed-events").status_code == status
    assert call(platform, "POST", "/rest/v1/allowed-events", {"name": "A"}).status_code == 200


def test_control_endpoints_drive_it_from_another_process(platform: LocalPlatform) -> None:
    control = platform.url + "/_control"
    assert requests.get(control + "/health", timeout=5).json() == {"ok": True}
    seeded = requests.post(control + "/seed", json={"names": ["Form Submitted"], "published": False}, timeout=5)
    assert seeded.status_code == 200
    fault = {"status": 423, "error": "locked", "method": "POST", "path": "/rest/v1/versions", "times": 1}
    assert requests.post(control + "/faults", json=fault, timeout=5).status_code == 201
    assert requests.post(control + "/faults", json={"kind": "drop"}, timeout=5).status_code == 400

    assert call(platform, "POST", "/rest/v1/versions", {}).status_code == 423
    assert requests.get(control + "/faults", timeout=5).json() == []
    assert call(platform, "POST", "/rest/v1/versions", {}).status_code == 200

    state = requests.get(control + "/state", timeout=5).json()
    assert state == {"draft": ["Form Submitted"], "published": ["Form Submitted"], "versions": 1}
    recorded = requests.get(control + "/requests", timeout=5).json()
    assert [r["status"] for r in recorded] == [423, 200]
    assert DEV_API_KEY not in str(recorded)
