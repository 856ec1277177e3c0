"""The fetch step: a source whose webhooks carry an id, not the data, asks its provider's API.

A mapper asks through :meth:`~webhook_translator.sources.context.MapContext.fetch` with a
:class:`FetchRequest`; the forwarder (and the CLI's ``translate``) inject the :data:`Fetch`
callable — :class:`~webhook_translator.fetch.client.ProviderApi` bound to the record's attempt —
so a mapper stays a pure function of the envelope and what the provider answered.

Outcomes (the same rules as the Ours call, DESIGN.md "Rules of behaviour"):

=========================================  ==================================================
the provider answers                       the fetch raises
=========================================  ==================================================
2xx with a JSON object                     nothing: returns it
429, 408, 5xx, timeout, connection error   :class:`~webhook_translator.errors.ProviderUnavailable`
                                           (retryable: ``Retry-After`` honoured, else the
                                           forwarder's backoff; the same distinctId next time)
401, 403                                   :class:`~webhook_translator.errors.ProviderRefused`
                                           ``provider_auth`` (dead-lettered at once)
404, 410                                   ``provider_not_found`` (dead-lettered at once)
any other answer                           ``provider_rejected`` (dead-lettered at once)
=========================================  ==================================================

A webhook holding several items (a Meta POST with several leads) maps each item on its own:
:func:`worst` picks the outcome of the record from the items that failed, after the others
were delivered (see ``MapResult.failures``).

This module is light (no ``requests``): the sources import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from webhook_translator.errors import RetryableDeliveryError, TranslatorError

__all__ = ["Classify", "Fetch", "FetchRequest", "worst"]


#: a provider's own error shapes turned into the HTTP status they mean: (status, parsed body) → status
Classify = Callable[[int, Any], int]


@dataclass(frozen=True)
class FetchRequest:
    """One GET against a source's provider API: ``{base_url}{path}?{params}`` with the source's credential.

    ``auth`` says how the credential from the source's secret entry is sent: ``bearer``
    (``Authorization: Bearer <api_token>``) or ``basic`` (``<api_user>:<api_token>``).
    ``what`` names the object in errors and logs (never an id that could be personal).
    """

    source: str
    base_url: str
    path: str
    what: str
    auth: Literal["bearer", "basic"] = "bearer"
    params: Mapping[str, str] = field(default_factory=dict)
    classify: Classify | None = None


#: what a mapper calls: the provider's JSON object, or a typed error
Fetch = Callable[[FetchRequest], dict[str, Any]]


def worst(failures: Sequence[TranslatorError]) -> TranslatorError | None:
    """The error a record ends with when some of its items failed: a retryable one if any (the
    longest delay, so the slowest provider is waited for), else the first permanent one."""
    retryable = [f for f in failures if isinstance(f, RetryableDeliveryError)]
    if retryable:
        return max(retryable, key=lambda f: f.delay)
    return failures[0] if failures else None
