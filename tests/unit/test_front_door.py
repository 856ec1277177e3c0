"""The front door as a newcomer meets it: the README's way to the command works, `make run` takes a port,
and the package metadata builds without setuptools' deprecation warnings."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
VENV_BIN = ROOT / ".venv" / "bin"

needs_venv = pytest.mark.skipif(
    not (VENV_BIN / "webhook-translator").is_file(), reason="the checkout's .venv (make install) is not there"
)


def shell_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)


def path_without_venv() -> str:
    """PATH as a new shell has it: without this checkout's .venv/bin (or any other virtualenv's)."""
    parts = os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(p for p in parts if p and not (Path(p) / "activate").is_file())


@needs_venv
def test_the_readme_says_how_to_get_the_command_on_path_and_it_works() -> None:
    # Given the README's block that puts webhook-translator on PATH
    [block] = [b for b in shell_blocks(README) if "activate" in b]
    # When a fresh shell in the checkout, without the command on PATH, runs it
    env = {**os.environ, "PATH": path_without_venv()}
    env.pop("VIRTUAL_ENV", None)
    assert shutil.which("webhook-translator", path=env["PATH"]) is None
    result = subprocess.run(
        ["bash", "-e", "-c", block], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    # Then the command runs
    assert result.returncode == 0, result.stderr
    assert "usage: webhook-translator" in result.stdout


@needs_venv
def test_the_readme_names_the_command_by_its_path_too() -> None:
    assert "`.venv/bin/webhook-translator`" in README
    result = subprocess.run(
        [".venv/bin/webhook-translator", "--version"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("webhook-translator ")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def make_run(*variables: str) -> list[str]:
    # -o: never reinstall the virtualenv from a test (make install did it)
    return ["make", "--no-print-directory", "-o", ".venv/bin/.installed", "run", *variables]


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_run_passes_port_aws_port_and_args_to_serve() -> None:
    # Given the README's advice for a busy port
    assert "`make run PORT=3001`" in README
    # When make shows what `make run PORT=… AWS_PORT=… ARGS=…` runs
    result = subprocess.run(
        ["make", "-n", *make_run("PORT=3001", "AWS_PORT=5002", "ARGS=--secrets my.json")[1:]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # Then serve gets each one
    [command] = [line for line in result.stdout.splitlines() if " serve " in line]
    assert command.split() == [
        ".venv/bin/webhook-translator",
        "serve",
        "--replay",
        "events",
        "--port",
        "3001",
        "--aws-port",
        "5002",
        "--secrets",
        "my.json",
    ]


@needs_venv
@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_a_busy_port_under_make_run_suggests_what_make_run_takes(busy_port: int) -> None:
    # Given something listens on the receiver's port
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        aws_port = free.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # When `make run PORT=<that port>` is run
    result = subprocess.run(
        make_run(f"PORT={busy_port}", f"AWS_PORT={aws_port}"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then serve fails in one line that suggests the make variable, and make fails too
    assert result.returncode != 0
    [line] = [line for line in result.stderr.splitlines() if "webhook-translator serve: error:" in line]
    assert f"port {busy_port} on 127.0.0.1 is already in use (the receiver)" in line
    assert "pass --port N (make run PORT=N)" in line
    assert "Traceback" not in result.stderr


def test_the_package_metadata_builds_without_a_deprecation_warning(tmp_path: Path) -> None:
    # Given the distribution's files, copied (building metadata writes an egg-info beside them)
    pytest.importorskip("setuptools", minversion="77")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    for package in ("layers/shared/webhook_translator", "tools/webhook_translator_tools"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "metadata"
    out.mkdir()
    # When setuptools' build backend prepares the wheel's metadata, every warning shown
    script = (
        "import sys; from setuptools import build_meta; print(build_meta.prepare_metadata_for_build_wheel(sys.argv[1]))"
    )
    result = subprocess.run(
        [sys.executable, "-W", "always", "-c", script, str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it succeeds with an SPDX license expression, and without any deprecation warning (project.license…)
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "SetuptoolsDeprecationWarning" not in output, output
    assert "project.license" not in output, output
    metadata = (out / result.stdout.strip().splitlines()[-1] / "METADATA").read_text()
    assert "License-Expression: MIT" in metadata.splitlines()
