"""`translate` for a source that fetches (facebook-leads, acuity): `--fetch-from URL` and `--secrets FILE`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import EVENTS, Run

from webhook_translator_tools.local.graph_server import LocalGraph
from webhook_translator_tools.local.provider_server import ProviderFault

TOKEN = "page-token-for-the-cli-test"


@pytest.fixture
def graph() -> Iterator[LocalGraph]:
    fake = LocalGraph(tokens={TOKEN})
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def secrets(tmp_path: Path) -> Path:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"ours_token": "t", "sources": {"facebook-leads": {"api_token": TOKEN}}}))
    return path


def test_a_lead_is_fetched_from_the_given_base_url_with_the_given_credential(
    run: Run, graph: LocalGraph, secrets: Path
) -> None:
    # Given the local Graph fake accepting only the token of --secrets
    # When a leadgen sample is translated against it
    result = run(
        "translate", "facebook-leads", str(EVENTS / "facebook-leads/leadgen.json"),
        "--fetch-from", graph.url, "--secrets", str(secrets),
    )  # fmt: skip
    # Then the lead's payload is printed, and one fetch was made
    assert result.code == 0, result.err
    [body] = json.loads(result.out)
    assert body["distinctId"] == "facebook-leads:2120387161554301"
    assert body["email"] == "morgan.okafor@example.com"
    assert [c.status for c in graph.calls] == [200]


def test_a_refused_fetch_is_the_one_line_error_with_its_reason(run: Run, graph: LocalGraph, secrets: Path) -> None:
    graph.inject(ProviderFault("status", status=401))
    result = run(
        "translate", "facebook-leads", str(EVENTS / "facebook-leads/leadgen_several.json"),
        "--fetch-from", graph.url, "--secrets", str(secrets),
    )  # fmt: skip
    assert result.one_line_error, result
    assert "provider_auth" in result.err
    assert TOKEN not in result.err
    assert result.out == ""


def test_fetch_from_must_be_an_http_url(run: Run) -> None:
    result = run("translate", "acuity", str(EVENTS / "acuity/scheduled.json"), "--fetch-from", "ftp://x")
    assert result.one_line_error, result
    assert "--fetch-from" in result.err
