"""Rewrite the corpus goldens (``<name>.track.json``) from the current mappers; review the diff after.

.venv/bin/python tests/corpus/regenerate.py
"""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for extra in (TESTS, TESTS.parent / "layers" / "shared", TESTS.parent / "tools"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import corpus  # noqa: E402


def main() -> int:
    for path in corpus.payload_paths():
        target = corpus.golden_path(path)
        text = corpus.render(corpus.outcome(path))
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old != text:
            target.write_text(text, encoding="utf-8")
            print(f"{'updated' if old is not None else 'created'} {target.relative_to(TESTS.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
