"""The CLI on the second-wave sources: a HubSpot batch with a bad item, Zoom's challenge, HubSpot's ``sign``."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli_support import EVENTS, Run


def test_translate_prints_a_batchs_good_events_and_names_the_bad_item(run: Run, tmp_path: Path) -> None:
    # Given a HubSpot batch whose second event has no objectId
    items = json.loads((EVENTS / "hubspot/subscription_batch.json").read_text())["body"][:2]
    for item in items:
        item["occurredAt"] = int(time.time() * 1000) - 5_000
    items.insert(1, {"eventId": 9, "subscriptionType": "contact.creation", "occurredAt": items[0]["occurredAt"]})
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(items))
    # When it is translated
    result = run("translate", "hubspot", str(path))
    # Then the good events are printed, and the run fails in one line naming the bad item's place
    assert result.code != 0
    assert result.one_line_error
    assert "item 2 of 3" in result.err
    assert [body["distinctId"] for body in json.loads(result.out)] == ["hubspot:1794", "hubspot:1795"]


def test_translate_says_zooms_challenge_is_answered_by_the_receiver(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "challenge.json"
    path.write_text(json.dumps({"event": "endpoint.url_validation", "payload": {"plainToken": "abc"}}))
    result = run("translate", "zoom", str(path))
    assert result.code == 0
    assert json.loads(result.out) == []
    assert "handshake" in result.err


def test_sign_hubspot_prints_the_api_key_header(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(json.loads((EVENTS / "hubspot/workflow_contact_lead.json").read_text())["body"]))
    result = run("sign", "hubspot", str(path), "--secret", "my-api-key")
    assert result.code == 0
    assert "X-Webhook-Token: my-api-key" in result.out
