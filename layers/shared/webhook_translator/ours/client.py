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
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Final, Literal, Protocol, TypeAlias
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

from webhook_translator import __version__
from webhook_translator.errors import ConfigurationError, PermanentDeliveryError, RetryableDeliveryError
from webhook_translator.observability import logger
from webhook_translator.ours.models import InvalidTrackEvent, TrackEvent, track_body, validate_token
from webhook_translator.redact import redact

__all__ = [
    "DELIVERED",
    "MAX_RETRY_AFTER",
    "BatchOutcome",
    "BatchResult",
    "OursClient",
    "TokenSource",
    "default_session",
]

#: the longest ``Retry-After`` honoured (SQS cannot hide a message for longer)
MAX_RETRY_AFTER: Final = 12 * 3600.0
#: the shortest wait, whatever Retry-After says ("0" or a past date must not burn every retry at once)
MIN_RETRY_DELAY: Final = 1.0
DELIVERED: Final = "delivered"
AUTH_STATUSES: Final = frozenset({401, 403})
RETRYABLE_STATUSES: Final = frozenset({408, 409, 429})
#: the most bytes of an error answer ever looked at
_MAX_ERROR_BYTES: Final = 4096

BatchOutcome: TypeAlias = Literal["delivered"] | RetryableDeliveryError | PermanentDeliveryError


class TokenSource(Protocol):
    """Where the client gets the Ours token (a :class:`~webhook_translator.secrets.SecretStore`)."""

    def ours_token(self, source: str, *, force: bool = False) -> str: ...


@dataclass(frozen=True)
class BatchResult:
    """What became of each event of a :meth:`OursClient.batch` call, by input index."""

    outcomes: tuple[BatchOutcome, ...]

    def __len__(self) -> int:
        return len(self.outcomes)

    def __getitem__(self, index: int) -> BatchOutcome:
        return self.outcomes[index]

    def __iter__(self) -> Iterator[BatchOutcome]:
        return iter(self.outcomes)

    @property
    def delivered(self) -> list[int]:
        return [i for i, outcome in enumerate(self.outcomes) if outcome == DELIVERED]

    @property
    def retryable(self) -> dict[int, RetryableDeliveryError]:
        return {i: o for i, o in enumerate(self.outcomes) if isinstance(o, RetryableDeliveryError)}

    @property
    def permanent(self) -> dict[int, PermanentDeliveryError]:
        return {i: o for i, o in enumerate(self.outcomes) if isinstance(o, PermanentDeliveryError)}

    @property
    def all_delivered(self) -> bool:
        return all(outcome == DELIVERED for outcome in self.outcomes)


def default_session(pool_size: int = 10) -> requests.Session:
    """A session whose connection pool holds ``pool_size`` connections per host, and never retries by itself."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


@dataclass
class _Call:
    """One public call's token state: the token in use and whether the one re-read was spent."""

    source: str
    token: str | None = None
    reread: bool = False


@dataclass
class _Answer:
    status: int
    headers: CaseInsensitiveDict[str]
    body: Any = None
    text: str = ""
    tokens: list[str] = field(default_factory=list)


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
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock
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
        call = _Call(source)
        log = {"source": source, "ours_event": event.event, "distinct_id": event.distinct_id, "attempt": attempt}
        answer = self._post_authorised("/track", call, lambda token: track_body(event, token), attempt, log)
        status = answer.status
        if 200 <= status < 300:
            if isinstance(answer.body, dict) and answer.body.get("success") is False:
                # undocumented: counted as delivered (Ours took it), but worth an operator's look
                logger.warning("Ours answered 2xx with success=false", extra={**log, "status": status})
            return
        raise self._error_for(answer, "/track", attempt)

    def batch(self, events: Sequence[TrackEvent], *, source: str, attempt: int = 1) -> BatchResult:
        """Deliver many events in one call; never raises for a delivery failure, reports one per event.

        Every event needs a ``distinctId`` (:class:`InvalidTrackEvent` otherwise, before anything is sent).
        """
        missing = [(f"events.{i}.distinctId", "missing") for i, e in enumerate(events) if not e.distinct_id]
        if missing:
            raise InvalidTrackEvent(missing)
        outcomes: list[BatchOutcome] = [DELIVERED] * len(events)
        if events:
            self._batch_chunk(list(enumerate(events)), _Call(source), attempt, outcomes)
        return BatchResult(tuple(outcomes))

    def retry_delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before the next try: ``Retry-After`` if usable, else backoff with jitter."""
        if retry_after is not None:
            delay = _parse_retry_after(retry_after, now=self._clock())
            if delay is not None:
                # a floor and a little jitter: "0" or a past date must not burn every retry at once
                return min(max(delay, MIN_RETRY_DELAY) + self._rng.uniform(0.0, 1.0), MAX_RETRY_AFTER)
        exponent = max(0, min(attempt, 64) - 1)
        backoff: float = min(2.0 * 2.0**exponent, self.max_delay)
        return backoff + self._rng.uniform(1.0, 5.0)

    # --- batch -----------------------------------------------------------------------------------

    def _batch_chunk(
        self,
        rows: list[tuple[int, TrackEvent]],
        call: _Call,
        attempt: int,
        outcomes: list[BatchOutcome],
    ) -> None:
        log = {"source": call.source, "rows": len(rows), "attempt": attempt}

        def body(token: str) -> dict[str, Any]:
            return {"token": validate_token(token), "events": [event.to_ours() for _, event in rows]}

        try:
            answer = self._post_authorised("/batch", call, body, attempt, log)
        except (RetryableDeliveryError, PermanentDeliveryError) as exc:
            for index, _ in rows:
                outcomes[index] = exc
            return
        status = answer.status
        if 200 <= status < 300 and status != 207:
            return
        if status == 413 and len(rows) > 1:
            limit = answer.body.get("limit") if isinstance(answer.body, dict) else None
            size = limit if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < len(rows) else None
            size = size or (len(rows) + 1) // 2
            logger.info("Ours batch too large; splitting", extra={**log, "chunk": size})
            for start in range(0, len(rows), size):
                self._batch_chunk(rows[start : start + size], call, attempt, outcomes)
            return
        if status == 207 or (status >= 500 and isinstance(answer.body, dict) and "results" in answer.body):
            self._apply_rows(rows, answer, attempt, outcomes)
            return
        error = self._error_for(answer, "/batch", attempt)
        for index, _ in rows:
            outcomes[index] = error

    def _apply_rows(
        self, rows: list[tuple[int, TrackEvent]], answer: _Answer, attempt: int, outcomes: list[BatchOutcome]
    ) -> None:
        """207 (or 5xx with ``results``): each failed row by its code.

        On a 207 the rows not reported failed are delivered. On a 5xx they are delivered only when
        Ours's ``accepted`` count says so; otherwise they are retried too (their distinctIds make
        that safe), because nothing is lost is the first rule.
        """
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        if not isinstance(results, list):
            # a 207 without rows tells us nothing: retry them all (distinctIds make that safe)
            error = RetryableDeliveryError(
                f"Ours answered {answer.status} to /batch without per-row results",
                delay=self.retry_delay(attempt, answer.headers.get("Retry-After")),
                status=answer.status,
            )
            for index, _ in rows:
                outcomes[index] = error
            return
        delay: float | None = None
        reported: set[int] = set()
        for row in results:
            if not isinstance(row, dict) or row.get("success") is True:
                continue
            position = row.get("index")
            if not isinstance(position, int) or isinstance(position, bool) or not 0 <= position < len(rows):
                continue
            index = rows[position][0]
            reported.add(position)
            message = row.get("message")
            detail = redact(_scrub(str(message), answer.tokens)) if message else "no message"
            if row.get("code") == "invalid_event":
                outcomes[index] = PermanentDeliveryError(
                    f"Ours rejected the event (invalid_event): {detail}", reason="ours_rejected", status=answer.status
                )
            else:
                if delay is None:
                    delay = self.retry_delay(attempt, answer.headers.get("Retry-After"))
                code = row.get("code") if isinstance(row.get("code"), str) else "unknown"
                outcomes[index] = RetryableDeliveryError(
                    f"Ours could not queue the event ({redact(str(code), 40)})",
                    delay=delay,
                    reason="ours_unavailable",
                    status=answer.status,
                )
        if answer.status == 207:
            return
        # a 5xx lists the failed rows; the others count as delivered only if Ours's "accepted" confirms it
        accepted = answer.body.get("accepted")
        if isinstance(accepted, int) and accepted == len(rows) - len(reported):
            return
        error = RetryableDeliveryError(
            f"Ours answered {answer.status} to /batch without confirming the other rows",
            delay=delay if delay is not None else self.retry_delay(attempt, answer.headers.get("Retry-After")),
            status=answer.status,
        )
        for position, (index, _) in enumerate(rows):
            if position not in reported:
                outcomes[index] = error

    # --- one HTTP exchange -----------------------------------------------------------------------

    def _token(self, call: _Call, *, force: bool) -> str:
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
        call: _Call,
        body: Callable[[str], dict[str, Any]],
        attempt: int,
        log: dict[str, Any],
    ) -> _Answer:
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

    def _post(self, path: str, payload: dict[str, Any], attempt: int, log: dict[str, Any]) -> _Answer:
        url = self.base_url + path
        data = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
        started = time.monotonic()
        try:
            response = self._session.post(
                url, data=data, headers=self._headers, timeout=self.timeout, allow_redirects=False
            )
            # read the whole answer now so the connection goes back to the pool
            content = response.content
        except requests.Timeout as exc:
            what = "connect" if isinstance(exc, requests.ConnectTimeout) else "answer"
            logger.warning("Ours timed out", extra={**log, "path": path, "error": type(exc).__name__})
            raise RetryableDeliveryError(
                f"Ours did not {what} in time ({type(exc).__name__})",
                delay=self.retry_delay(attempt, None),
                reason="ours_unavailable",
            ) from None
        except requests.RequestException as exc:
            logger.warning("Ours unreachable", extra={**log, "path": path, "error": type(exc).__name__})
            raise RetryableDeliveryError(
                f"Ours could not be reached ({type(exc).__name__})",
                delay=self.retry_delay(attempt, None),
                reason="ours_unavailable",
            ) from None
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        status = response.status_code
        level = logger.debug if 200 <= status < 300 else logger.warning
        level("Ours answered", extra={**log, "path": path, "status": status, "duration_ms": elapsed_ms})
        text = content[:_MAX_ERROR_BYTES].decode("utf-8", errors="replace") if status >= 300 else ""
        parsed: Any = None
        if content.lstrip()[:1] == b"{":
            try:
                parsed = json.loads(content)
            except ValueError:
                parsed = None
        return _Answer(status=status, headers=response.headers, body=parsed, text=text)

    def _error_for(self, answer: _Answer, path: str, attempt: int) -> RetryableDeliveryError | PermanentDeliveryError:
        """The error for a non-2xx answer that is not an auth failure."""
        status = answer.status
        if status in RETRYABLE_STATUSES or status >= 500:
            reason = "rate_limited" if status == 429 else "ours_unavailable"
            return RetryableDeliveryError(
                f"Ours answered {status} to {path}: {self._ours_text(answer)}",
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
            f"Ours rejected {path} ({status}): {self._ours_text(answer)}", reason="ours_rejected", status=status
        )

    @staticmethod
    def _ours_text(answer: _Answer) -> str:
        """Ours's own error text (``{"success": false, "error": ...}``), redacted and cut to ~200 characters."""
        text: str | None = None
        if isinstance(answer.body, dict):
            for key in ("error", "message"):
                value = answer.body.get(key)
                if isinstance(value, str) and value.strip():
                    text = value
                    break
        if text is None:
            text = answer.text if answer.text.strip() and answer.body is None else ""
        if not text.strip():
            return "no error text"
        return redact(_scrub(text[:2000], answer.tokens))


def _scrub(text: str, secrets: Sequence[str]) -> str:
    """Remove known secrets verbatim (before the pattern-based redaction)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    return text


_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def _parse_retry_after(value: str, *, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date; ``None`` if unusable."""
    value = value.strip()
    if _SECONDS.fullmatch(value):
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)
