"""A provider added by writing a spec: ``serve --config FILE`` delivers it, and ``translate`` agrees.

The spec-only source ``acme`` (docs/custom-sources.md's first worked example) exists nowhere in
the code. Its webhooks are signed here by an independent implementation of its scheme
(``hmac`` over ``{timestamp}.{body}``, hex, ``sha256=`` prefix), posted to the receiver that
``serve`` runs with the document, and observed at the local Ours.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from test_serve import CLI, DEV_SECRETS, ROOT, Serve, child_env, eventually, start_serve, stop, wait_until_ready

pytestmark = pytest.mark.e2e

ACME_SECRET = "acme-e2e-signing-secret-0123456789"
SPEC: dict[str, Any] = {
    "title": "Acme CRM",
    "verifier": {
        "type": "hmac",
        "header": "X-Acme-Signature",
        "prefix": "sha256=",
        "signed": "{t}.{body}",
        "timestamp_header": "X-Acme-Timestamp",
        "tolerance": 300,
    },
    "id": {"path": "id"},
    "event_type": {"path": "type"},
    "time": {"path": "created", "format": "epoch_s"},
    "events": {"lead.created": "Lead Created", "lead.deleted": None},
    "identity": {"externalId": "data.user_id", "email": "lower(data.email)"},
    "userProperties": {"first_name": "data.first_name"},
    "eventProperties": {"plan": "data.plan"},
}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("spec")
    config = folder / "translator.json"
    config.write_text(json.dumps({"sources": {"acme": {"spec": SPEC}}}))
    secrets = copy.deepcopy(DEV_SECRETS)
    secrets["sources"]["acme"] = {"signing_secrets": [ACME_SECRET]}
    document = folder / "secrets.json"
    document.write_text(json.dumps(secrets))
    return {"config": config, "secrets": document, "folder": folder}


@pytest.fixture(scope="module")
def served(files: dict[str, Path]) -> Iterator[Serve]:
    serve = start_serve("--config", str(files["config"]), "--secrets", str(files["secrets"]))
    try:
        wait_until_ready(serve)
        yield serve
    finally:
        stop(serve)


def acme_body(event_id: str) -> bytes:
    data = {"user_id": 4821, "email": "Jamie@Example.com", "first_name": "Jamie", "plan": "team", "notes": "5pm"}
    return json.dumps({"id": event_id, "type": "lead.created", "created": int(time.time()) - 5, "data": data}).encode()


def signed(body: bytes, secret: str = ACME_SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Acme-Timestamp": stamp, "X-Acme-Signature": f"sha256={digest}"}


def test_a_spec_only_source_is_delivered_and_translate_agrees(served: Serve, files: dict[str, Path]) -> None:
    # Given a webhook of a provider that exists only in the configuration document
    event_id = f"evt_{uuid.uuid4().hex[:12]}"
    body = acme_body(event_id)
    # When it is posted, signed by the provider's scheme
    answer = requests.post(f"{served.url}/webhooks/acme", data=body, headers=signed(body), timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "id": event_id}
    # Then the local Ours receives the event the spec describes
    [delivered] = eventually(lambda: [r for r in served.accepted() if r.get("distinctId") == f"acme:{event_id}"])
    assert delivered["event"] == "Lead Created"
    assert delivered["externalId"] == "4821"
    assert delivered["email"] == "jamie@example.com"
    assert delivered["userProperties"] == {"first_name": "Jamie"}
    assert delivered["eventProperties"] == {"plan": "team"}
    assert "5pm" not in json.dumps(delivered)  # only what the spec names is forwarded
    # And `translate` with the same document makes the same payload
    raw = files["folder"] / f"{event_id}.json"
    raw.write_bytes(body)
    done = subprocess.run(
        [*CLI, "translate", "acme", str(raw), "--config", str(files["config"])],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    [translated] = json.loads(done.stdout)
    translated.pop("token")
    assert {k: v for k, v in delivered.items() if k != "token"} == translated


def test_a_spec_source_refuses_a_wrong_signature_with_its_reason(served: Serve) -> None:
    body = acme_body(f"evt_{uuid.uuid4().hex[:12]}")
    answer = requests.post(f"{served.url}/webhooks/acme", data=body, headers=signed(body, "wrong"), timeout=10)
    assert answer.status_code == 401
    assert "sha256=" not in answer.text


def test_serve_refuses_an_invalid_document_before_it_starts(files: dict[str, Path]) -> None:
    bad = files["folder"] / "bad.json"
    bad.write_text(json.dumps({"sources": {"acme": {"spec": {**SPEC, "identity": {"email": "lowr(data.email)"}}}}}))
    done = subprocess.run(
        [*CLI, "serve", "--config", str(bad)], cwd=ROOT, env=child_env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0
    assert "sources.acme.spec.identity.email: unknown function 'lowr'" in done.stderr
    assert "Ready" not in done.stdout
