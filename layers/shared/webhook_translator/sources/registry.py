"""The registry: source name → source. Adding a source is one module and one line here."""

from __future__ import annotations

from collections.abc import Mapping

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


def get_source(name: str) -> Source:
    """The source registered as ``name``; :class:`UnknownSource` (404) otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownSource(f"unknown source {name[:64]!r}; known: {', '.join(sorted(REGISTRY))}") from None
