"""The CLI on the second-wave sources: a HubSpot batch with a bad item, Zoom's challenge, HubSpot's ``sign``."""

from __future__ import annotations

import json
import time
from pathlib import Path

from cli_support import EVENTS, Run

from webhook_translator_tools.local.hubspot_server import LocalHubSpot


def test_translate_prints_a_batchs_good_events_and_names_the_bad_item(run: Run, tmp_path: Path) -> None:
    # Given a HubSpot batch whose second event has no objectId
    items = json.loads((EVENTS / "hubspot/subscription_batch.json").read_text())["body"][:2]
    for item in items:
        item["occurredAt"] = int(time.time() * 1000) - 5_000
    items.insert(1, {"eventId": 9, "subscriptionType": "contact.creation", "occurredAt": items[0]["occurredAt"]})
    path = tmp_path / "batch.json"
    path.write_text(json.dumps(items))
    # When it is translated (each good item's contact fetched from the local HubSpot fake)
    fake = LocalHubSpot().start()
    try:
        result = run("translate", "hubspot", str(path), "--fetch-from", fake.url)
    finally:
        fake.stop()
    # Then the good events are printed, and the run fails in one line naming the bad item's place
    assert result.code != 0
    assert result.one_line_error
    assert "item 2 of 3" in result.err
    bodies = json.loads(result.out)
    assert [body["distinctId"] for body in bodies] == ["hubspot:1794", "hubspot:1795"]
    assert bodies[0]["email"] == "priya.raman@example.com"


def test_translate_without_a_hubspot_token_keeps_the_contact_id_alone(run: Run, tmp_path: Path) -> None:
    # Given a subscription event and a secret document whose hubspot entry has no api_token
    [item] = json.loads((EVENTS / "hubspot/subscription_batch.json").read_text())["body"][:1]
    item["occurredAt"] = int(time.time() * 1000) - 5_000
    path, secrets = tmp_path / "batch.json", tmp_path / "secrets.json"
    path.write_text(json.dumps([item]))
    secrets.write_text(json.dumps({"ours_token": "t", "sources": {"hubspot": {"signing_secrets": ["k"]}}}))
    # When it is translated: nothing is fetched, the contact id is the identity
    result = run("translate", "hubspot", str(path), "--secrets", str(secrets))
    assert result.code == 0, result.err
    [body] = json.loads(result.out)
    assert body["externalId"] == "9101"
    assert "email" not in body


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
