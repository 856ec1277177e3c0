"""Every `--help` describes the options DESIGN.md names; `sources` lists the Ours event names to allowlist."""

from __future__ import annotations

import json

import pytest
from cli_support import Run

from webhook_translator.sources.registry import REGISTRY


@pytest.mark.parametrize(
    ("argv", "options"),
    [
        ([], ["serve", "translate", "sign", "send", "dlq", "sources"]),
        (["serve"], ["--host H", "--port P", "--ours-url URL", "--secrets FILE", "--aws-port N", "--replay DIR"]),
        (["translate"], ["SOURCE", "FILE", '--header "Name: value"']),
        (["sign"], ["SOURCE", "FILE", "--secret S"]),
        (["send"], ["SOURCE", "FILE", "--url URL", "--secret S"]),
        (["dlq"], ["list", "redrive", "AWS_ENDPOINT_URL"]),
        (["dlq", "list"], ["--json", "--dlq-url URL", "DLQ_URL"]),
        (["dlq", "redrive"], ["--source S", "--reason R", "--dlq-url URL", "--queue-url URL", "QUEUE_URL"]),
        (["sources"], ["allowlist"]),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) and v and not v[0].startswith("-") else None,
)
def test_help_names_every_option(run: Run, argv: list[str], options: list[str]) -> None:
    # Given a command / When its help is asked for
    result = run(*argv, "--help")

    # Then it exits 0 and names each option of the CLI table
    assert result.code == 0
    text = " ".join(result.out.split())
    for option in options:
        assert option in text, option


def test_no_command_is_a_usage_error(run: Run) -> None:
    # Given no command / When run / Then argparse's usage error, exit 2
    result = run()
    assert result.code == 2
    assert "required: COMMAND" in result.err


def test_sources_lists_every_source_its_event_types_and_the_names_to_allowlist(run: Run) -> None:
    # Given the registry / When the sources are listed
    result = run("sources")

    # Then every source appears, and each Stripe event type with its Ours name
    assert result.code == 0, result.err
    for name in REGISTRY:
        assert f"\n{name} " in result.out
    assert any(line.split() == ["stripe", "invoice.paid", "Invoice", "Paid"] for line in result.out.splitlines())
    # And the allowlist section names each Ours event once
    allowlist = result.out.split("Allowlist these", 1)[1]
    assert allowlist.count("  Invoice Paid\n") == 1


def test_sources_apply_renames_and_drops_from_translator_config(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a rename and a drop configured without code
    config = {"sources": {"stripe": {"rename": {"invoice.paid": "Renewal Paid"}, "drop": ["charge.refunded"]}}}
    monkeypatch.setenv("TRANSLATOR_CONFIG", json.dumps(config))

    # When the sources are listed
    result = run("sources")

    # Then the renamed event shows its new name, the dropped one says so, and neither old name is to allowlist
    assert result.code == 0, result.err
    lines = {tuple(line.split(None, 2)) for line in result.out.splitlines() if line.startswith("stripe ")}
    assert ("stripe", "invoice.paid", "Renewal Paid") in lines
    assert ("stripe", "charge.refunded", "(dropped by TRANSLATOR_CONFIG)") in lines
    allowlist = result.out.split("Allowlist these", 1)[1]
    assert "  Renewal Paid\n" in allowlist
    assert "Charge Refunded" not in allowlist
