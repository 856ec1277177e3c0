"""One webhook as the receiver saw it: raw body bytes, lower-cased headers, query and URL."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from typing import Any

from webhook_translator.errors import BadRequest


@dataclass(frozen=True)
class InboundRequest:
    """One webhook delivery, exactly as received: raw body bytes, lower-cased header names."""

    source: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    url: str = ""
    #: API Gateway's stage (``requestContext.stage``; ``$default`` or a name that prefixes ``rawPath``)
    stage: str = ""
    received_at: datetime = field(default_factory=lambda: datetime.now().astimezone())

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters ('' when absent)."""
        raw = self.header("content-type") or ""
        return raw.split(";", 1)[0].strip().lower()

    @property
    def content_type_params(self) -> dict[str, str]:
        msg = Message()
        msg["content-type"] = self.header("content-type") or ""
        return {k.lower(): v for k, v in msg.get_params(failobj=[])[1:]}

    def json(self) -> Any:
        """The body as JSON; :class:`BadRequest` if it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise BadRequest("body is not valid JSON") from None
        except RecursionError:
            raise BadRequest("body is nested too deeply") from None


def body_hash(body: bytes) -> str:
    """The id of a delivery that carries none of its own (hex SHA-256 of the raw body)."""
    return hashlib.sha256(body).hexdigest()
