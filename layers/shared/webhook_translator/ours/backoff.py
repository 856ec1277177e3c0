"""When to try again: ``Retry-After`` (seconds or an HTTP date) when Ours sends one, else backoff with jitter."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Final

__all__ = ["MAX_RETRY_AFTER", "MIN_RETRY_DELAY", "Backoff", "parse_retry_after"]

#: the longest ``Retry-After`` honoured (SQS cannot hide a message for longer)
MAX_RETRY_AFTER: Final = 12 * 3600.0
#: the shortest wait, whatever Retry-After says ("0" or a past date must not burn every retry at once)
MIN_RETRY_DELAY: Final = 1.0

_SECONDS = re.compile(r"\d+(?:\.\d+)?")


class Backoff:
    """Ours's advice: 2 s doubling up to ``max_delay``, plus 1–5 s of jitter; ``Retry-After`` wins when usable."""

    def __init__(
        self, max_delay: float, *, rng: random.Random | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.max_delay = max_delay
        self._rng = rng if rng is not None else random.Random()
        self._clock = clock

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before the next try."""
        if retry_after is not None:
            delay = parse_retry_after(retry_after, now=self._clock())
            if delay is not None:
                # a floor and a little jitter: "0" or a past date must not burn every retry at once
                return min(max(delay, MIN_RETRY_DELAY) + self._rng.uniform(0.0, 1.0), MAX_RETRY_AFTER)
        exponent = max(0, min(attempt, 64) - 1)
        backoff: float = min(2.0 * 2.0**exponent, self.max_delay)
        return backoff + self._rng.uniform(1.0, 5.0)


def parse_retry_after(value: str, *, now: float) -> float | None:
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
