"""``ours allowlist``: what the sources can emit against the Ours allowlist, through the local Platform API."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Iterator

import pytest
from cli_support import Result, Run

from webhook_translator.config import TranslatorConfig
from webhook_translator.sources.registry import REGISTRY
from webhook_translator_tools.cli.sources import allowlist_names, source_rows
from webhook_translator_tools.local.platform_server import DEV_API_KEY, LocalPlatform, PlatformFault

#: already allowlisted and published, in another case than the sources name them
SEEDED = ("checkout completed", "FORM SUBMITTED")
ADD = "/rest/v1/allowed-events"


def emitted(config: str = "{}") -> list[str]:
    names: list[str] = allowlist_names(source_rows(REGISTRY, TranslatorConfig.model_validate(json.loads(config))))
    return names


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def platform(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalPlatform]:
    with LocalPlatform() as server:
        server.seed(SEEDED)
        monkeypatch.setenv("OURS_PLATFORM_URL", server.url)
        monkeypatch.setenv("OURS_API_KEY", DEV_API_KEY)
        yield server


def answer(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", _Tty(text))


def missing_lines(result: Result) -> list[str]:
    """The stdout lines before the summary: the missing names."""
    lines = result.out.splitlines()
    return lines[: next(i for i, line in enumerate(lines) if "event names missing" in line)]


def publishes(platform: LocalPlatform) -> int:
    return sum(1 for r in platform.requests if (r.method, r.path) == ("POST", "/rest/v1/versions"))


def test_lists_exactly_the_missing_names_case_insensitively(run: Run, platform: LocalPlatform) -> None:
    # Given the allowlist holds two of the names, in another case
    expected = [n for n in emitted() if n.lower() not in {s.lower() for s in SEEDED}]

    # When the allowlist is compared
    result = run("ours", "allowlist")

    # Then exactly the other names are printed, one per line, and nothing changes
    assert result.code == 0, result.err
    assert missing_lines(result) == expected
    assert f"{len(expected)} of {len(emitted())} event names missing" in result.out
    assert platform.draft == sorted(SEEDED, key=str.lower)
    assert publishes(platform) == 0


def test_renamed_events_are_compared_under_their_new_name(
    run: Run, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given TRANSLATOR_CONFIG renames invoice.paid and drops charge.refunded
    config = (
        '{"sources": {"stripe": {"rename": {"invoice.paid": "Subscription Renewed"}, "drop": ["charge.refunded"]}}}'
    )
    monkeypatch.setenv("TRANSLATOR_CONFIG", config)

    # When the allowlist is compared
    result = run("ours", "allowlist")

    # Then the new name is missing, and neither the old nor the dropped one is asked for
    assert result.code == 0, result.err
    assert "Subscription Renewed" in missing_lines(result)
    assert "Invoice Paid" not in missing_lines(result)
    assert "Charge Refunded" not in missing_lines(result)
    assert missing_lines(result) == [n for n in emitted(config) if n.lower() not in {s.lower() for s in SEEDED}]


def test_apply_with_yes_adds_every_missing_name_and_publishes_once(run: Run, platform: LocalPlatform) -> None:
    # When --apply --yes runs
    result = run("ours", "allowlist", "--apply", "--yes")

    # Then every emitted name is on the published allowlist, after one publish
    assert result.code == 0, result.err
    live = {n.lower() for n in platform.published}
    assert all(name.lower() in live for name in emitted())
    assert publishes(platform) == 1
    assert len(platform.versions) == 1
    assert "published the Ours draft as version 1" in result.out


def test_a_second_apply_finds_nothing_and_publishes_nothing(run: Run, platform: LocalPlatform) -> None:
    # Given a first --apply ran
    assert run("ours", "allowlist", "--apply", "--yes").code == 0
    before = len(platform.requests)

    # When it runs again
    result = run("ours", "allowlist", "--apply", "--yes")

    # Then nothing is missing, nothing is added and nothing is published
    assert result.code == 0, result.err
    assert missing_lines(result) == []
    assert "Nothing to change" in result.out
    assert [(r.method, r.path) for r in platform.requests[before:]] == [
        ("GET", "/rest/v1/allowed-events"),
        ("GET", "/rest/v1/versions/draft/diff"),
    ]
    assert publishes(platform) == 1


def test_apply_asks_first_and_y_applies(run: Run, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the user answers y on the terminal
    answer(monkeypatch, "y\n")
    count = len(emitted()) - len(SEEDED)

    # When --apply runs without --yes
    result = run("ours", "allowlist", "--apply")

    # Then it asked with the count, and applied
    assert f"Add {count} event names and publish? [y/N]" in result.err
    assert result.code == 0, result.err
    assert publishes(platform) == 1


@pytest.mark.parametrize("reply", ["n\n", "\n", "nope\n"])
def test_apply_asks_first_and_anything_but_yes_changes_nothing(
    run: Run, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch, reply: str
) -> None:
    # Given the user does not answer yes
    answer(monkeypatch, reply)

    # When --apply runs without --yes
    result = run("ours", "allowlist", "--apply")

    # Then nothing was added or published
    assert result.code != 0
    assert "Nothing changed." in result.out
    assert not [r for r in platform.requests if r.method == "POST"]


def test_apply_without_a_terminal_or_yes_refuses_in_one_line(
    run: Run, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given stdin is not a terminal (a pipe, CI)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))

    # When --apply runs without --yes
    result = run("ours", "allowlist", "--apply")

    # Then it refuses in one line, before calling Ours at all
    assert result.one_line_error
    assert "--yes" in result.err
    assert platform.requests == []


def test_a_missing_api_key_is_one_line(run: Run, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OURS_API_KEY")

    result = run("ours", "allowlist")

    assert result.one_line_error
    assert "OURS_API_KEY is not set" in result.err
    assert platform.requests == []


def test_a_refused_key_is_one_line_and_never_printed(
    run: Run, platform: LocalPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a key the Platform API does not accept
    key = "wrong-key-0123456789abcdef"
    monkeypatch.setenv("OURS_API_KEY", key)

    # When the allowlist is compared
    result = run("ours", "allowlist", "--apply", "--yes")

    # Then one line names the cause, without the key
    assert result.one_line_error
    assert "401" in result.err
    assert "OURS_API_KEY" in result.err
    assert key not in result.err + result.out


def test_a_key_without_the_scope_is_one_line(run: Run, platform: LocalPlatform) -> None:
    platform.inject(PlatformFault(403, "Forbidden", "POST", "/rest/v1/allowed-events"))

    result = run("ours", "allowlist", "--apply", "--yes")

    assert result.code != 0
    assert len(result.err.strip().splitlines()) == 1
    assert "403" in result.err
    assert "scope" in result.err
    assert DEV_API_KEY not in result.err + result.out


def test_409_on_add_counts_as_already_there(run: Run, platform: LocalPlatform) -> None:
    # Given Ours answers 409 (duplicate) to the first add — someone added it meanwhile
    platform.inject(PlatformFault(409, "An allowed event with this name already exists", "POST", ADD, times=1))

    # When --apply runs
    result = run("ours", "allowlist", "--apply", "--yes")

    # Then that name is reported as present, the rest are added, and the draft is published once
    assert result.code == 0, result.err
    assert "(already on the allowlist)" in result.out
    assert publishes(platform) == 1


def test_a_name_ours_refuses_is_reported_and_the_rest_published(run: Run, platform: LocalPlatform) -> None:
    platform.inject(PlatformFault(409, "Event name is longer than 1000 characters", "POST", ADD, times=1))

    result = run("ours", "allowlist", "--apply", "--yes")

    assert result.code != 0
    assert "refused" in result.out
    assert "longer than" in result.out
    assert publishes(platform) == 1


def test_publish_already_running_is_clear_and_a_rerun_publishes(run: Run, platform: LocalPlatform) -> None:
    # Given another publish is in flight
    platform.inject(PlatformFault.publish_running(times=1))

    # When --apply runs
    first = run("ours", "allowlist", "--apply", "--yes")

    # Then it fails in one line that says to run again, and the names wait in the draft
    assert first.one_line_error
    assert "another publish" in first.err
    assert "again" in first.err
    assert platform.published == sorted(SEEDED, key=str.lower)

    # When it is run again, then it publishes what waits (nothing left to add), once
    second = run("ours", "allowlist", "--apply", "--yes")
    assert second.code == 0, second.err
    assert missing_lines(second) == []
    assert "in the draft, not published" in second.out
    assert {n.lower() for n in emitted()} <= {n.lower() for n in platform.published}
    assert publishes(platform) == 2  # the refused one and this one

    # And a third run does nothing
    assert "Nothing to change" in run("ours", "allowlist", "--apply", "--yes").out


def test_a_server_error_is_one_line(run: Run, platform: LocalPlatform) -> None:
    platform.inject(PlatformFault(503, "Service Unavailable", "GET", "/rest/v1/allowed-events"))

    result = run("ours", "allowlist")

    assert result.one_line_error
    assert "503" in result.err
    assert "try again" in result.err


def test_connection_refused_is_one_line(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a port nothing listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("OURS_PLATFORM_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("OURS_API_KEY", DEV_API_KEY)

    result = run("ours", "allowlist")

    assert result.one_line_error
    assert "cannot reach" in result.err
    assert "OURS_PLATFORM_URL" in result.err


def test_json_output(run: Run, platform: LocalPlatform) -> None:
    result = run("ours", "allowlist", "--apply", "--yes", "--json")

    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["missing"] == [n for n in emitted() if n.lower() not in {s.lower() for s in SEEDED}]
    assert document["added"] == document["missing"]
    assert document["published"].startswith("published")


def test_tolerates_a_plain_list_answer() -> None:
    from webhook_translator_tools.cli.ours import _entities

    assert _entities([{"name": "A"}]) == [{"name": "A"}]
    assert _entities({"data": [{"name": "A"}]}) == [{"name": "A"}]
    assert _entities({"data": {"entities": ["A"]}}) == ["A"]
    assert _entities({"nothing": 1}) is None
