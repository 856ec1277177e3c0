"""The forwarder's decision, without side effects: what a queued webhook becomes in Ours.

:func:`translate` takes an envelope and the configuration and returns the source's
:class:`~webhook_translator.sources.context.MapResult` (0..n TrackEvents, or why it is
skipped), or raises a :class:`~webhook_translator.errors.MappingError` (or
:class:`~webhook_translator.errors.UnknownSource`) naming the permanent reason. It sends
and logs nothing; the forwarder and the CLI's ``translate`` and ``sources`` use it.

The fetch step's provider API client (:mod:`webhook_translator.fetch.client`) reaches it as a
:class:`Fetcher`; the forwarder's is an :class:`OnFirstFetch`, made by the first record whose
mapper fetches (a deployment whose sources never fetch never imports it).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

from webhook_translator.config import TranslatorConfig
from webhook_translator.envelope import Envelope
from webhook_translator.errors import MappingError, TranslatorError, UnknownSource, WebhookRejected
from webhook_translator.sources.base import Source
from webhook_translator.sources.context import MapContext, MapResult

if TYPE_CHECKING:
    from webhook_translator.config import Settings
    from webhook_translator.fetch import Fetch, FetchRequest
    from webhook_translator.fetch.client import SecretDocuments


class Fetcher(Protocol):
    """What hands a record's mapper its fetch callable (a :class:`~webhook_translator.fetch.client.ProviderApi`)."""

    def bind(self, attempt: int) -> Fetch: ...


class OnFirstFetch:
    """A :class:`Fetcher` made by ``make`` when a mapper first fetches, then kept (thread-safe)."""

    def __init__(self, make: Callable[[], Fetcher]) -> None:
        self._make = make
        self._made: Fetcher | None = None
        self._lock = threading.Lock()

    def bind(self, attempt: int) -> Fetch:
        def fetch(request: FetchRequest) -> dict[str, Any]:
            return self.made().bind(attempt)(request)

        return fetch

    def made(self) -> Fetcher:
        with self._lock:
            if self._made is None:
                self._made = self._make()
            return self._made


def provider_api_on_first_fetch(config: Settings, secrets: SecretDocuments) -> OnFirstFetch:
    """The forwarder's :func:`~webhook_translator.fetch.client.provider_api`, imported and made by the first fetch."""

    def make() -> Fetcher:
        from webhook_translator.fetch.client import provider_api

        return provider_api(config, secrets)

    return OnFirstFetch(make)


def map_context(
    source: Source,
    config: TranslatorConfig,
    *,
    now_ms: int,
    stale_policy: Literal["dlq", "send_without_time"] = "dlq",
    fetch: Fetch | None = None,
) -> MapContext:
    """The mapper's world for ``source``: the clock, its TRANSLATOR_CONFIG entry, the stale-event policy,
    and the fetch step's provider API (``fetch``; None where nothing may be fetched)."""
    return MapContext(
        source=source, now_ms=now_ms, config=config.source(source.name), stale_policy=stale_policy, fetcher=fetch
    )


def translate(
    envelope: Envelope,
    config: TranslatorConfig,
    *,
    registry: Mapping[str, Source],
    now_ms: int,
    stale_policy: Literal["dlq", "send_without_time"] = "dlq",
    fetch: Fetch | None = None,
) -> tuple[Source, MapResult]:
    """Map one queued webhook; every failure is a permanent, typed reason (a retry cannot change it)."""
    source = registry.get(envelope.source)
    if source is None:
        raise UnknownSource(f"no source named {envelope.source[:64]!r} is registered", reason="unknown_source")
    ctx = map_context(source, config, now_ms=now_ms, stale_policy=stale_policy, fetch=fetch)
    try:
        return source, source.map(envelope, ctx)
    except WebhookRejected as exc:  # a receiver-side check reused by a mapper: the payload is at fault
        raise MappingError(exc.message) from exc
    except TranslatorError:
        raise
    except Exception as exc:  # a mapper bug: retrying cannot help; keep it for a redrive after the fix
        raise MappingError(f"mapper failed ({type(exc).__name__})", reason="mapper_error") from exc
