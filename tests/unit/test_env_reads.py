"""Every environment read of the runtime package is in ``webhook_translator/config.py``.

An AST scan of the package (the layer's code): ``os.environ``, ``os.getenv`` and ``os.environb`` are
named in config.py only. The laptop tools (``tools/``) read their operator's own variables where
they use them; the runtime's settings they need come from :class:`~webhook_translator.config.Settings`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import webhook_translator

PACKAGE = Path(webhook_translator.__file__).parent
ENV_NAMES = {"environ", "getenv", "environb", "getenvb", "putenv", "unsetenv"}


def env_reads(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ENV_NAMES:
            found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [f"{path.relative_to(PACKAGE.parent)}:{node.lineno} from os import {a.name}" for a in node.names]
    return found


def test_only_config_reads_the_environment() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "config.py" in modules
    reads = [read for path in modules if path.name != "config.py" or path.parent != PACKAGE for read in env_reads(path)]
    assert reads == []
