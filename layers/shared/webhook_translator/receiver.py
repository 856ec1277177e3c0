"""The receiver: API Gateway HTTP API (payload 2.0) → verified → queued raw on SQS.

``POST /webhooks/{source}`` answers (DESIGN.md):

===  =========================================================================
200  verified and queued: ``{"received": true, "id": "<webhook id>"}`` (also a handshake's answer)
400  malformed body, bad base64, missing Content-Type
401  missing, wrong or stale signature (never echoes a computed signature); ``reason`` names which
404  unknown source
403  a GET handshake whose verify token does not match (Meta's ``hub.verify_token``)
405  not a POST (``GET /webhooks/{source}`` of a source with a handshake: its text/plain challenge, 200)
413  body over ``MAX_BODY_BYTES`` (or an envelope over the SQS limit)
415  a content type the source does not send
503  the queue or the secret is unavailable — the provider retries; nothing unqueued is acknowledged
===  =========================================================================

Every refusal answers ``{"error": "<sentence>", "reason": "<code>"}`` and is logged and counted
(``WebhooksRefused`` by source and reason) with the same code. Typed errors
(:mod:`webhook_translator.errors`) become answers in :meth:`Receiver.handle` only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
from urllib.parse import unquote

from webhook_translator import log_events, observability, translator_config
from webhook_translator.admission import Handshake, admit
from webhook_translator.aws import sqs_client
from webhook_translator.config import Settings, settings
from webhook_translator.dlq_attributes import QueuedAttributes
from webhook_translator.envelope import Envelope
from webhook_translator.errors import (
    BadRequest,
    ConfigurationError,
    QueueUnavailable,
    SignatureError,
    WebhookRejected,
)
from webhook_translator.observability import logger, metrics
from webhook_translator.secrets import store_from_settings
from webhook_translator.sources.base import Source
from webhook_translator.sources.registry import REGISTRY, enabled_registry
from webhook_translator.sources.request import InboundRequest

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SigningSecrets(Protocol):
    def signing_secrets(self, source: str) -> list[str]: ...

    def verify_token(self, source: str) -> str | None: ...


class Answer(NamedTuple):
    status: int
    body: Mapping[str, Any]
    #: a text/plain answer instead of the JSON ``body`` (a GET handshake's challenge)
    text: str | None = None

    def to_apigw(self) -> dict[str, Any]:
        if self.text is not None:
            return {"statusCode": self.status, "headers": {"content-type": "text/plain"}, "body": self.text}
        return {
            "statusCode": self.status,
            "headers": {"content-type": "application/json"},
            "body": json.dumps(self.body, separators=(",", ":")),
        }


def source_from_path(raw_path: object) -> str:
    """The ``{source}`` of a raw (percent-encoded) ``…/webhooks/{source}`` path; ``""`` for any other path."""
    parts = str(raw_path or "").split("/")
    return unquote(parts[-1]) if len(parts) >= 3 and parts[-2] == "webhooks" else ""


def request_from_apigw(event: Mapping[str, Any], received_at: datetime) -> tuple[str, str, InboundRequest]:
    """(method, source name, request) from an HTTP API payload-2.0 event; the body stays raw bytes."""
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or "POST").upper()
    params = event.get("pathParameters") or {}
    # the route's {source}, exactly as sent (no trimming: "stripe " is not stripe); an event without it
    # (`sam local generate-event apigateway http-api-proxy --path webhooks/stripe`) names it in rawPath
    source = str(params["source"] or "") if "source" in params else source_from_path(event.get("rawPath"))
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    raw = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (ValueError, binascii.Error):
            raise BadRequest("body is not valid base64") from None
    else:
        body = raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)
    query = {str(k): str(v) for k, v in (event.get("queryStringParameters") or {}).items()}
    domain = (event.get("requestContext") or {}).get("domainName") or headers.get("host") or "localhost"
    url = f"https://{domain}{event.get('rawPath') or ''}"
    if event.get("rawQueryString"):
        url += f"?{event['rawQueryString']}"
    stage = str((event.get("requestContext") or {}).get("stage") or "")
    request = InboundRequest(
        source=source, body=body, headers=headers, query=query, url=url, stage=stage, received_at=received_at
    )
    return method, source, request


class Receiver:
    """Verify one webhook and queue it; every refusal is a typed error turned into an answer here."""

    def __init__(
        self,
        config: Settings,
        secrets: SigningSecrets,
        *,
        sqs: SQSClient | None = None,
        registry: Mapping[str, Source] = REGISTRY,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not config.queue_url:
            raise RuntimeError("QUEUE_URL is not set")
        self._config = config
        self._secrets = secrets
        self.sqs = sqs if sqs is not None else sqs_client()
        self._registry = enabled_registry(registry, config.enabled_sources)
        self._clock = clock

    def handle(self, event: Mapping[str, Any]) -> dict[str, Any]:
        source_name = "-"
        try:
            method, source_name, request = request_from_apigw(event, self._clock())
            answer = self._receive(method, request)
        except WebhookRejected as exc:
            answer = self._refuse(source_name, exc)
        except Exception as exc:  # a bug: answer in DESIGN's shape, log the type only (messages may hold input)
            answer = Answer(500, {"error": "internal error; retry later", "reason": "internal_error"})
            logger.error(log_events.RECEIVER_FAILED, extra={"source": source_name[:64], "error": type(exc).__name__})
            metrics.add(observability.REFUSED, Source=self._dimension(source_name), Reason="internal_error")
        metrics.add(observability.RECEIVED, Source=self._dimension(source_name))
        return answer.to_apigw()

    def _dimension(self, source_name: str) -> str:
        """The ``Source`` metric dimension: a registered name, else ``-`` (bounded, whatever the path says)."""
        return source_name if source_name in self._registry else "-"

    def _refuse(self, source_name: str, exc: WebhookRejected) -> Answer:
        """The answer, the log line and the metrics of one refusal: ``{"error": <sentence>, "reason": <code>}``."""
        fields: dict[str, Any] = {"source": source_name[:64], "status": exc.status, "reason": exc.reason}
        if isinstance(exc, ConfigurationError):
            # the detail (secret name, what is wrong with it) is for operators, not for callers
            answer = Answer(
                exc.status,
                {"error": "the receiver is not configured for this source yet; retry later", "reason": exc.reason},
            )
            logger.error(log_events.WEBHOOK_REFUSED, extra={**fields, "detail": exc.message})
        else:
            answer = Answer(exc.status, {"error": exc.message, "reason": exc.reason})
            log = logger.warning if exc.status >= 500 else logger.info
            log(log_events.WEBHOOK_REFUSED, extra=fields)
        source = self._dimension(source_name)
        metrics.add(observability.REFUSED, Source=source, Reason=exc.reason)
        if isinstance(exc, SignatureError):
            metrics.add(observability.VERIFICATION_FAILED, 1, Source=source)
        return answer

    def _receive(self, method: str, request: InboundRequest) -> Answer:
        admitted = admit(
            request,
            registry=self._registry,
            max_body_bytes=self._config.max_body_bytes,
            secrets_for=self._secrets.signing_secrets,
            method=method,
            verify_token_for=self._secrets.verify_token,
        )
        metrics.add(observability.VERIFICATION_FAILED, 0, Source=admitted.source.name)  # verified
        if isinstance(admitted, Handshake):
            logger.info(log_events.HANDSHAKE_ANSWERED, extra={"source": admitted.source.name})
            return Answer(200, admitted.answer, text=admitted.text)
        envelope = admitted.envelope
        self._enqueue(envelope, admitted.message)
        logger.info(
            log_events.WEBHOOK_QUEUED,
            extra={
                "source": envelope.source,
                "webhook_id": envelope.webhook_id,
                "received_at": envelope.received_at.isoformat(timespec="milliseconds"),
            },
        )
        metrics.add(observability.QUEUED, Source=envelope.source)
        return Answer(200, {"received": True, "id": envelope.webhook_id})

    def _enqueue(self, envelope: Envelope, message: str) -> None:
        try:
            self.sqs.send_message(
                QueueUrl=str(self._config.queue_url),
                MessageBody=message,
                MessageAttributes=QueuedAttributes(source=envelope.source, webhook_id=envelope.webhook_id).to_sqs(),
            )
        except Exception as exc:  # any botocore/network failure: the provider must retry
            logger.error(log_events.QUEUE_UNAVAILABLE, extra={"source": envelope.source, "error": type(exc).__name__})
            raise QueueUnavailable("could not queue the webhook; retry later") from None


@lru_cache(maxsize=1)
def default_receiver() -> Receiver:
    """The Lambda's receiver, built once per container from the environment."""
    config = settings()
    translation = translator_config.load(config)  # an invalid document fails the init, in one line
    store = store_from_settings(config)
    return Receiver(config, store, registry=translation.registry)
