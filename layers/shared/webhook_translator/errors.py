"""Typed errors, translated into answers in one place each.

The receiver turns :class:`WebhookRejected` into an HTTP status (``receiver.py``);
the forwarder turns :class:`MappingError` and :class:`DeliveryError` into
"retry" or "dead-letter with a reason" (``forwarder.py``).

Messages carried by these errors are shown to providers, written to logs and
stored as DLQ attributes, so they must never hold personal data, tokens,
secrets or signatures: they name the rule that broke, not the value.
"""

from __future__ import annotations

from typing import Final

#: the reason codes of a 401 (DESIGN.md, "Refusals name a reason code")
MISSING_SIGNATURE: Final = "missing_signature"
MALFORMED_SIGNATURE: Final = "malformed_signature"
STALE_TIMESTAMP: Final = "stale_timestamp"
FUTURE_TIMESTAMP: Final = "future_timestamp"
NO_MATCHING_SECRET: Final = "no_matching_secret"
#: the signature matches the body only after a proxy-style rewrite (re-serialised JSON, line endings, base64)
BODY_MODIFIED: Final = "body_modified"
SIGNATURE_REASONS: Final = (
    MISSING_SIGNATURE,
    MALFORMED_SIGNATURE,
    STALE_TIMESTAMP,
    FUTURE_TIMESTAMP,
    NO_MATCHING_SECRET,
    BODY_MODIFIED,
)


class TranslatorError(Exception):
    """Base of every error this package raises on purpose."""

    #: a short machine-readable code (a DLQ reason, a metric dimension…)
    reason: str = "error"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


# --- receiver: each maps to one HTTP status -------------------------------------------------


class WebhookRejected(TranslatorError):
    """The webhook is refused; nothing is queued."""

    status: int = 400


class BadRequest(WebhookRejected):
    status = 400
    reason = "bad_request"


class SignatureError(WebhookRejected):
    """A missing, malformed, stale or wrong signature; ``reason`` is one of :data:`SIGNATURE_REASONS`."""

    status = 401
    reason = NO_MATCHING_SECRET


class Forbidden(WebhookRejected):
    status = 403
    reason = "forbidden"


class UnknownSource(WebhookRejected):
    status = 404
    reason = "unknown_source"


class NotFound(WebhookRejected):
    status = 404
    reason = "not_found"


class MethodNotAllowed(WebhookRejected):
    status = 405
    reason = "method_not_allowed"


class PayloadTooLarge(WebhookRejected):
    status = 413
    reason = "payload_too_large"


class UnsupportedMediaType(WebhookRejected):
    status = 415
    reason = "unsupported_media_type"


class QueueUnavailable(WebhookRejected):
    status = 503
    reason = "queue_unavailable"


class ConfigurationError(WebhookRejected):
    """The deployment is misconfigured (secret missing, unreadable…): the provider should retry."""

    status = 503
    reason = "configuration"


# --- forwarder: mapping a queued webhook into TrackEvents -----------------------------------


class MappingError(TranslatorError):
    """A queued webhook cannot become TrackEvents. Permanent: retrying cannot help."""

    reason = "invalid_payload"


class NoIdentity(MappingError):
    reason = "no_identity"


class StaleEvent(MappingError):
    reason = "stale_event"


class InvalidEnvelope(MappingError):
    reason = "invalid_envelope"


# --- forwarder: delivering to Ours ------------------------------------------------------------


class DeliveryError(TranslatorError):
    reason = "delivery"


class PermanentDeliveryError(DeliveryError):
    """Ours refused the payload (or the token, after a re-read): dead-letter at once."""

    reason = "ours_rejected"

    def __init__(self, message: str, *, reason: str | None = None, status: int | None = None) -> None:
        super().__init__(message, reason=reason)
        self.status = status


class RetryableDeliveryError(DeliveryError):
    """A transient failure: try again after ``delay`` seconds, with the same distinctId."""

    reason = "ours_unavailable"

    def __init__(self, message: str, *, delay: float, reason: str | None = None, status: int | None = None) -> None:
        super().__init__(message, reason=reason)
        self.delay = delay
        self.status = status


# --- forwarder: the fetch step (a provider's API asked for an item's details) ----------------------


class ProviderUnavailable(RetryableDeliveryError):
    """The provider's API failed transiently (429, 5xx, timeout, connection): retried like Ours."""

    reason = "provider_unavailable"


class ProviderRefused(PermanentDeliveryError):
    """The provider's API refused the fetch: ``provider_auth`` (401/403), ``provider_not_found``
    (404/410) or ``provider_rejected`` (any other answer). Dead-lettered at once; a redrive fetches again."""

    reason = "provider_rejected"


class NoApiCredential(ProviderRefused):
    """The source's secret entry holds no ``api_token`` (or ``api_user``): a source whose fetch is
    optional (HubSpot's subscriptions) maps without it; for any other it is ``provider_auth``."""

    reason = "provider_auth"
