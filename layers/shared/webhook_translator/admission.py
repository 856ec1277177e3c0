"""The receiver's decision, without side effects: is this request a webhook we queue?

:func:`admit` takes one request and returns what the receiver does with it — a
:class:`Handshake` to answer, or an :class:`Admitted` webhook (its envelope and the
queue message) — or raises the typed refusal (:class:`~webhook_translator.errors.WebhookRejected`)
the receiver turns into a status. It sends nothing and logs nothing; the receiver
(`receiver.py`) and the CLI's ``translate`` both call it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from webhook_translator.envelope import Envelope
from webhook_translator.errors import (
    BadRequest,
    ConfigurationError,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    UnknownSource,
    UnsupportedMediaType,
)
from webhook_translator.sources.base import Source
from webhook_translator.sources.request import InboundRequest, body_hash

#: a source's signing secrets by source name (the secret document); None: do not verify (a dry run)
SecretsFor = Callable[[str], Sequence[str]]
#: a source's GET-handshake verify token by source name (the secret document); None when it has none
VerifyTokenFor = Callable[[str], str | None]


class Handshake(NamedTuple):
    """A URL-verification challenge: answered with ``answer`` (JSON) or ``text`` (text/plain), nothing queued."""

    source: Source
    answer: dict[str, Any]
    text: str | None = None


class Admitted(NamedTuple):
    """A genuine webhook, ready for the queue."""

    source: Source
    envelope: Envelope
    #: the queue message body (the envelope serialised; :class:`PayloadTooLarge` if it cannot fit)
    message: str


def find_source(name: str, registry: Mapping[str, Source]) -> Source:
    """The registered source for a path segment; :class:`NotFound` / :class:`UnknownSource` otherwise."""
    if not name:
        raise NotFound("no source in the path: POST /webhooks/{source}")
    source = registry.get(name)
    if source is None:
        raise UnknownSource(f"unknown source {name[:64]!r}; known: {', '.join(sorted(registry))}")
    return source


def check_request(source: Source, request: InboundRequest, *, method: str, max_body_bytes: int) -> None:
    """The checks before any secret is read: the method, the size and the content type."""
    if method != "POST":
        raise MethodNotAllowed(f"{method} is not allowed: send POST")
    if len(request.body) > max_body_bytes:
        raise PayloadTooLarge(f"body is {len(request.body)} bytes; the limit is {max_body_bytes}")
    if not request.content_type:
        raise BadRequest("missing Content-Type header")
    if request.content_type not in source.content_types:
        raise UnsupportedMediaType(
            f"{source.name} sends {', '.join(source.content_types)}, not {request.content_type[:80]}"
        )


def verify(source: Source, request: InboundRequest, secrets_for: SecretsFor) -> list[str]:
    """The source's secrets, once one of them verified ``request``."""
    secrets = list(secrets_for(source.name))
    if not secrets:
        raise ConfigurationError(f"no signing secret configured for source {source.name!r}")
    source.verify(request, secrets)
    return secrets


def wrap(source: Source, request: InboundRequest) -> Admitted:
    """The envelope of a verified webhook: its id (the provider's, else the body's hash) and the headers kept."""
    webhook_id = source.webhook_id(request) or f"sha256:{body_hash(request.body)[:40]}"
    envelope = Envelope.wrap(
        source=source.name,
        webhook_id=webhook_id,
        received_at=request.received_at,
        content_type=request.header("content-type") or "",
        body=request.body,
        headers={h: v for h in source.forwarded_headers if (v := request.header(h)) is not None},
    )
    return Admitted(source, envelope, envelope.to_message())


def get_handshake(source: Source, request: InboundRequest, verify_token_for: VerifyTokenFor | None) -> Handshake:
    """``GET /webhooks/{source}`` of a source with a subscription handshake: its text answer, or the refusal."""
    token = verify_token_for(source.name) if verify_token_for is not None else None
    if token is None:
        raise ConfigurationError(f"no verify_token configured for source {source.name!r}")
    return Handshake(source, {}, text=source.answer_get(request, token))


def admit(
    request: InboundRequest,
    *,
    registry: Mapping[str, Source],
    max_body_bytes: int,
    secrets_for: SecretsFor | None,
    method: str = "POST",
    verify_token_for: VerifyTokenFor | None = None,
) -> Admitted | Handshake:
    """What the receiver does with ``request``, in the receiver's order; raises the typed refusal."""
    source = find_source(request.source, registry)
    if method == "GET" and source.answers_get:
        return get_handshake(source, request, verify_token_for)
    check_request(source, request, method=method, max_body_bytes=max_body_bytes)
    secrets: list[str] = []
    if secrets_for is not None:
        secrets = verify(source, request, secrets_for)
    challenge = source.handshake(request, secrets)
    if challenge is not None:
        return Handshake(source, challenge)
    return wrap(source, request)
