"""The forwarder's init makes the ``ENABLED_SOURCES`` sources ready (their models built), and no others.

Fresh processes, as Lambda starts the forwarder: with ``ENABLED_SOURCES`` set, its init imports pydantic
and builds those sources' payload models (Lambda's init runs at full CPU; the first webhook then
only validates). Unset, the init imports no source and no pydantic: each source is made by its first
webhook (a deployment serves a few of the many). The fetch step's provider API client is made in the init
when an enabled source fetches, else by the first fetch; the forwarder's own modules import neither the
receiver's request model nor the HMAC scheme (a source module declaring its scheme does).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from support.function_env import FUNCTION_ENV

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, sys
sys.path[:0] = [{function!r}]
import app  # the handler module: its init builds the forwarder
from webhook_translator.forwarder import default_forwarder
default_forwarder()
models = sys.modules.get("webhook_translator.sources.stripe_models")
print(json.dumps({{
    "pydantic": "pydantic" in sys.modules,
    "sources": sorted(n.rsplit(".", 1)[1] for n in sys.modules if n.startswith("webhook_translator.sources.")
                      and n.rsplit(".", 1)[1] in ("stripe", "typeform", "tally")),
    "stripe_built": bool(models and models.StripeEvent.__pydantic_complete__),
    "fetch_client": "webhook_translator.fetch.client" in sys.modules,
    "receiver_only": sorted(n for n in ("webhook_translator.sources.request", "webhook_translator.sources.signing")
                            if n in sys.modules),
}}))
"""


def _init(enabled: str | None) -> dict[str, object]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ENABLED_SOURCES", "TRANSLATOR_CONFIG"))},
        **FUNCTION_ENV,
    }
    if enabled is not None:
        env["ENABLED_SOURCES"] = enabled
    code = CHILD.format(function=str(ROOT / "functions" / "forwarder"))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_enabled_sources_are_made_ready_in_the_init() -> None:
    # Given ENABLED_SOURCES naming Stripe and Typeform / When the forwarder's init runs
    result = _init("stripe,typeform")
    # Then both sources are imported and Stripe's payload models are built — and no other source
    assert {k: result[k] for k in ("pydantic", "sources", "stripe_built")} == {
        "pydantic": True,
        "sources": ["stripe", "typeform"],
        "stripe_built": True,
    }
    # And Stripe fetches (its thin events): the provider API client is made in the init too
    assert result["fetch_client"] is True


def test_unset_the_init_makes_no_source_and_imports_no_pydantic() -> None:
    assert _init(None) == {
        "pydantic": False,
        "sources": [],
        "stripe_built": False,
        "fetch_client": False,
        "receiver_only": [],
    }


def test_enabled_sources_that_never_fetch_leave_the_provider_api_client_to_a_first_fetch() -> None:
    result = _init("typeform")
    assert (result["sources"], result["fetch_client"]) == (["typeform"], False)


def test_an_unknown_enabled_source_fails_the_init_in_one_line() -> None:
    with pytest.raises(subprocess.CalledProcessError) as caught:
        _init("stripe,nope")
    assert "ENABLED_SOURCES names no registered source: nope" in caught.value.stderr
