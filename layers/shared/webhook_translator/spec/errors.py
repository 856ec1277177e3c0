"""The one error a spec raises when it loads: :class:`SpecError`, one line naming the path and the fault."""

from __future__ import annotations


class SpecError(ValueError):
    """A declarative source's spec is invalid. ``str(exc)`` is one line: ``<path inside the spec>: <fault>``.

    It names keys, expressions and rules — never a secret or a payload value.
    """

    def __init__(self, path: str, fault: str) -> None:
        # a key may hold anything, a line break included: shown escaped, so the message stays one line
        self.path = "".join(c if c.isprintable() else repr(c)[1:-1] for c in path)
        self.fault = " ".join(fault.split())
        super().__init__(f"{self.path}: {self.fault}" if self.path else self.fault)
