"""``lazy_module``: nothing imported until a name is read, then the module's names, read as from the module."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
from webhook_translator.lazy import lazy_module
lazy = lazy_module("webhook_translator.ours.models")
assert "webhook_translator.ours.models" not in sys.modules
TrackEvent = lazy.TrackEvent
import webhook_translator.ours.models as real
assert TrackEvent is real.TrackEvent and lazy.WINDOW_MS == real.WINDOW_MS
assert "TrackEvent" in vars(lazy)  # held: the next read is a dictionary lookup
assert not hasattr(type(lazy), "__getattr__")  # ... without a class hook in its way
try:
    lazy.no_such_name
except AttributeError:
    print("ok")
"""


def test_a_lazy_module_imports_on_the_first_read_and_then_holds_the_names() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=dict(os.environ), capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "ok", done.stderr
