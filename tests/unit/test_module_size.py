"""The runtime package keeps its modules small: none over 300 lines (issue 8's layout rule)."""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "webhook_translator"
LIMIT = 300


def test_no_runtime_module_is_over_300_lines() -> None:
    sizes = {
        str(p.relative_to(PACKAGE)): len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.rglob("*.py")
    }
    assert sizes, "no module found"
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
