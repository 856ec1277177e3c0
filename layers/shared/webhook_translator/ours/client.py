"""The Ours ingest client: ``POST /track`` and ``POST /batch`` with the contract's retry rules.

Every answer becomes one of three outcomes (see ``shared/ours-api.md``):

==============================================  =============================================
Ours answers                                    the client
==============================================  =============================================
2xx                                             returns (delivered)
401, 403                                        re-reads the token once (rotation) and resends
                                                once; still refused: ``PermanentDeliveryError``
                                                with reason ``auth``
408, 409, 5xx, timeout, connection error        ``RetryableDeliveryError`` (``ours_unavailable``)
429                                             ``RetryableDeliveryError`` (``rate_limited``)
any other 4xx (400, 404, 413, 415, 422…), 3xx   ``PermanentDeliveryError`` (``ours_rejected``)
                                                with Ours's own error text, redacted
==============================================  =============================================

A retryable error carries ``delay``: ``Retry-After`` when Ours sends one (seconds
or an HTTP date, capped at 12 hours), else Ours's advice — 2 s doubling up to
``max_delay``, plus 1–5 s of jitter. The client itself never sleeps or loops:
the caller (the forwarder) hands the delay to the queue.

Nothing this module logs or raises holds the token or personal data: it names
the path, the status, the event name and the ``distinctId``; Ours's error text is
passed through :func:`webhook_translator.redact.redact` first.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from aws_lambda_powertools.metrics import MetricUnit

from webhook_translator import __version__, log_events, observability
from webhook_translator.errors import ConfigurationError, PermanentDeliveryError, RetryableDeliveryError
from webhook_translator.observability import logger, metrics
from webhook_translator.ours.backoff import MAX_RETRY_AFTER, Backoff
from webhook_translator.ours.batch import DELIVERED, BatchOutcome, BatchResult, BatchSender
from webhook_translator.ours.models import InvalidTrackEvent, TrackEvent, track_body, validate_token
from webhook_translator.ours.wire import (
    AUTH_STATUSES,
    MAX_ERROR_BYTES,
    RETRYABLE_STATUSES,
    Answer,
    Call,
    default_session,
    ours_text,
)

__all__ = [
    "DELIVERED",
    "MAX_RETRY_AFTER",
    "BatchOutcome",
    "BatchResult",
    "OursClient",
    "TokenSource",
    "body_json",
    "default_session",
]

#: a ``/track`` or ``/batch`` body as it is posted: compact JSON, UTF-8 characters as they are, no NaN
#: (one encoder for every call, instead of a ``json.dumps`` building one per call)
body_json: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


class TokenSource(Protocol):
    """Where the client gets the Ours token (a :class:`~webhook_translator.secrets.SecretStore`)."""

    def ours_token(self, source: str, *, force: bool = False) -> str: ...


class OursClient:
    """Sends TrackEvents to Ours. Thread-safe: one instance serves concurrent calls over one pooled session."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenSource,
        *,
        session: requests.Session | None = None,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        max_delay: float = 60.0,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigurationError("the Ours API URL must be an http(s) URL (OURS_API_URL)")
        if connect_timeout <= 0 or read_timeout <= 0 or max_delay <= 0:
            raise ValueError("timeouts and max_delay must be positive")
        self.base_url = base_url.rstrip("/")
        self._tokens = tokens
        self._owns_session = session is None
        self._session = session if session is not None else default_session()
        self.timeout = (connect_timeout, read_timeout)
        self.max_delay = max_delay
        self._backoff = Backoff(max_delay, rng=rng, clock=clock)
        self._headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": f"webhook-translator/{__version__}",
        }

    # --- public ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (only the session this client made itself)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> OursClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def track(self, event: TrackEvent, *, source: str, attempt: int = 1) -> None:
        """Deliver one event; raise :class:`RetryableDeliveryError` or :class:`PermanentDeliveryError`."""
        call = Call(source)
        log = {"source": source, "ours_event": event.event, "distinct_id": event.distinct_id, "attempt": attempt}
        answer = self._post_authorised("/track", call, lambda token: track_body(event, token), attempt, log)
        status = answer.status
        if 200 <= status < 300:
            if isinstance(answer.body, dict) and answer.body.get("success") is False:
                # undocumented: counted as delivered (Ours took it), but worth an operator's look
                logger.warning("Ours answered 2xx with success=false", extra={**log, "status": status})
            return
        raise self._error_for(answer, "/track", attempt)

    def token_key(self, source: str) -> str:
        """The token ``source``'s events are sent with (cached): events sharing it can share a ``/batch`` call.

        :class:`ConfigurationError` when the secret cannot be read or has no token for the source.
        """
        return self._tokens.ours_token(source)

    def batch(self, events: Sequence[TrackEvent], *, source: str, attempt: int = 1) -> BatchResult:
        """Deliver many events in one call; never raises for a delivery failure, reports one per event.

        Every event needs a ``distinctId`` (:class:`InvalidTrackEvent` otherwise, before anything is sent).
        """
        sender = BatchSender(self._post_authorised, self._error_for, self.retry_delay)
        return sender.send(events, source=source, attempt=attempt)

    def retry_delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before the next try: ``Retry-After`` if usable, else backoff with jitter."""
        return self._backoff.delay(attempt, retry_after)

    # --- one HTTP exchange -----------------------------------------------------------------------

    def _token(self, call: Call, *, force: bool) -> str:
        token = self._tokens.ours_token(call.source, force=force)
        try:
            return validate_token(token)
        except InvalidTrackEvent:
            if force or call.reread:
                raise PermanentDeliveryError(
                    f"the Ours token for source {call.source!r} is malformed (must be 1-250 characters)",
                    reason="auth",
                ) from None
            call.reread = True
            return self._token(call, force=True)

    def _post_authorised(
        self,
        path: str,
        call: Call,
        body: Callable[[str], dict[str, Any]],
        attempt: int,
        log: dict[str, Any],
    ) -> Answer:
        """POST with the source's token; on 401/403 re-read the token once and resend once."""
        if call.token is None:
            call.token = self._token(call, force=False)
        answer = self._post(path, body(call.token), attempt, log)
        if answer.status in AUTH_STATUSES and not call.reread:
            logger.warning("Ours refused the token; re-reading the secret once", extra={**log, "status": answer.status})
            call.reread = True
            previous = call.token
            call.token = self._token(call, force=True)
            answer = self._post(path, body(call.token), attempt, log)
            answer.tokens.append(previous)
        answer.tokens.append(call.token)
        if answer.status in AUTH_STATUSES:
            raise PermanentDeliveryError(
                f"Ours refused the token for source {call.source!r} ({answer.status}) after re-reading the secret",
                reason="auth",
                status=answer.status,
            )
        return answer

    def _post(self, path: str, payload: dict[str, Any], attempt: int, log: dict[str, Any]) -> Answer:
        url = self.base_url + path
        data = body_json(payload).encode("utf-8")
        started = time.monotonic()
        try:
            response = self._session.post(
                url, data=data, headers=self._headers, timeout=self.timeout, allow_redirects=False
            )
            # read the whole answer now so the connection goes back to the pool
            content = response.content
        except requests.Timeout as exc:
            what = "connect" if isinstance(exc, requests.ConnectTimeout) else "answer"
            logger.warning(log_events.OURS_TIMED_OUT, extra={**log, "path": path, "error": type(exc).__name__})
            metrics.add(observability.OURS_RESPONSES, Source=str(log["source"]), Status="timeout")
            raise RetryableDeliveryError(
                f"Ours did not {what} in time ({type(exc).__name__})",
                delay=self.retry_delay(attempt, None),
                reason="ours_unavailable",
            ) from None
        except requests.RequestException as exc:
            logger.warning(log_events.OURS_UNREACHABLE, extra={**log, "path": path, "error": type(exc).__name__})
            metrics.add(observability.OURS_RESPONSES, Source=str(log["source"]), Status="unreachable")
            raise RetryableDeliveryError(
                f"Ours could not be reached ({type(exc).__name__})",
                delay=self.retry_delay(attempt, None),
                reason="ours_unavailable",
            ) from None
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        status = response.status_code
        level = logger.debug if 200 <= status < 300 else logger.warning
        level(log_events.OURS_ANSWERED, extra={**log, "path": path, "status": status, "duration_ms": elapsed_ms})
        metrics.add(observability.OURS_LATENCY, elapsed_ms, MetricUnit.Milliseconds, Source=str(log["source"]))
        metrics.add(observability.OURS_RESPONSES, Source=str(log["source"]), Status=str(status))
        text = content[:MAX_ERROR_BYTES].decode("utf-8", errors="replace") if status >= 300 else ""
        parsed: Any = None
        if content.lstrip()[:1] == b"{":
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = None
        return Answer(status=status, headers=response.headers, body=parsed, text=text)

    def _error_for(self, answer: Answer, path: str, attempt: int) -> RetryableDeliveryError | PermanentDeliveryError:
        """The error for a non-2xx answer that is not an auth failure."""
        status = answer.status
        if status in RETRYABLE_STATUSES or status >= 500:
            reason = "rate_limited" if status == 429 else "ours_unavailable"
            return RetryableDeliveryError(
                f"Ours answered {status} to {path}: {ours_text(answer)}",
                delay=self.retry_delay(attempt, answer.headers.get("Retry-After")),
                reason=reason,
                status=status,
            )
        if 300 <= status < 400:
            return PermanentDeliveryError(
                f"Ours answered {status} (a redirect) to {path}: check OURS_API_URL",
                reason="ours_rejected",
                status=status,
            )
        return PermanentDeliveryError(
            f"Ours rejected {path} ({status}): {ours_text(answer)}", reason="ours_rejected", status=status
        )
