"""What a source is: a verifier, an id for dedupe, and a mapper — plus the helpers source modules share.

The parts a source is made of live beside it: :mod:`.request` (the webhook as received),
:mod:`.signing` (the table-driven HMAC scheme), :mod:`.context` (what a mapper gets and gives back).
"""

from __future__ import annotations

import hashlib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from webhook_translator.errors import BadRequest, MethodNotAllowed

if TYPE_CHECKING:  # the forwarder maps queued envelopes: it never imports the request or the HMAC scheme
    from pydantic import BaseModel

    from webhook_translator.envelope import Envelope
    from webhook_translator.sources.context import MapContext, MapResult
    from webhook_translator.sources.request import InboundRequest
    from webhook_translator.sources.signing import HmacScheme


class ModelRef:
    """A class attribute naming a pydantic model as ``"module:Name"``, imported when first read.

    A source module imports no pydantic (the receiver imports it to verify: :mod:`.models`);
    its options model is needed only when a configuration sets options, or by its mapper.
    """

    def __init__(self, path: str) -> None:
        self.path = path

    def __get__(self, instance: object, owner: type | None = None) -> type[BaseModel]:
        module, _, name = self.path.partition(":")
        model: type[BaseModel] = getattr(importlib.import_module(module), name)
        return model


# --- the source ------------------------------------------------------------------------------------


class Source(ABC):
    """One provider: how to verify it, which id it carries, and how its webhooks map to Ours."""

    #: the registry key and the path segment: ``POST /webhooks/{name}``
    name: ClassVar[str]
    title: ClassVar[str]
    #: media types accepted (415 otherwise)
    content_types: ClassVar[tuple[str, ...]] = ("application/json",)
    #: provider event type → default Ours event name (what ``sources`` lists for the allowlist)
    events: ClassVar[Mapping[str, str]] = {}
    #: lower-cased request headers the mapper needs, copied into the envelope (never a signature)
    forwarded_headers: ClassVar[tuple[str, ...]] = ()
    #: whether its mapper fetches details from the provider's API (the fetch step: ``ctx.fetch``)
    fetches: ClassVar[bool] = False
    #: the model of this source's ``options`` in TRANSLATOR_CONFIG (checked when the functions start)
    options_model = ModelRef("webhook_translator.sources.models:NoOptions")

    def prepare(self) -> None:
        """Make ready now what this source's mapper would build at its first webhook (its models).

        The forwarder calls it in its init for the sources ``ENABLED_SOURCES`` names; the receiver never.
        """
        from webhook_translator.sources.models import build_models

        build_models(type(self).__module__)

    @abstractmethod
    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        """Raise :class:`SignatureError` unless the request is genuine."""

    def webhook_id(self, request: InboundRequest) -> str | None:
        """The provider's own id for this delivery, or None (the receiver then hashes the body).

        Raises :class:`BadRequest` when the body is malformed for this source.
        """
        return None

    def handshake(self, request: InboundRequest, secrets: Sequence[str] = ()) -> dict[str, Any] | None:
        """An answer to a URL-verification challenge, or None for an ordinary webhook.

        Called after :meth:`verify` with the same ``secrets`` (empty in a dry run), for
        challenges answered with a keyed hash (Zoom's ``encryptedToken``)."""
        return None

    #: whether ``GET /webhooks/{name}`` is a subscription handshake (:meth:`answer_get`); else 405
    answers_get: ClassVar[bool] = False

    def answer_get(self, request: InboundRequest, verify_token: str | None) -> str:
        """The text/plain answer to a GET handshake (Meta's ``hub.challenge``), given the source's
        configured verify token; raise :class:`Forbidden` when the request's token does not match."""
        raise MethodNotAllowed("GET is not allowed: send POST")

    @abstractmethod
    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        """Turn a queued webhook into TrackEvents (or a skip). Raise :class:`MappingError` subclasses."""

    # -- helpers for the CLI's ``sign``

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        """The headers a real provider would send with ``body``."""
        raise NotImplementedError(f"{self.name} has no signing scheme")


class HmacSource(Source):
    """A source verified by one :class:`HmacScheme`."""

    scheme: ClassVar[HmacScheme]

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        self.scheme.verify(request, secrets)

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        s = self.scheme
        ts = str(int(now * 1000) if s.timestamp_unit == "ms" else int(now))
        ident = webhook_id or ("msg_" + hashlib.sha256(body).hexdigest()[:24])
        headers = {"Content-Type": self.content_types[0]}
        headers[s.display_header or s.header] = s.sign(body, secret, timestamp=ts, ident=ident)
        if s.timestamp_header:
            headers[s.timestamp_header] = ts
        if s.id_header:
            headers[s.id_header] = ident
        return headers


def require(condition: object, message: str) -> None:
    """Raise :class:`BadRequest` (at the receiver) when a body lacks what the source needs."""
    if not condition:
        raise BadRequest(message)


def require_id(value: object, message: str, *, max_length: int = 200) -> str:
    """A provider id: a non-empty string (numbers accepted) of at most ``max_length``; else :class:`BadRequest`."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    require(0 < len(text) <= max_length, message)
    require(text.isprintable(), f"{message} (unprintable characters)")
    return text


def mapped_part(
    source: Source, request: InboundRequest, *, type_key: str, part: str
) -> tuple[str, dict[str, Any]] | None:
    """``(type, body[part])`` of a JSON webhook whose ``type_key`` the source maps; None for any other
    type (acknowledged, then skipped by the mapper); :class:`BadRequest` when the body lacks them."""
    data = request.json()
    require(isinstance(data, dict), f"not a {source.title} webhook: expected a JSON object")
    kind = data.get(type_key)
    if kind not in source.events:
        return None
    inner = data.get(part)
    require(isinstance(inner, dict), f"not a {source.title} webhook: missing {part}")
    return str(kind), inner
