"""The layer build's content check (``make -f layers/shared/Makefile check``) on fake layer trees.

No network and no pip: each test writes a small ``python/`` tree the way the build leaves it
(modules compiled in unchecked-hash mode), spoils it in one way, and runs the Makefile's check.
"""

from __future__ import annotations

import compileall
import py_compile
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAKEFILE = ROOT / "layers" / "shared" / "Makefile"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def write(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def compile_tree(python: Path) -> None:
    assert compileall.compile_dir(
        python, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH, force=True
    )


def good_layer(artifacts: Path) -> Path:
    """A layer as the build leaves it: the runtime package and a dependency, each module compiled."""
    python = artifacts / "python"
    write(python / "webhook_translator" / "__init__.py", '"""runtime"""\n')
    write(python / "webhook_translator" / "receiver.py", "X = 1\n")
    write(python / "webhook_translator" / "sources" / "__init__.py")
    write(python / "webhook_translator" / "py.typed")
    write(python / "pydantic" / "__init__.py", "VERSION = '2'\n")
    write(python / "pydantic-2.13.5.dist-info" / "METADATA", "Name: pydantic\n")
    write(python / "typing_extensions.py", "Y = 2\n")
    compile_tree(python)
    return python


def check(artifacts: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-f",
            str(MAKEFILE),
            "check",
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_a_layer_of_runtime_code_compiled_for_python_311_passes(tmp_path: Path) -> None:
    # Given a layer holding only the runtime package and its dependencies, each module compiled
    good_layer(tmp_path)
    # When the build's check runs on it
    result = check(tmp_path)
    # Then it passes and says what it checked
    assert result.returncode == 0, result.stderr
    assert "5 modules, each with its cpython-311 unchecked-hash .pyc" in result.stdout


def _stale(python: Path) -> None:
    write(python / "webhook_translator" / "receiver.py", "X = 2  # changed after compiling\n")


def _timestamp_pyc(python: Path) -> None:
    source = python / "webhook_translator" / "receiver.py"
    py_compile.compile(str(source), invalidation_mode=py_compile.PycInvalidationMode.TIMESTAMP)


def _uncompiled(python: Path) -> None:
    write(python / "webhook_translator" / "sources" / "stripe.py", "Z = 3\n")


def _spoil(relative: str, text: str = "") -> Callable[[Path], None]:
    def spoil(python: Path) -> None:
        target = write(python / relative, text)
        if target.suffix == ".py":
            compile_tree(python)  # compiled: only the content itself is at fault

    return spoil


@pytest.mark.parametrize(
    ("spoil", "named"),
    [
        (_spoil("webhook_translator_tools/__init__.py"), "webhook_translator_tools (laptop code)"),
        (_spoil("webhook_translator/cli/__init__.py"), "webhook_translator/cli (laptop code)"),
        (_spoil("webhook_translator/local/__init__.py"), "webhook_translator/local (laptop code)"),
        (_spoil("webhook_translator/dlq.py"), "webhook_translator/dlq.py (DLQ tooling)"),
        (_spoil("webhook_translator/dev-secrets.json", "{}"), "dev-secrets.json (dev secrets)"),
        (_spoil("webhook_translator/tests/test_receiver.py"), "webhook_translator/tests/ (tests)"),
        (_spoil("conftest.py"), "conftest.py (tests)"),
        (_spoil("boto3/__init__.py"), "boto3 (provided by the Lambda runtime)"),
        (_spoil("botocore-1.35.0.dist-info/METADATA"), "botocore-1.35.0.dist-info (provided by the Lambda runtime)"),
        (_spoil("s3transfer/__init__.py"), "s3transfer (provided by the Lambda runtime)"),
        (_uncompiled, "webhook_translator/sources/stripe.py (no cpython-311 .pyc)"),
        (_timestamp_pyc, "webhook_translator/receiver.py (a timestamp .pyc, not unchecked-hash)"),
        (_stale, "webhook_translator/receiver.py (a stale .pyc"),
    ],
)
def test_the_check_fails_on_what_must_not_ship(tmp_path: Path, spoil: Callable[[Path], None], named: str) -> None:
    # Given a good layer spoilt in one way
    spoil(good_layer(tmp_path))
    # When the build's check runs on it
    result = check(tmp_path)
    # Then it fails with one line naming the culprit
    assert result.returncode != 0
    assert named in result.stderr
    assert "layer check FAILED" in result.stderr
    assert len([line for line in result.stderr.splitlines() if "layer check" in line]) == 1


def test_the_check_needs_an_artefacts_directory(tmp_path: Path) -> None:
    # Given no layer at all where the check looks
    # When the check runs
    result = check(tmp_path / "nothing")
    # Then it fails, saying so
    assert result.returncode != 0
    assert "is not a directory" in result.stderr
