"""Per-container state that spares a struggling Ours: the circuit breaker and the auth grace clock.

:class:`CircuitBreaker` — after :data:`FAILURE_RUN` Ours calls in a row answered 5xx or 429, or
did not connect or answer, the circuit *opens*: calls are refused without being made (the records
go back to the queue) until a backoff period has passed; then exactly one call goes out as a probe.
The probe succeeding closes the circuit; failing, it opens it again for a period twice as long, up
to ``max_period``. Any answer that shows Ours is up (a 2xx, a 207, a 4xx) closes it.

:class:`AuthGrace` — when Ours keeps refusing a source's token after the secret was re-read, the
webhooks of that source are retried for ``grace`` seconds from the first such refusal this
container saw (a rotation gap: the token was revoked before the secret was updated), then
dead-lettered as ``auth``. Any delivery for the source resets it.

Both are thread-safe (the forwarder calls Ours from a pool) and injected with the clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final, Literal

__all__ = ["FAILURE_RUN", "AuthGrace", "CircuitBreaker"]

#: consecutive outage answers that open the circuit
FAILURE_RUN: Final = 3
#: the first open period, seconds (then doubled at each failed probe)
FIRST_PERIOD: Final = 2.0


class CircuitBreaker:
    def __init__(
        self,
        *,
        max_period: float,
        failure_run: int = FAILURE_RUN,
        first_period: float = FIRST_PERIOD,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_period = max(max_period, first_period)
        self.failure_run = failure_run
        self.first_period = first_period
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._period = 0.0
        self._open_until: float | None = None
        self._probing = False
        #: calls refused while open (for the logs and the tests)
        self.refused = 0

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        with self._lock:
            if self._open_until is None:
                return "closed"
            return "half_open" if self._probing or self._clock() >= self._open_until else "open"

    def allow(self) -> bool:
        """Whether a call may go out now (when open: one probe per period, the others refused)."""
        with self._lock:
            if self._open_until is None:
                return True
            if not self._probing and self._clock() >= self._open_until:
                self._probing = True
                return True
            self.refused += 1
            return False

    def retry_in(self) -> float:
        """Seconds until the next probe may go out (0 when closed)."""
        with self._lock:
            if self._open_until is None:
                return 0.0
            return max(0.0, self._open_until - self._clock())

    def succeeded(self) -> None:
        """Ours answered (whatever it said about the payload): close the circuit."""
        with self._lock:
            self._failures = 0
            self._period = 0.0
            self._open_until = None
            self._probing = False

    def failed(self) -> None:
        """Ours answered 5xx/429, or could not be reached: count it; open (or re-open) the circuit."""
        with self._lock:
            self._failures += 1
            if self._probing or (self._open_until is None and self._failures >= self.failure_run):
                self._period = min(self.max_period, self._period * 2 if self._period else self.first_period)
                self._open_until = self._clock() + self._period
                self._probing = False


class AuthGrace:
    def __init__(self, grace: float, *, clock: Callable[[], float] = time.time) -> None:
        self.grace = grace
        self._clock = clock
        self._lock = threading.Lock()
        self._since: dict[str, float] = {}

    def refused(self, source: str) -> float | None:
        """Ours refused the source's token again: seconds of grace left, or None when it is spent."""
        with self._lock:
            now = self._clock()
            since = self._since.setdefault(source, now)
            left = since + self.grace - now
            return left if left > 0 else None

    def delivered(self, source: str) -> None:
        with self._lock:
            self._since.pop(source, None)
