"""The built-in specs: providers added as data (``<name>.json`` beside this file), registered in
``sources/registry.py`` like any source. Each factory compiles its spec when the source is first looked up.

* ``resend`` — Resend's e-mail and contact events (Svix-signed);
* ``clerk`` — Clerk's user events (Svix-signed);
* ``github`` — a few GitHub events with a user identity (``X-Hub-Signature-256``).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from webhook_translator.sources.base import Source

BUILTIN_SPECS = ("resend", "clerk", "github")


def load(name: str) -> dict[str, Any]:
    """The raw spec of the built-in ``name`` (a JSON file of this package)."""
    data: dict[str, Any] = json.loads(resources.files(__name__).joinpath(f"{name}.json").read_text("utf-8"))
    return data


def _make(name: str) -> Source:
    from webhook_translator.spec import compile_spec

    return compile_spec(name, load(name))


def resend() -> Source:
    return _make("resend")


def clerk() -> Source:
    return _make("clerk")


def github() -> Source:
    return _make("github")
