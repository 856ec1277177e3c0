"""Check a built layer's ``python/`` tree: only the runtime, and compiled for Lambda's python3.11.

Usage: ``python3.11 check_layer.py <ARTIFACTS_DIR>/python``. Exit 0 with one summary line, or 1 with
one line naming what is wrong. Run by ``layers/shared/Makefile`` (inside ``sam build``) and by
``make build``; not part of the layer itself.

The tree fails when it holds laptop or operator code (``webhook_translator_tools``, the CLI, the local
stack, dev secrets, DLQ tooling), tests, or what the Lambda runtime provides (boto3, botocore,
s3transfer), or when a module lacks its ``__pycache__/<name>.cpython-311.pyc`` compiled from the very
source beside it in ``unchecked-hash`` mode (the only mode that helps on Lambda's read-only ``/opt``).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

RUNTIME_PACKAGE = "webhook_translator"
# Top-level names (packages, modules, their .dist-info) that must never ship.
FORBIDDEN_TOP = {
    "webhook_translator_tools": "laptop code",
    "boto3": "provided by the Lambda runtime",
    "botocore": "provided by the Lambda runtime",
    "s3transfer": "provided by the Lambda runtime",
}
# Inside the runtime package: what moved to webhook_translator_tools.
FORBIDDEN_IN_RUNTIME = {
    "cli": "laptop code",
    "cli.py": "laptop code",
    "local": "laptop code",
    "dlq.py": "DLQ tooling",
}
TEST_DIRS = {"tests", "test"}
PYC_TAG = "cpython-311"
FLAG_HASH_BASED, FLAG_CHECK_SOURCE = 0b01, 0b10
SHOWN = 5


def top_level_name(entry: Path) -> str:
    """``boto3`` for ``boto3/``, ``boto3.py``, ``boto3-1.35.0.dist-info`` or ``boto3-1.35.0.data``."""
    name = entry.name.removesuffix(".py")
    for suffix in (".dist-info", ".data", ".egg-info"):
        if name.endswith(suffix):
            name = name.removesuffix(suffix).rsplit("-", 1)[0]
    return name.lower().replace("-", "_")


def content_problems(root: Path) -> Iterator[str]:
    for entry in sorted(root.iterdir()):
        reason = FORBIDDEN_TOP.get(top_level_name(entry))
        if reason:
            yield f"{entry.name} ({reason})"
    if not (root / RUNTIME_PACKAGE / "__init__.py").is_file():
        yield f"{RUNTIME_PACKAGE}/ missing"
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if path.name == "dev-secrets.json":
            yield f"{relative} (dev secrets)"
        elif path.is_dir() and path.name in TEST_DIRS:
            yield f"{relative}/ (tests)"
        elif path.suffix == ".py" and (path.name.startswith("test_") or path.name == "conftest.py"):
            yield f"{relative} (tests)"
        elif relative.parts[0] == RUNTIME_PACKAGE and path.name in FORBIDDEN_IN_RUNTIME:
            yield f"{relative} ({FORBIDDEN_IN_RUNTIME[path.name]})"


def bytecode_problem(source: Path) -> str | None:
    """Why ``source`` has no usable python3.11 ``.pyc`` beside it, or ``None``."""
    pyc = source.parent / "__pycache__" / f"{source.stem}.{PYC_TAG}.pyc"
    if not pyc.is_file():
        return f"no {PYC_TAG} .pyc"
    header = pyc.read_bytes()[:16]
    if header[:4] != importlib.util.MAGIC_NUMBER:
        return "a .pyc of another Python version"
    flags = int.from_bytes(header[4:8], "little")
    if flags != FLAG_HASH_BASED:
        kind = "checked-hash" if flags & FLAG_CHECK_SOURCE else "timestamp"
        return f"a {kind} .pyc, not unchecked-hash"
    if header[8:16] != importlib.util.source_hash(source.read_bytes()):
        return "a stale .pyc (compiled from another source)"
    return None


def bytecode_problems(root: Path) -> Iterator[str]:
    for source in sorted(root.rglob("*.py")):
        problem = bytecode_problem(source)
        if problem:
            yield f"{source.relative_to(root)} ({problem})"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: check_layer.py <layer>/python", file=sys.stderr)
        return 2
    if sys.version_info[:2] != (3, 11):
        print(f"layer check: run with python3.11 (the Lambda runtime), not {sys.version.split()[0]}", file=sys.stderr)
        return 2
    root = Path(argv[1])
    if not root.is_dir():
        print(f"layer check FAILED: {root} is not a directory", file=sys.stderr)
        return 1
    problems = [*content_problems(root), *bytecode_problems(root)]
    if problems:
        more = f" and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        print(f"layer check FAILED in {root}: {'; '.join(problems[:SHOWN])}{more}", file=sys.stderr)
        return 1
    modules = sum(1 for _ in root.rglob("*.py"))
    print(
        f"layer check: {root}: {modules} modules, each with its {PYC_TAG} unchecked-hash .pyc;"
        " no laptop code, dev secrets, tests, boto3, botocore or s3transfer"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
