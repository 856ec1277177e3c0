"""The names of the log records the pipeline writes on purpose: one constant per event.

Each is the record's message in the structured (JSON) log, so a log query, ``find WEBHOOK_ID``
and ``serve``'s console (:mod:`webhook_translator_tools.local.console`) match the same names the
producers write. Changing a value changes what operators search for.
"""

from __future__ import annotations

from typing import Final

# --- the receiver
WEBHOOK_QUEUED: Final = "webhook queued"
WEBHOOK_REFUSED: Final = "webhook refused"
HANDSHAKE_ANSWERED: Final = "handshake answered"
RECEIVER_FAILED: Final = "receiver failed"
QUEUE_UNAVAILABLE: Final = "queue unavailable"

# --- the forwarder: one record per webhook's outcome
WEBHOOK_DELIVERED: Final = "webhook delivered"
WEBHOOK_SKIPPED: Final = "webhook skipped"
WEBHOOK_DEAD_LETTERED: Final = "webhook dead-lettered"
WEBHOOK_RETRIED: Final = "webhook will be retried"
#: the outcome record of each forwarder status
OUTCOMES: Final = {
    "delivered": WEBHOOK_DELIVERED,
    "skipped": WEBHOOK_SKIPPED,
    "dead_lettered": WEBHOOK_DEAD_LETTERED,
    "retry": WEBHOOK_RETRIED,
}
FORWARDER_FAILED: Final = "unexpected error"
RETRY_DELAY_NOT_SET: Final = "could not set the retry delay"
DEAD_LETTER_FAILED: Final = "could not dead-letter; leaving the message on the queue"
CIRCUIT_OPEN: Final = "Ours failing: records returned to the queue without a call"
AUTH_GRACE: Final = "Ours refuses the token: retrying within the grace period"

# --- the Ours client
OURS_ANSWERED: Final = "Ours answered"
OURS_TIMED_OUT: Final = "Ours timed out"
OURS_UNREACHABLE: Final = "Ours unreachable"

# --- the fetch step (a provider's API)
PROVIDER_ANSWERED: Final = "provider API answered"
PROVIDER_TIMED_OUT: Final = "provider API timed out"
PROVIDER_UNREACHABLE: Final = "provider API unreachable"
