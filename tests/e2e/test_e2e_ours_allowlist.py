"""``ours allowlist`` against the local Platform API that ``serve`` starts, with the export line it prints."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterator

import pytest
import requests
from test_serve import CLI, Serve, child_env, start_serve, stop, wait_until_ready

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Serve, dict[str, str]]]:
    serve = start_serve()
    try:
        wait_until_ready(serve)
        line = serve.wait_for_line(r"^\s+export (OURS_PLATFORM_URL=.+)$").group(1)
        yield serve, dict(item.split("=", 1) for item in shlex.split(line))
    finally:
        stop(serve)


def allowlist(exports: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "ours", "allowlist", *args],
        env=child_env(**exports),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_serve_prints_a_platform_export_line_and_apply_is_idempotent(served: tuple[Serve, dict[str, str]]) -> None:
    serve, exports = served
    # Given the export line serve printed
    assert set(exports) == {"OURS_PLATFORM_URL", "OURS_API_KEY"}
    assert exports["OURS_PLATFORM_URL"].startswith("http://127.0.0.1:")

    # When the allowlist is listed, then every name is missing (the local allowlist starts empty)
    listed = allowlist(exports)
    assert listed.returncode == 0, listed.stderr
    assert "Checkout Completed" in listed.stdout.splitlines()

    # When --apply runs without a terminal or --yes, then it refuses in one line
    refused = allowlist(exports, "--apply")
    assert refused.returncode != 0
    assert len(refused.stderr.strip().splitlines()) == 1

    # When --apply --yes runs twice, then the first publishes once and the second changes nothing
    first = allowlist(exports, "--apply", "--yes")
    assert first.returncode == 0, first.stderr
    second = allowlist(exports, "--apply", "--yes")
    assert second.returncode == 0, second.stderr
    assert "Nothing to change" in second.stdout
    state = requests.get(exports["OURS_PLATFORM_URL"] + "/_control/state", timeout=5).json()
    assert state["versions"] == 1
    assert "Checkout Completed" in state["published"]
    serve.drain_output()
    assert exports["OURS_API_KEY"] not in "\n".join(line for line in serve.lines if "platform " in line)
