"""The corpus (``tests/corpus/``): real-shaped payloads map to the identity a person reading them would pick.

Each payload goes the forwarder's way (``webhook_translator.translation.translate``) and must give
exactly its golden ``<name>.track.json``: the ``/track`` bodies, or the permanent reason
(``no_identity`` only where the payload truly carries nobody). A failing comparison names JSON
paths, never values. After a deliberate change: ``.venv/bin/python tests/corpus/regenerate.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import corpus
from webhook_translator.ours.models import TrackEvent
from webhook_translator.sources.registry import REGISTRY

PAYLOADS = corpus.payload_paths()
REGENERATE = "run .venv/bin/python tests/corpus/regenerate.py and review the diff"
FORM_AND_SCHEDULING = ("typeform", "tally", "webflow", "jotform", "calendly", "stripe")


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def golden(path: Path) -> Any:
    target = corpus.golden_path(path)
    assert target.exists(), f"no golden for {_id(path)}: {REGENERATE}"
    return json.loads(target.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", PAYLOADS, ids=_id)
def test_a_corpus_payload_translates_to_its_golden(path: Path) -> None:
    # Given a real-shaped payload and what it must become
    expected = golden(path)
    # When the forwarder's translation step maps it
    actual = corpus.outcome(path)
    # Then the outcome is exactly the golden one
    diff = corpus.differences(actual, expected)
    assert not diff, f"{_id(path)} differs from its golden at {diff[:10]}: {REGENERATE}"


@pytest.mark.parametrize("path", PAYLOADS, ids=_id)
def test_a_corpus_golden_obeys_the_ours_contract_and_keeps_addresses_out_of_event_properties(path: Path) -> None:
    # Given a golden
    bodies = golden(path)
    if isinstance(bodies, dict) and "events" in bodies:  # several items, some failed on their own
        assert set(bodies) == {"events", "failed"}
        assert bodies["failed"], "a partial outcome names what failed"
        bodies = bodies["events"]
    elif isinstance(bodies, dict):
        assert set(bodies) <= {"error", "skipped"}
        return
    for body in bodies:
        # Then each body is a valid TrackEvent, and its e-mail never appears among the event properties
        assert TrackEvent.build(now_ms=corpus.NOW_MS, **body).to_ours() == body
        if "email" in body:
            assert body["email"].casefold() not in json.dumps(body.get("eventProperties", {})).casefold()


def test_the_corpus_has_several_documented_payloads_per_source() -> None:
    # Given the corpus
    per_source = Counter(path.parent.name for path in PAYLOADS)
    # Then it holds at least 30 payloads, several per source, each saying where its shape is documented
    assert len(PAYLOADS) >= 30
    assert all(per_source[name] >= 4 for name in FORM_AND_SCHEDULING), per_source
    assert set(per_source) <= set(REGISTRY)
    for path in PAYLOADS:
        _, _, documented = corpus.load(path)
        assert documented.strip(), f"{_id(path)}: say where the shape is documented"
        assert "\n" not in documented, f"{_id(path)}: one line saying where the shape is from"


def test_only_payloads_that_carry_nobody_are_no_identity() -> None:
    # Given the corpus's no_identity outcomes
    refused = sorted(_id(p) for p in PAYLOADS if golden(p) == {"error": "no_identity"})
    # Then they are exactly the payloads written to carry no identity
    assert refused == [
        "calendly/routing_form_no_contact",
        "jotform/no_identity",
        "stripe/payment_intent_succeeded_2023_guest",
        "tally/nulls_and_no_identity",
        "typeform/no_identity",
        "webflow/message_only",
    ]


def test_two_api_versions_of_the_same_stripe_invoice_map_alike() -> None:
    # Given invoice.paid for one invoice, as 2024-06-20 and as 2025-03-31.basil shape it
    root = corpus.ROOT / "stripe"
    old = golden(root / "invoice_paid_2024_06_20.json")[0]
    new = golden(root / "invoice_paid_2025_03_31_basil.json")[0]
    # Then everything but the event's own id is the same: subscription, payment intent, prices, identity
    ignore = {"stripe_event_id"}
    assert {k: v for k, v in old["eventProperties"].items() if k not in ignore} == {
        k: v for k, v in new["eventProperties"].items() if k not in ignore
    }
    assert new["eventProperties"]["subscription_id"] == "sub_1QcCorpus01"
    assert (old["externalId"], old["email"], old["userProperties"]) == (
        new["externalId"],
        new["email"],
        new["userProperties"],
    )
