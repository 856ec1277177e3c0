"""The registry: source name → source. Adding a source is one module and one line here."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from webhook_translator.config import TranslatorConfig
from webhook_translator.errors import UnknownSource
from webhook_translator.sources.base import Source
from webhook_translator.sources.calendly import CalendlySource
from webhook_translator.sources.jotform import JotformSource
from webhook_translator.sources.standard_webhooks import StandardWebhooksSource
from webhook_translator.sources.stripe import StripeSource
from webhook_translator.sources.tally import TallySource
from webhook_translator.sources.typeform import TypeformSource
from webhook_translator.sources.webflow import WebflowSource

REGISTRY: Mapping[str, Source] = {
    source.name: source
    for source in (
        StripeSource(),
        TypeformSource(),
        TallySource(),
        WebflowSource(),
        JotformSource(),
        CalendlySource(),
        StandardWebhooksSource(),
    )
}


def check_config(config: TranslatorConfig, registry: Mapping[str, Source] = REGISTRY) -> None:
    """Refuse a TRANSLATOR_CONFIG naming unknown sources or invalid options — at start, not per webhook."""
    problems: list[str] = []
    for name, source_config in sorted(config.sources.items()):
        source = registry.get(name)
        if source is None:
            problems.append(f"unknown source {name[:64]!r} (known: {', '.join(sorted(registry))})")
            continue
        try:
            source.options_model.model_validate(source_config.options)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in e["loc"]) or "options" for e in exc.errors()})
            problems.append(f"{name}: invalid options ({', '.join(fields)})")
    if problems:
        raise RuntimeError("invalid TRANSLATOR_CONFIG: " + "; ".join(problems))


def get_source(name: str) -> Source:
    """The source registered as ``name``; :class:`UnknownSource` (404) otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownSource(f"unknown source {name[:64]!r}; known: {', '.join(sorted(REGISTRY))}") from None
