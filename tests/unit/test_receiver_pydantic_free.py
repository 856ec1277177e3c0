"""The receiver never imports pydantic: not at its init, not while it admits a webhook of any hand-written source.

pydantic's import is most of what a fresh receiver would pay beyond boto3 (README, "Measured"); moving
it to the first webhook would be worse still (Lambda's init has the full CPU, an invocation its share).
Each check runs in a fresh interpreter, as Lambda's init does, and reports facts, never times.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from support.function_env import FUNCTION_ENV
from webhook_translator.sources.registry import REGISTRY, SOURCES
from webhook_translator_tools.local.lambda_events import ApigwSpec, apigw_event
from webhook_translator_tools.local.samples import Sample

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
#: the sources written in Python (the declarative built-ins parse their spec with pydantic, once)
HAND_WRITTEN = sorted(name for name, (module, _) in SOURCES.items() if module.startswith("webhook_translator.sources."))
#: a secret every scheme takes (Standard Webhooks' are ``whsec_`` and base64)
SECRET = "whsec_" + base64.b64encode(b"not a real secret: the tests' own").decode("ascii")
ENV = {**FUNCTION_ENV, "POWERTOOLS_METRICS_NAMESPACE": "Test"}

CHILD = """
import json, sys
sys.path.insert(0, {function!r})
import app  # Lambda's init: the handler module, its settings, its clients
from webhook_translator.config import settings
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets

class FakeSqs:
    sent = 0
    def send_message(self, **kwargs):
        FakeSqs.sent += 1
        return {{"MessageId": "m"}}

events = json.load(sys.stdin)
secrets = StaticSecrets({{"sources": {{name: {{"signing_secrets": [{secret!r}]}} for name in events}}}})
receiver = Receiver(settings(), secrets, sqs=FakeSqs())
answers = {{name: receiver.handle(event)["statusCode"] for name, event in events.items()}}
print(json.dumps({{
    "answers": answers,
    "queued": FakeSqs.sent,
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("pydantic", "pydantic_core", "annotated_types")),
    "sources": sorted(m for m in sys.modules if m.startswith("webhook_translator.sources.")),
}}))
"""


def _sample_event(name: str, now: float) -> dict[str, Any]:
    """The API Gateway event of the source's first sample, signed as its provider signs it."""
    path = sorted((EVENTS / name).glob("*.json"))[0]
    spec = ApigwSpec(str(path.relative_to(EVENTS)))
    return apigw_event(Sample.load(path), spec, secret=SECRET, now=now, name=name)


def run_child(events: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, Any]:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TRANSLATOR_CONFIG"))} | ENV
    code = CHILD.format(function=str(ROOT / "functions" / "receiver"), secret=SECRET)
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(events),
        env=child_env | (env or {}),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_receiver_admits_a_webhook_of_every_hand_written_source_without_pydantic() -> None:
    # Given a real sample of every source written in Python, signed as its provider signs it
    now = time.time()
    events = {name: _sample_event(name, now) for name in HAND_WRITTEN}
    # When a fresh receiver process (Lambda's init, then one invocation each) admits them
    found = run_child(events)
    # Then each is verified and queued, and neither pydantic nor its core nor its companions were imported
    assert found["answers"] == dict.fromkeys(HAND_WRITTEN, 200)
    assert found["queued"] == len(HAND_WRITTEN)
    assert found["loaded"] == []
    # And the sources were really imported (each module, and no models module of any)
    assert {f"webhook_translator.sources.{SOURCES[n][0].rsplit('.', 1)[1]}" for n in HAND_WRITTEN} <= set(
        found["sources"]
    )
    assert not [m for m in found["sources"] if m.endswith("_models") or m.endswith(".models")]


def test_a_configuration_without_options_keeps_the_receiver_pydantic_free() -> None:
    # Given renames and drops for sources (no options: those need the sources' options models)
    config = {"sources": {"stripe": {"rename": {"invoice.paid": "Paid"}, "drop": ["charge.refunded"]}, "tally": {}}}
    # When a fresh receiver starts with it and admits a Stripe webhook
    found = run_child({"stripe": _sample_event("stripe", time.time())}, {"TRANSLATOR_CONFIG": json.dumps(config)})
    # Then the document was checked (the init passed) without pydantic
    assert found["answers"] == {"stripe": 200}
    assert found["loaded"] == []


def test_every_options_model_takes_the_empty_options() -> None:
    # The configuration check skips a source's options model when its options are empty (so that neither
    # it nor pydantic is imported): this holds only while every model takes {} — its defaults
    for name in REGISTRY:
        REGISTRY[name].options_model.model_validate({})
