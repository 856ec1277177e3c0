"""The translator configuration document: one of three places, validated whole, bad ones fail the init in one line."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from webhook_translator.aws import at_init
from webhook_translator.config import InvalidConfiguration, Settings
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.translator_config import ConfigInvalid, load

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"sources": {"stripe": {"rename": {"invoice.paid": "Paid"}, "drop": ["charge.refunded"]}}}


def write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "translator.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_no_document_is_the_defaults() -> None:
    translation = load(Settings())
    assert translation.origin == "defaults"
    assert translation.registry is REGISTRY
    assert translation.config.sources == {}


@pytest.mark.usefixtures("aws_env")
def test_inline_file_and_parameter_give_the_same_document(tmp_path: Path) -> None:
    # Given the same document inline, in a file and in an SSM parameter
    inline = load(Settings(TRANSLATOR_CONFIG=json.dumps(GOOD)))
    from_file = load(Settings(TRANSLATOR_CONFIG_FILE=str(write(tmp_path, GOOD))))
    with mock_aws():
        boto3.client("ssm").put_parameter(Name="/wt/config", Value=json.dumps(GOOD), Type="SecureString")
        from_parameter = load(Settings(TRANSLATOR_CONFIG_PARAMETER="/wt/config"))
    # Then each reads it, and says where it came from
    assert inline.config == from_file.config == from_parameter.config
    assert inline.config.source("stripe").rename == {"invoice.paid": "Paid"}
    assert (inline.origin, from_file.origin, from_parameter.origin) == (
        "TRANSLATOR_CONFIG",
        f"TRANSLATOR_CONFIG_FILE={tmp_path / 'translator.json'}",
        "TRANSLATOR_CONFIG_PARAMETER=/wt/config",
    )


def test_two_places_at_once_are_refused(tmp_path: Path) -> None:
    env = {"TRANSLATOR_CONFIG": json.dumps(GOOD), "TRANSLATOR_CONFIG_FILE": str(write(tmp_path, GOOD))}
    with pytest.raises(InvalidConfiguration) as caught:
        Settings.from_env(env)
    assert "set only one of TRANSLATOR_CONFIG, TRANSLATOR_CONFIG_FILE" in str(caught.value)


@pytest.mark.parametrize(
    ("document", "fault"),
    [
        ("{not json", "not valid JSON (line 1 column 2"),
        ('{"sources": {"stripe": {"rename": {}, "rename": {}}}}', "the key 'rename' appears twice in one object"),
        ({"sources": {"stripe": {"rnme": {}}}}, "sources.stripe.rnme: unknown key"),
        ({"source": {}}, "source: unknown key"),
        ({"sources": {"stripe": {"drop": "charge.refunded"}}}, "sources.stripe.drop:"),
        ({"sources": {"strpe": {}}}, "sources.strpe: unknown source (known: acuity, "),
        ({"sources": {"stripe": {"options": {"nope": 1}}}}, "sources.stripe.options: invalid (nope)"),
        (b"\xff\xfe", "not UTF-8 text"),
    ],
)
def test_every_fault_is_named_in_one_line(tmp_path: Path, document: object, fault: str) -> None:
    path = tmp_path / "translator.json"
    path.write_bytes(
        document
        if isinstance(document, bytes)
        else (document if isinstance(document, str) else json.dumps(document)).encode()
    )
    with pytest.raises(ConfigInvalid) as caught:
        load(Settings(TRANSLATOR_CONFIG_FILE=str(path)))
    message = str(caught.value)
    assert message.startswith(f"invalid translator configuration (TRANSLATOR_CONFIG_FILE={path}): ")
    assert fault in message
    assert "\n" not in message


def test_several_faults_are_all_named() -> None:
    document = {"sources": {"strpe": {}, "stripe": {"options": {"external_id_metadata": "u"}}}}
    with pytest.raises(ConfigInvalid) as caught:
        load(Settings(TRANSLATOR_CONFIG=json.dumps(document)))
    assert caught.value.faults == (
        "sources.stripe.options: invalid (external_id_metadata)",
        f"sources.strpe: unknown source (known: {', '.join(sorted(REGISTRY))})",
    )


@pytest.mark.usefixtures("aws_env")
def test_an_unreadable_file_or_parameter_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigInvalid, match=r"cannot read the file \(No such file or directory\)"):
        load(Settings(TRANSLATOR_CONFIG_FILE=str(tmp_path / "missing.json")))
    with mock_aws(), pytest.raises(ConfigInvalid, match=r"cannot read the SSM parameter \(ParameterNotFound\)"):
        load(Settings(TRANSLATOR_CONFIG_PARAMETER="/wt/missing"))


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """at_init freezes what the process holds (the Lambda's init): the test process gets it back after."""
    yield
    gc.unfreeze()
    gc.enable()


@pytest.mark.usefixtures("unfrozen")
def test_at_init_fails_on_invalid_configuration_and_defers_the_rest() -> None:
    def bad() -> None:
        raise ConfigInvalid("TRANSLATOR_CONFIG", ["sources.strpe: unknown source"])

    def no_aws() -> None:
        raise RuntimeError("QUEUE_URL is not set")

    with pytest.raises(InvalidConfiguration):
        at_init(bad)
    assert at_init(no_aws) is False


@pytest.mark.usefixtures("unfrozen")
@pytest.mark.parametrize("fails", [False, True])
def test_at_init_builds_without_the_cyclic_collector_then_freezes_what_it_made(fails: bool) -> None:
    seen: list[bool] = []

    def build() -> None:
        seen.append(gc.isenabled())
        if fails:
            raise RuntimeError("QUEUE_URL is not set")

    gc.unfreeze()
    # When the init builds (or cannot yet)
    built = at_init(build)
    # Then the collector was paused while it ran, is on again after, and the init's objects are frozen
    assert (built, seen) == (not fails, [False])
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("unfrozen")
def test_at_init_leaves_a_paused_collector_paused_and_freezes_nothing() -> None:
    gc.unfreeze()
    gc.disable()
    assert at_init(lambda: None) is True
    assert not gc.isenabled()
    assert gc.get_freeze_count() == 0


@pytest.mark.parametrize("function", ["receiver", "forwarder"])
def test_a_function_with_an_invalid_document_fails_its_init_in_one_line(function: str, tmp_path: Path) -> None:
    # Given a deployed function's environment with a misspelt source in its document
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRANSLATOR_CONFIG", "AWS_"))}
    env |= {
        "TRANSLATOR_CONFIG_FILE": str(write(tmp_path, {"sources": {"strpe": {}}})),
        "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
        "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
        "SECRET_ID": "webhook-translator",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONPATH": str(ROOT / "functions" / function),
    }
    # When Lambda imports the handler (its init phase)
    done = subprocess.run(
        [sys.executable, "-c", "import app"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    # Then the init fails, and the last line names the fault
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "invalid translator configuration (TRANSLATOR_CONFIG_FILE=" in last
    assert "sources.strpe: unknown source" in last


# --- declarative sources in the document ------------------------------------------------------------

ACME = {
    "verifier": {"type": "hmac", "header": "X-Acme-Signature", "prefix": "sha256="},
    "id": {"path": "id"},
    "event_type": {"path": "type"},
    "events": {"lead.created": "Lead Created"},
    "identity": {"email": "lower(data.email)"},
}


def test_a_spec_adds_a_source_beside_the_built_in_ones() -> None:
    translation = load(Settings(TRANSLATOR_CONFIG=json.dumps({"sources": {"acme": {"spec": ACME}}})))
    registry = translation.registry
    assert "acme" in registry
    assert registry["acme"].events == {"lead.created": "Lead Created"}
    assert set(registry) == set(REGISTRY) | {"acme"}
    assert len(registry) == len(REGISTRY) + 1
    assert registry["stripe"] is REGISTRY["stripe"]


def test_a_spec_gives_standard_webhooks_its_payload_mapping() -> None:
    spec = {k: v for k, v in ACME.items() if k != "verifier"}
    translation = load(Settings(TRANSLATOR_CONFIG=json.dumps({"sources": {"standard-webhooks": {"spec": spec}}})))
    assert translation.registry["standard-webhooks"] is not REGISTRY["standard-webhooks"]
    assert translation.registry["standard-webhooks"].events == {"lead.created": "Lead Created"}


def test_a_spec_under_another_built_in_name_is_refused() -> None:
    with pytest.raises(ConfigInvalid) as caught:
        load(Settings(TRANSLATOR_CONFIG=json.dumps({"sources": {"stripe": {"spec": ACME}}})))
    assert caught.value.faults == (
        "sources.stripe.spec: 'stripe' is a built-in source; give the declarative one its own name",
    )


def test_a_spec_fault_is_named_by_its_path_in_the_document() -> None:
    bad = {**ACME, "identity": {"email": "lowr(data.email)"}}
    with pytest.raises(ConfigInvalid) as caught:
        load(Settings(TRANSLATOR_CONFIG=json.dumps({"sources": {"acme": {"spec": bad}}})))
    [fault] = caught.value.faults
    assert fault.startswith("sources.acme.spec.identity.email: unknown function 'lowr'")


def test_options_and_renames_of_a_spec_source_are_checked_too() -> None:
    document = {"sources": {"acme": {"spec": ACME, "rename": {"lead.created": "Lead"}, "options": {"x": 1}}}}
    with pytest.raises(ConfigInvalid) as caught:
        load(Settings(TRANSLATOR_CONFIG=json.dumps(document)))
    assert caught.value.faults == ("sources.acme.options: invalid (x)",)
