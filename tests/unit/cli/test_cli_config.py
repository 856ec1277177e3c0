"""``--config FILE`` on the commands that map, ``config check``, and an invalid document refused up front."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import EVENTS, Run

INVOICE = str(EVENTS / "stripe/invoice-paid.json")


def document(tmp_path: Path, data: object, name: str = "translator.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


def test_config_check_accepts_a_valid_document(run: Run, tmp_path: Path) -> None:
    path = document(tmp_path, {"sources": {"stripe": {"rename": {"invoice.paid": "Paid"}}}})
    result = run("config", "check", path)
    assert result.code == 0, result.err
    assert result.out.strip() == f"{path}: valid — 1 built-in source(s) configured (stripe), 0 declarative"


def test_config_check_names_every_fault_one_line_each(run: Run, tmp_path: Path) -> None:
    path = document(tmp_path, {"sources": {"strpe": {}, "stripe": {"options": {"nope": True}}}})
    result = run("config", "check", path)
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert lines[0] == f"{path}: sources.stripe.options: invalid (nope)"
    assert lines[1].startswith(f"{path}: sources.strpe: unknown source (known: ")
    assert lines[2] == f"{path}: invalid (2 fault(s)); the functions would fail their init"


def test_config_check_refuses_duplicate_keys_and_bad_json(run: Run, tmp_path: Path) -> None:
    duplicate = document(tmp_path, '{"sources": {"stripe": {}, "stripe": {}}}', "dup.json")
    assert "the key 'stripe' appears twice" in run("config", "check", duplicate).err
    broken = document(tmp_path, '{"sources": ', "broken.json")
    assert "not valid JSON (line 1" in run("config", "check", broken).err


def test_config_check_of_a_missing_file_is_one_line(run: Run, tmp_path: Path) -> None:
    result = run("config", "check", str(tmp_path / "nope.json"))
    assert result.one_line_error
    assert "cannot read FILE" in result.err


def test_translate_and_sources_read_config_file(run: Run, tmp_path: Path) -> None:
    path = document(tmp_path, {"sources": {"stripe": {"rename": {"invoice.paid": "Paid"}}}})
    translated = run("translate", "stripe", INVOICE, "--config", path)
    assert translated.code == 0, translated.err
    assert json.loads(translated.out)[0]["event"] == "Paid"
    listed = run("sources", "--config", path)
    assert any(line.split()[:3] == ["stripe", "invoice.paid", "Paid"] for line in listed.out.splitlines())


def test_config_file_wins_over_the_environment(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an environment document that renames differently (as a deployed function's would)
    monkeypatch.setenv("TRANSLATOR_CONFIG", json.dumps({"sources": {"stripe": {"rename": {"invoice.paid": "Env"}}}}))
    path = document(tmp_path, {"sources": {"stripe": {"rename": {"invoice.paid": "File"}}}})
    result = run("translate", "stripe", INVOICE, "--config", path)
    assert json.loads(result.out)[0]["event"] == "File"


@pytest.mark.parametrize(
    "argv",
    [
        ("translate", "stripe", INVOICE),
        ("sources",),
        ("sign", "stripe", str(EVENTS / "stripe/invoice-paid.json")),
        ("serve",),
    ],
)
def test_an_invalid_document_stops_each_command_in_one_line(
    run: Run, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    # Given TRANSLATOR_CONFIG with a misspelt source (which the functions would refuse at init)
    monkeypatch.setenv("TRANSLATOR_CONFIG", json.dumps({"sources": {"strpe": {}}}))
    # Then the command refuses it before doing anything, in one line
    result = run(*argv)
    assert result.one_line_error, result.err
    assert "invalid translator configuration (TRANSLATOR_CONFIG): sources.strpe: unknown source" in result.err
    assert "Ready" not in result.out


def test_an_unknown_option_is_blamed_on_the_configuration_not_the_payload(run: Run, tmp_path: Path) -> None:
    path = document(tmp_path, {"sources": {"stripe": {"options": {"external_id_metadata": "user_id"}}}})
    result = run("translate", "stripe", INVOICE, "--config", path)
    assert result.one_line_error
    assert "sources.stripe.options: invalid (external_id_metadata)" in result.err
    assert "invalid_payload" not in result.err


def test_a_missing_config_file_is_one_line(run: Run, tmp_path: Path) -> None:
    result = run("sources", "--config", str(tmp_path / "nope.json"))
    assert result.one_line_error
    assert "--config" in result.err
    assert "no such file" in result.err


@pytest.mark.usefixtures("aws_env")
def test_serve_hands_the_local_functions_a_copy_of_an_ssm_document(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse
    import os

    import boto3
    from moto import mock_aws

    from webhook_translator.config import Settings
    from webhook_translator.translator_config import load
    from webhook_translator_tools.cli.serve import _use_config

    # recorded as unset, so that the teardown removes what serve sets (delenv of an absent name records nothing)
    monkeypatch.setenv("TRANSLATOR_CONFIG_FILE", "")
    monkeypatch.delenv("TRANSLATOR_CONFIG_FILE")
    document = {"sources": {"stripe": {"rename": {"invoice.paid": "Paid"}, "drop": ["charge.refunded"]}}}
    with mock_aws():
        boto3.client("ssm").put_parameter(Name="/wt/config", Value=json.dumps(document), Type="String")
        monkeypatch.setenv("TRANSLATOR_CONFIG_PARAMETER", "/wt/config")
        # When serve starts with the parameter configured (read from the account)
        _, registry = _use_config(argparse.Namespace(config=None))
    # Then the local functions (which talk to moto, not the account) read the same document from a file
    assert "stripe" in registry
    assert "TRANSLATOR_CONFIG_PARAMETER" not in os.environ
    copy = load(Settings(TRANSLATOR_CONFIG_FILE=os.environ["TRANSLATOR_CONFIG_FILE"]))
    assert copy.config.source("stripe").rename == {"invoice.paid": "Paid"}
    assert copy.config.source("stripe").drop == {"charge.refunded"}
