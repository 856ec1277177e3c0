"""The registry: source name → source. Adding a source is one module and one line here.

A source's module is imported when the source is first looked up, not when the
registry is: the receiver serving Stripe never imports (or builds the models of)
the other sources. Listing the names (``sorted(REGISTRY)``, ``name in REGISTRY``)
imports nothing; iterating the sources themselves imports them all.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final

from webhook_translator.config import InvalidConfiguration, TranslatorConfig
from webhook_translator.errors import UnknownSource

if TYPE_CHECKING:
    from webhook_translator.sources.base import Source

#: name → (module, class) of every registered source
SOURCES: Final[Mapping[str, tuple[str, str]]] = {
    "stripe": ("webhook_translator.sources.stripe", "StripeSource"),
    "typeform": ("webhook_translator.sources.typeform", "TypeformSource"),
    "tally": ("webhook_translator.sources.tally", "TallySource"),
    "webflow": ("webhook_translator.sources.webflow", "WebflowSource"),
    "jotform": ("webhook_translator.sources.jotform", "JotformSource"),
    "calendly": ("webhook_translator.sources.calendly", "CalendlySource"),
    "standard-webhooks": ("webhook_translator.sources.standard_webhooks", "StandardWebhooksSource"),
    # built-in declarative sources: a spec (data) each, webhook_translator/spec/builtin/<name>.json
    "resend": ("webhook_translator.spec.builtin", "resend"),
    "clerk": ("webhook_translator.spec.builtin", "clerk"),
    "github": ("webhook_translator.spec.builtin", "github"),
    # second wave (issue 11)
    "hubspot": ("webhook_translator.sources.hubspot", "HubSpotSource"),
    "zoom": ("webhook_translator.sources.zoom", "ZoomSource"),
    "callrail": ("webhook_translator.sources.callrail", "CallRailSource"),
    "shopify": ("webhook_translator.sources.shopify", "ShopifySource"),
    "woocommerce": ("webhook_translator.sources.woocommerce", "WooCommerceSource"),
    "calcom": ("webhook_translator.sources.calcom", "CalComSource"),
    "facebook-leads": ("webhook_translator.sources.facebook_leads", "FacebookLeadsSource"),
    "acuity": ("webhook_translator.sources.acuity", "AcuitySource"),
    "formstack": ("webhook_translator.sources.formstack", "FormstackSource"),
    "gravityforms": ("webhook_translator.sources.gravityforms", "GravityFormsSource"),
    "wpforms": ("webhook_translator.sources.wpforms", "WPFormsSource"),
}


class LazyRegistry(Mapping[str, "Source"]):
    """A read-only mapping of source names to sources, each imported and made on its first lookup."""

    def __init__(self, table: Mapping[str, tuple[str, str]]) -> None:
        self._table = dict(table)
        self._made: dict[str, Source] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Source:
        source = self._made.get(name)
        if source is not None:
            return source
        module_name, class_name = self._table[name]  # KeyError for an unknown name, as a dict
        with self._lock:
            if name not in self._made:
                made: Source = getattr(importlib.import_module(module_name), class_name)()
                if made.name != name:
                    raise RuntimeError(f"{module_name}.{class_name} is named {made.name!r}, registered as {name!r}")
                self._made[name] = made
            return self._made[name]

    def __contains__(self, name: object) -> bool:
        return name in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def loaded(self) -> frozenset[str]:
        """The names of the sources made so far (for tests and diagnostics)."""
        return frozenset(self._made)


REGISTRY: Final = LazyRegistry(SOURCES)


def check_config(config: TranslatorConfig, registry: Mapping[str, Source] = REGISTRY) -> None:
    """Refuse a configuration naming unknown sources or invalid options — at start, not per webhook.

    ``registry`` must already hold the configuration's declarative sources
    (:func:`webhook_translator.translator_config.load` makes such a registry).
    """
    from webhook_translator.translator_config import check

    check(config, registry)


def get_source(name: str) -> Source:
    """The source registered as ``name``; :class:`UnknownSource` (404) otherwise."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownSource(f"unknown source {name[:64]!r}; known: {', '.join(sorted(REGISTRY))}") from None


class _Enabled(Mapping[str, "Source"]):
    """The sources of ``registry`` that ``names`` lists, each made on its first lookup (as the registry's)."""

    def __init__(self, registry: Mapping[str, Source], names: frozenset[str]) -> None:
        self._registry = registry
        self._names = names

    def __getitem__(self, name: str) -> Source:
        if name not in self._names:
            raise KeyError(name)
        return self._registry[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._registry if name in self._names)

    def __len__(self) -> int:
        return len(self._names)


def enabled_registry(registry: Mapping[str, Source], enabled: frozenset[str] | None) -> Mapping[str, Source]:
    """The sources ``ENABLED_SOURCES`` names (all when unset), each made now; a name that is no source fails
    the init. Unset, a source is imported by its first webhook (a deployment serves a few of the many)."""
    if enabled is None:
        return registry
    unknown = sorted(enabled - set(registry))
    if unknown:
        raise InvalidConfiguration(
            f"ENABLED_SOURCES names no registered source: {', '.join(n[:64] for n in unknown)}; "
            f"known: {', '.join(sorted(registry))}"
        )
    for name in sorted(enabled):
        registry[name]  # imported now, in Lambda's init (full CPU), rather than by the source's first webhook
    return _Enabled(registry, enabled)
