"""The provider API client of the fetch step: one pooled session, timeouts, the credential from the secret.

:class:`ProviderApi` turns every answer into the outcome table of :mod:`webhook_translator.fetch`.
It never sleeps or loops: a retryable failure carries its delay (``Retry-After`` when the provider
sends one, else the forwarder's backoff for this attempt) and the forwarder hands it to the queue.

Nothing it logs or raises holds the credential, the URL (it holds ids), or any part of an answer's
body: it names the source, what was fetched, the status and the duration.
"""

from __future__ import annotations

import base64
import functools
import json
import random
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import requests

from webhook_translator import __version__, log_events
from webhook_translator.errors import ConfigurationError, NoApiCredential, ProviderRefused, ProviderUnavailable
from webhook_translator.fetch import Fetch, FetchRequest
from webhook_translator.observability import logger
from webhook_translator.ours.backoff import Backoff
from webhook_translator.ours.wire import default_session

if TYPE_CHECKING:
    from webhook_translator.config import Settings

__all__ = ["ProviderApi", "provider_api"]

#: the largest answer parsed (a lead or an appointment is a few KB)
MAX_ANSWER_BYTES = 1_048_576
_RETRYABLE = frozenset({408, 425, 429})
_AUTH = frozenset({401, 403})
_GONE = frozenset({404, 410})


class SecretDocuments(Protocol):
    """Where the credential comes from (a :class:`~webhook_translator.secrets.SecretStore`)."""

    def document(self, *, force: bool = False) -> Any: ...


class ProviderApi:
    """GETs against providers' APIs for the fetch step. Thread-safe: one pooled session for a batch."""

    def __init__(
        self,
        secrets: SecretDocuments,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 5.0,
        max_delay: float = 60.0,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if connect_timeout <= 0 or read_timeout <= 0 or max_delay <= 0:
            raise ValueError("timeouts and max_delay must be positive")
        self._secrets = secrets
        self._session = session if session is not None else default_session()
        self.timeout = (connect_timeout, read_timeout)
        self._backoff = Backoff(max_delay, rng=rng, clock=clock)

    def bind(self, attempt: int) -> Fetch:
        """The fetch callable for one record on its ``attempt``-th receive (the backoff grows with it)."""
        return functools.partial(self.get, attempt=attempt)

    def get(self, request: FetchRequest, *, attempt: int = 1) -> dict[str, Any]:
        """The provider's JSON object; :class:`ProviderUnavailable` or :class:`ProviderRefused` otherwise."""
        headers = {"Accept": "application/json", "User-Agent": f"webhook-translator/{__version__}"}
        headers["Authorization"] = self._authorization(request, attempt)
        log = {"source": request.source, "fetch": request.what, "attempt": attempt}
        started = time.monotonic()
        try:
            response = self._session.get(
                request.base_url.rstrip("/") + request.path,
                params=dict(request.params),
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
            content = response.content  # read now: the connection goes back to the pool
        except requests.Timeout as exc:
            logger.warning(log_events.PROVIDER_TIMED_OUT, extra={**log, "error": type(exc).__name__})
            raise self._retryable(request, f"did not answer in time ({type(exc).__name__})", attempt) from None
        except requests.RequestException as exc:
            logger.warning(log_events.PROVIDER_UNREACHABLE, extra={**log, "error": type(exc).__name__})
            raise self._retryable(request, f"could not be reached ({type(exc).__name__})", attempt) from None
        status = response.status_code
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        parsed = _json(content)
        if request.classify is not None:
            status = request.classify(status, parsed)
        level = logger.debug if 200 <= status < 300 else logger.warning
        level(log_events.PROVIDER_ANSWERED, extra={**log, "status": status, "duration_ms": elapsed_ms})
        if 200 <= status < 300 and isinstance(parsed, dict):
            return parsed
        raise self._error(request, status, response.headers.get("Retry-After"), attempt, parsed is None)

    # --- parts ---------------------------------------------------------------------------------

    def _authorization(self, request: FetchRequest, attempt: int) -> str:
        try:
            entry = self._secrets.document().entry(request.source)
        except ConfigurationError as exc:  # the secret could not be read: transient, like the Ours token's
            delay = self._backoff.delay(attempt, None)
            raise ProviderUnavailable(exc.message, delay=delay, reason="configuration") from None
        if entry.api_token is None or (request.auth == "basic" and entry.api_user is None):
            keys = "'api_user' and 'api_token'" if request.auth == "basic" else "'api_token'"
            raise NoApiCredential(
                f"no API credential for source {request.source!r}: set {keys} under sources.{request.source} "
                "in the secret",
                reason="provider_auth",
            )
        if request.auth == "basic":
            pair = f"{entry.api_user}:{entry.api_token}".encode()
            return "Basic " + base64.b64encode(pair).decode("ascii")
        return f"Bearer {entry.api_token}"

    def _retryable(self, request: FetchRequest, what: str, attempt: int, retry_after: str | None = None) -> Exception:
        return ProviderUnavailable(
            f"the {request.source} API {what} fetching the {request.what}",
            delay=self._backoff.delay(attempt, retry_after),
            reason="provider_rate_limited" if what.startswith("answered 429") else "provider_unavailable",
        )

    def _error(
        self, request: FetchRequest, status: int, retry_after: str | None, attempt: int, not_json: bool
    ) -> Exception:
        if status in _RETRYABLE or status >= 500:
            return self._retryable(request, f"answered {status}", attempt, retry_after)
        what = f"the {request.source} API answered {status} to the fetch of the {request.what}"
        if status in _AUTH:
            return ProviderRefused(f"{what}: check the API credential and its scopes", reason="provider_auth")
        if status in _GONE:
            return ProviderRefused(f"{what}: it does not exist (or no longer)", reason="provider_not_found")
        if 200 <= status < 300:
            return ProviderRefused(f"{what} without a JSON object" if not_json else what, reason="provider_rejected")
        return ProviderRefused(what, reason="provider_rejected")


def provider_api(config: Settings, secrets: SecretDocuments) -> ProviderApi:
    """The forwarder's provider API client: its own pool, ``PROVIDER_*_TIMEOUT``, the Ours backoff cap."""
    return ProviderApi(
        secrets,
        session=default_session(pool_size=config.forward_concurrency),
        connect_timeout=config.provider_connect_timeout,
        read_timeout=config.provider_read_timeout,
        max_delay=config.retry_max_delay,
    )


def _json(content: bytes) -> Any:
    if len(content) > MAX_ANSWER_BYTES:
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
