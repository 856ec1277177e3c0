"""What a fresh Lambda process pays at import: no pydantic schema it does not need, no source it does not serve.

Each check runs in a fresh interpreter (imports are once per process), and
reports facts, never times.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from support.function_env import FUNCTION_ENV
from webhook_translator.sources.registry import SOURCES

PROBE = """
import json, sys
{setup}
from pydantic import BaseModel

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

built = sorted(
    f"{{c.__module__}}.{{c.__qualname__}}"
    for c in set(subclasses(BaseModel))
    if c.__module__.startswith("webhook_translator") and c.__dict__.get("__pydantic_complete__")
)
print(json.dumps({{"built": built, "modules": sorted(m for m in sys.modules if m.startswith("webhook_translator"))}}))
"""

SOURCE_MODULES = {module for module, _ in SOURCES.values()}


def probe(setup: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(setup=setup)], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("module", ["webhook_translator.receiver", "webhook_translator.forwarder"])
def test_a_function_module_imports_no_source_and_builds_no_track_event(module: str) -> None:
    # When a function's module is imported in a fresh process
    found = probe(f"import {module}")
    # Then no source module is imported, and neither TrackEvent nor any payload model is built
    assert SOURCE_MODULES.isdisjoint(found["modules"])
    assert not [name for name in found["built"] if name.startswith("webhook_translator.ours.")]


def test_listing_the_registry_imports_no_source() -> None:
    # When the names are listed and looked up without taking a source
    found = probe(
        "from webhook_translator.sources.registry import REGISTRY, SOURCES\n"
        "assert sorted(REGISTRY) and 'stripe' in REGISTRY and 'nope' not in REGISTRY and len(REGISTRY) == len(SOURCES)"
    )
    # Then no source module is imported
    assert SOURCE_MODULES.isdisjoint(found["modules"])


def test_looking_up_a_source_imports_only_it_and_builds_none_of_its_models() -> None:
    # When the receiver looks up Stripe (to verify a webhook)
    found = probe(
        "import webhook_translator.receiver\n"
        "from webhook_translator.sources.registry import REGISTRY\n"
        "assert REGISTRY.get('stripe').name == 'stripe'"
    )
    # Then only the Stripe module is imported, and none of its payload models (nor TrackEvent) is built
    assert SOURCE_MODULES & set(found["modules"]) == {"webhook_translator.sources.stripe"}
    assert not [name for name in found["built"] if ".sources.stripe." in name or ".ours." in name]


#: the sources written in Python (the declarative built-ins share one module, their spec's)
HAND_WRITTEN = sorted(name for name, (module, _) in SOURCES.items() if module.startswith("webhook_translator.sources."))


def test_looking_up_every_hand_written_source_imports_none_of_their_models() -> None:
    # When the receiver looks up every source written in Python (as verifying their webhooks does)
    found = probe(
        "import webhook_translator.receiver\n"
        "from webhook_translator.sources.registry import REGISTRY\n"
        f"assert [REGISTRY.get(name).name for name in {HAND_WRITTEN!r}] == {HAND_WRITTEN!r}"
    )
    # Then each source's module is imported, but no models module of any (theirs, nor the Ours models)
    assert {SOURCES[name][0] for name in HAND_WRITTEN} <= set(found["modules"])
    assert not [m for m in found["modules"] if m.endswith(("_models", ".models"))]
    assert not [name for name in found["built"] if ".ours." in name]


#: function-level imports left on purpose: Stripe's consent reading (only with option ``consent``)
ALLOWED_IMPORTS = {"webhook_translator.sources.stripe": ["_consent"]}


def _functions_importing(module: str) -> list[str]:
    spec = importlib.util.find_spec(module)
    assert spec is not None
    assert spec.origin is not None
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    return [
        function.name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(isinstance(node, ast.Import | ast.ImportFrom) for node in ast.walk(function))
    ]


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_a_source_module_binds_its_models_at_import_not_per_call(name: str) -> None:
    # Given a source written in Python / When its module's functions are read
    module = SOURCES[name][0]
    # Then none holds an import statement (~1.5 µs a call on the forwarder's hot path): a module the
    # receiver must not import is bound with lazy_module instead
    assert _functions_importing(module) == ALLOWED_IMPORTS.get(module, [])


def test_a_mapped_webhook_builds_the_models_on_first_use() -> None:
    # When the forwarder maps a Stripe webhook
    found = probe(
        "import time\n"
        "from webhook_translator.sources.context import MapContext\n"
        "from webhook_translator.sources.registry import REGISTRY\n"
        "source = REGISTRY['stripe']\n"
        "from webhook_translator.sources.stripe_models import StripeEvent\n"
        "StripeEvent.model_validate({'id': 'evt_1', 'type': 'invoice.paid', 'created': 1, 'data': {'object': {}}})"
    )
    # Then the event model is built then (and only the models it uses)
    assert "webhook_translator.sources.stripe_models.StripeEvent" in found["built"]
    assert "webhook_translator.sources.stripe_models.StripeOptions" not in found["built"]


def test_every_registered_source_is_importable_under_its_name() -> None:
    # Given the registry / When every source is made / Then each answers to the name it is registered as
    from webhook_translator.sources.registry import REGISTRY

    assert {name: source.name for name, source in REGISTRY.items()} == {name: name for name in SOURCES}


FUNCTIONS = Path(__file__).resolve().parents[2] / "functions"
COMPLETE_ENV = FUNCTION_ENV
HANDLER = """
import json, sys
sys.path.insert(0, {function!r})
import app
from webhook_translator import {name}
import gc
print(json.dumps({{"built": {name}.default_{name}.cache_info().currsize, "boto3": "boto3" in sys.modules,
                  "gc": gc.isenabled(), "frozen": gc.get_freeze_count() > 0}}))
"""


@pytest.mark.parametrize("name", ["receiver", "forwarder"])
@pytest.mark.parametrize("complete", [True, False])
def test_a_handler_creates_its_clients_at_import_when_the_environment_allows(name: str, complete: bool) -> None:
    # Given a function's environment, complete or without SECRET_ID (nothing is called: no network)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in COMPLETE_ENV}
    env |= {k: v for k, v in COMPLETE_ENV.items() if complete or k != "SECRET_ID"}
    # When Lambda imports the handler module (its init phase)
    code = HANDLER.format(function=str(FUNCTIONS / name), name=name)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=120)
    found = json.loads(out.stdout)
    # Then the pipeline and its boto3 clients exist already — or, misconfigured, are left to the first invocation
    assert {k: found[k] for k in ("built", "boto3")} == {"built": 1 if complete else 0, "boto3": complete}
    # And the cyclic collector is on again after the init, the init's objects frozen (aws.at_init)
    assert {k: found[k] for k in ("gc", "frozen")} == {"gc": True, "frozen": True}


def test_the_functions_import_none_of_powertools_event_classes_nor_its_parameters_at_import() -> None:
    # When each function's module is imported in a fresh process
    code = (
        "import sys, webhook_translator.receiver, webhook_translator.forwarder\n"
        "print(sorted(m for m in sys.modules if m.startswith('aws_lambda_powertools.utilities.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    # Then Powertools' ~30 event classes (data_classes) and its parameters utility (read on the first
    # secret read) are not among the modules loaded
    loaded = out.stdout
    assert "aws_lambda_powertools.utilities.data_classes" not in loaded
    assert "aws_lambda_powertools.utilities.parameters" not in loaded
