"""docs/custom-sources.md's worked examples do what the page says (the engine half; the CLI runs them too)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from spec_support import bodies, envelope, translate

from webhook_translator.spec import compile_spec

DOC = Path(__file__).resolve().parents[3] / "docs" / "custom-sources.md"


def json_blocks() -> list[Any]:
    """The page's JSON documents (the sketches with ``…`` placeholders are not documents)."""
    found = []
    for block in re.findall(r"```json\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S):
        try:
            document = json.loads(block)
        except ValueError:
            continue
        if isinstance(document, dict):
            found.append(document)
    return found


@pytest.mark.parametrize(("name", "expected"), [
    ("acme", {"event": "Lead Created", "externalId": "4821", "email": "jamie@example.com", "distinctId": "acme:evt_1",
              "userProperties": {"first_name": "Jamie"}, "eventProperties": {"plan": "team"}}),
    ("standard-webhooks", {"event": "Invoice Paid", "externalId": "c_9", "email": "pay@example.com",
                           "distinctId": "standard-webhooks:msg_inv_1",
                           "eventProperties": {"amount": 42.0, "currency": "EUR"}}),
])  # fmt: skip
def test_a_worked_example_maps_as_documented(name: str, expected: dict[str, Any]) -> None:
    # Given the example's configuration and sample, as printed on the page
    blocks = json_blocks()
    [config] = [b for b in blocks if name in b.get("sources", {}) and "spec" in b["sources"][name]]
    [sample] = [b for b in blocks if b.get("source") == name]
    source = compile_spec(name, config["sources"][name]["spec"])
    # When it is translated
    [track] = bodies(translate(source, envelope(source, sample["body"], sample.get("headers"))))
    # Then it is the documented payload (the time aside: the CLI re-times the sample)
    track.pop("time", None)
    assert track == expected


def test_every_spec_on_the_page_compiles() -> None:
    specs = [(n, e["spec"]) for b in json_blocks() for n, e in b.get("sources", {}).items() if "spec" in e]
    assert {name for name, _ in specs} >= {"acme", "standard-webhooks", "square", "leads"}
    for name, raw_spec in specs:
        compile_spec(name, raw_spec)
