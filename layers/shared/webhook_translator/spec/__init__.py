"""Declarative sources: a provider described by data — verifier, ids, event map, JMESPath field paths.

The public interface (the configuration loader and the CLI call only these):

* :class:`SpecError` — one line naming the path inside the spec and the fault;
* :func:`compile_spec` — validate a raw spec, compile every JMESPath once, return a :class:`Source`;
* :func:`explain` — for each path of a spec source, the value it found (personal values masked).

Importing this package is cheap: jmespath and the engine are imported when a spec is compiled,
so a receiver configured without specs never pays for them. The field reference is
``docs/custom-sources.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from webhook_translator.spec.errors import SpecError

if TYPE_CHECKING:
    from webhook_translator.envelope import Envelope
    from webhook_translator.sources.base import Source
    from webhook_translator.sources.context import MapContext
    from webhook_translator.spec.explainer import ExplainRow

__all__ = ["ExplainRow", "SpecError", "compile_spec", "explain"]


def compile_spec(name: str, raw: Mapping[str, Any]) -> Source:
    """The declarative source ``name`` described by ``raw``; :class:`SpecError` when the spec is invalid."""
    from webhook_translator.spec.source import compile_source

    return compile_source(name, raw)


def explain(source: Source, envelope: Envelope, ctx: MapContext) -> list[ExplainRow]:
    """Each path of ``source``'s spec with the value it found in ``envelope`` (personal values masked).

    :class:`TypeError` when ``source`` is not a spec source.
    """
    from webhook_translator.spec.explainer import explain_rows

    return explain_rows(source, envelope, ctx)


def __getattr__(name: str) -> Any:
    if name == "ExplainRow":
        from webhook_translator.spec.explainer import ExplainRow

        return ExplainRow
    raise AttributeError(name)
