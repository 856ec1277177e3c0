"""What the benchmarks run against: the layer as built, a boto3 "runtime", the functions' environment.

* :func:`built_layer` — ``python/`` of the SharedLayer built for x86_64 by ``layers/shared/Makefile``
  (the arm64 build's compiled wheels do not load here), cached under ``.aws-sam/bench`` keyed on the
  content of ``layers/shared``; its wheels come from a wheelhouse there once downloaded.
* :func:`site_dir` — a ``pip install --target`` directory (the boto3 runtime Lambda provides, the
  dependencies a user of an AWS sample would ship), cached by its pinned requirements.
* :func:`function_env` — the environment ``template.yaml`` gives a function (parameter defaults,
  tracing off), with a fake region, fake credentials and an endpoint nothing listens on.
* :data:`FAKE_AWS` — code that answers every boto3 call in-process (nothing is sent).

Everything but the first run works offline; the first run needs the package registry.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".aws-sam" / "bench"
LAYER_SRC = ROOT / "layers" / "shared"
#: the interpreter every child runs (the venv's base python3.11, not a shim or the venv)
PYTHON = str(Path(sys.executable).resolve())
REGION = "xx-bench-1"
FAKE_ACCOUNT = "123456789012"


def _digest(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        if path.is_file() and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _pip_target(target: Path, requirements: list[str], *extra: str) -> None:
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    command = [PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-warn-script-location"]
    proc = subprocess.run([*command, "--target", str(tmp), *extra, *requirements], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"pip install --target {target.name} failed:\n{proc.stderr[-3000:]}")
    tmp.rename(target)


#: the wheel platforms layers/shared/Makefile installs for LAYER_ARCH=x86_64 (Lambda's glibc 2.26)
X86_PLATFORMS = ["manylinux2014_x86_64", *(f"manylinux_2_{m}_x86_64" for m in range(17, 27))]


def _wheelhouse() -> dict[str, str]:
    """pip settings for the layer build: its wheels from a local wheelhouse once downloaded (offline
    rebuilds when only the package changes); the index, and no wheelhouse, if the download fails."""
    requirements = LAYER_SRC / "requirements.txt"
    house = CACHE / f"wheels-{_digest([requirements])}"
    if not (house / ".complete").is_file():
        for old in CACHE.glob("wheels-*"):
            shutil.rmtree(old, ignore_errors=True)
        command = [PYTHON, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--dest", str(house)]
        command += ["--requirement", str(requirements), "--only-binary=:all:", "--implementation", "cp"]
        command += ["--python-version", "3.11", *(f"--platform={p}" for p in X86_PLATFORMS)]
        if subprocess.run(command, capture_output=True, check=False).returncode != 0:
            return {}
        (house / ".complete").touch()
    return {"PIP_FIND_LINKS": str(house), "PIP_NO_INDEX": "1"}


def _make_layer(artifacts: Path, pip_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    makefile = str(LAYER_SRC / "Makefile")
    command = ["make", "--no-print-directory", "-s", "-f", makefile, "build-SharedLayer"]
    command += [f"ARTIFACTS_DIR={artifacts}", "LAYER_ARCH=x86_64", f"PYTHON={PYTHON}"]
    return subprocess.run(command, capture_output=True, text=True, check=False, env={**os.environ, **pip_env})


def built_layer() -> Path:
    """``python/`` of the layer as ``sam build`` builds it (layers/shared/Makefile), for x86_64, built
    once per content of layers/shared (its requirements, Makefile, check and package)."""
    artifacts = CACHE / f"layer-{_digest([*LAYER_SRC.rglob('*')])}"
    stamp = artifacts / ".bench-built"
    if not stamp.is_file():
        for old in CACHE.glob("layer-*"):
            shutil.rmtree(old, ignore_errors=True)
        print(f"  building the layer for x86_64 into {artifacts.relative_to(ROOT)} (cached afterwards)")
        pip_env = _wheelhouse()
        proc = _make_layer(artifacts, pip_env)
        if proc.returncode != 0 and pip_env:  # the wheelhouse is incomplete: from the index
            proc = _make_layer(artifacts, {})
        if proc.returncode != 0:
            raise RuntimeError(f"the layer build failed:\n{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
        stamp.touch()
    return artifacts / "python"


def pinned(*distributions: str) -> list[str]:
    """``name==version`` of each distribution as installed in this environment (the versions the project uses)."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in distributions]


def site_dir(name: str, requirements: list[str]) -> Path:
    """A ``pip install --target`` directory of ``requirements`` (with their bytecode), cached by their pins."""
    key = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:12]
    target = CACHE / f"{name}-{key}"
    if not target.is_dir():
        for old in CACHE.glob(f"{name}-*"):
            shutil.rmtree(old, ignore_errors=True)
        print(f"  installing {' '.join(requirements)} into {target.relative_to(ROOT)} (cached afterwards)")
        CACHE.mkdir(parents=True, exist_ok=True)
        _pip_target(target, requirements)
    return target


# --- template.yaml -------------------------------------------------------------------------------


class _CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !If, ...) as ``{"Fn": [args]}``."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {suffix: value}


_CfnLoader.add_multi_constructor("!", _tag)


#: what ``!Ref AWS::NoValue`` resolves to: the property (here, the variable) is left out
_NO_VALUE = object()


class _Template:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, value: Any) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            return value
        ((fn, arg),) = value.items()
        if fn in ("Ref", "Fn::Ref"):
            return _NO_VALUE if arg == "AWS::NoValue" else self.ref(str(arg))
        if fn == "If":
            condition, yes, no = arg
            return self.resolve(yes if self.condition(condition) else no)
        if fn == "Equals":
            return self.resolve(arg[0]) == self.resolve(arg[1])
        if fn == "Not":
            return not self.resolve(arg[0])
        if fn == "GetAtt":
            return f"arn:aws:bench:{REGION}:{FAKE_ACCOUNT}:{arg}"
        raise ValueError(f"template.yaml: !{fn} is not understood by the bench")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.doc["Conditions"][name]))

    def ref(self, name: str) -> str:
        parameter = self.doc.get("Parameters", {}).get(name)
        if parameter is not None:
            return str(parameter.get("Default", ""))
        kind = self.doc["Resources"][name]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{FAKE_ACCOUNT}/{name}"
        if kind == "AWS::SecretsManager::Secret":
            return f"arn:aws:secretsmanager:{REGION}:{FAKE_ACCOUNT}:secret:{name}-AbCdEf"
        return name


def function_env(logical_id: str, template: Path = ROOT / "template.yaml") -> dict[str, str]:
    """The environment Lambda gives ``logical_id`` with the template's defaults (no host variables)."""
    doc = yaml.load(template.read_text(), Loader=_CfnLoader)
    t = _Template(doc)
    variables: dict[str, Any] = {}
    variables |= doc.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    props = doc["Resources"][logical_id]["Properties"]
    variables |= props.get("Environment", {}).get("Variables", {})
    resolved = {str(k): t.resolve(v) for k, v in variables.items()}
    env = {k: str(v) for k, v in resolved.items() if v is not _NO_VALUE}
    memory = props.get("MemorySize", doc.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    env |= lambda_platform_env(logical_id, int(memory))
    return env


def lambda_platform_env(function_name: str, memory_mb: int = 256) -> dict[str, str]:
    """What the Lambda platform sets, with a fake region and credentials; any call would be refused locally."""
    return {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "AKIABENCHFAKE0000000",
        "AWS_SECRET_ACCESS_KEY": "bench-fake-secret-key",
        "AWS_SESSION_TOKEN": "bench-fake-session-token",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",  # the discard port: a stray call fails at once, locally
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
    }


#: Python source: ``fake_aws(responses)`` makes every boto3 client alive in the process answer
#: in-process. Parameters are still validated and serialised (botocore's ``before-call`` hook runs
#: after that, where ``botocore.stub.Stubber`` answers too); only the HTTP exchange is skipped.
FAKE_AWS = """
def fake_aws(responses):
    import gc
    from botocore.awsrequest import AWSResponse
    from botocore.client import BaseClient

    def answer(model, **_):
        return AWSResponse("https://fake.invalid", 200, {}, None), dict(responses.get(model.name, {}))

    frozen = gc.get_freeze_count() > 0  # the functions' init freezes its objects (aws.at_init): list them too
    if frozen:
        gc.unfreeze()
    clients = [o for o in gc.get_objects() if isinstance(o, BaseClient)]
    if frozen:
        gc.freeze()
    for client in clients:
        client.meta.events.register("before-call", answer, unique_id="bench-fake-aws")
    import boto3
    if boto3.DEFAULT_SESSION is not None:  # clients created later answer in-process too
        boto3.DEFAULT_SESSION.events.register("before-call", answer, unique_id="bench-fake-aws")
    return len(clients)
"""


def fake_aws(responses: dict[str, dict[str, Any]]) -> int:
    """:data:`FAKE_AWS` in this process: the number of boto3 clients it now answers for."""
    namespace: dict[str, Any] = {}
    exec(FAKE_AWS, namespace)
    count: int = namespace["fake_aws"](responses)
    return count
