"""``make bench`` starts the functions with the environment template.yaml gives them, read as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_PATH = Path(__file__).resolve().parents[2] / "bench" / "lambda_env.py"
_SPEC = importlib.util.spec_from_file_location("bench_lambda_env", _PATH)
assert _SPEC is not None
assert _SPEC.loader is not None
lambda_env = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = lambda_env
_SPEC.loader.exec_module(lambda_env)
function_env = lambda_env.function_env


@pytest.mark.parametrize("function", ["ReceiverFunction", "ForwarderFunction"])
def test_the_bench_reads_each_function_environment_at_the_parameter_defaults(function: str) -> None:
    env = function_env(function)
    # conditional variables (!If [..., ..., !Ref AWS::NoValue]) are absent at the defaults, as on Lambda
    assert "TRANSLATOR_CONFIG_FILE" not in env
    assert "TRANSLATOR_CONFIG_PARAMETER" not in env
    assert env["TRANSLATOR_CONFIG"] == "{}"
    assert env["POWERTOOLS_SERVICE_NAME"] == "webhook-translator"
