"""The shape of a spec, as pydantic models: every key known (``extra="forbid"``), checked when it loads.

Expressions are kept as text here; :mod:`.source` compiles each one once. The reference of every
field is ``docs/custom-sources.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from webhook_translator.spec.errors import SpecError

#: media types a spec may accept, and how each body becomes the document the paths read
ContentType = Literal["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
VERIFIERS = ("hmac", "standard-webhooks", "token")
Name = Annotated[str, Field(min_length=1, max_length=200)]
HeaderName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True, frozen=True)


class HmacVerifier(Strict):
    """The table-driven HMAC scheme (``webhook_translator.sources.signing.HmacScheme``), as data."""

    type: Literal["hmac"]
    header: HeaderName
    signed: str = "{body}"
    digest: Literal["sha256", "sha1", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    layout: Literal["plain", "kv", "versioned"] = "plain"
    prefix: str = ""
    version: str = "v1"
    timestamp_header: HeaderName | None = None
    timestamp_unit: Literal["s", "ms"] = "s"
    tolerance: float | None = Field(default=None, gt=0)
    future_tolerance: float | None = Field(default=None, ge=0)
    id_header: HeaderName | None = None
    secret_encoding: Literal["utf8", "whsec_base64"] = "utf8"

    @field_validator("signed")
    @classmethod
    def _template(cls, value: str) -> str:
        if value.count("{body}") != 1:
            raise ValueError("must hold {body} exactly once")
        try:
            value.format(body="", t="", id="", method="", url="")
        except (KeyError, IndexError, ValueError):
            raise ValueError("may only use {body}, {t}, {id}, {method} and {url}") from None
        return value

    @model_validator(mode="after")
    def _parts(self) -> HmacVerifier:
        if "{id}" in self.signed and self.id_header is None:
            raise ValueError("signs {id}: name the id_header")
        if "{t}" in self.signed and self.timestamp_header is None and self.layout != "kv":
            raise ValueError("signs {t}: name the timestamp_header (or use the kv layout)")
        return self


class StandardWebhooksVerifier(Strict):
    """The Standard Webhooks scheme (``webhook-*`` headers, ``svix-*`` accepted), ``whsec_`` secrets."""

    type: Literal["standard-webhooks"]
    #: which names ``sign`` writes (both are accepted when verifying)
    headers: Literal["webhook", "svix"] = "webhook"


class TokenVerifier(Strict):
    """A shared token in a header or the query string, compared in constant time with the secrets."""

    type: Literal["token"]
    header: HeaderName | None = "x-webhook-token"
    query: Annotated[str, Field(min_length=1, max_length=100)] | None = "key"

    @model_validator(mode="after")
    def _somewhere(self) -> TokenVerifier:
        if self.header is None and self.query is None:
            raise ValueError("name a header or a query parameter")
        return self


Verifier = Annotated[HmacVerifier | StandardWebhooksVerifier | TokenVerifier, Field(discriminator="type")]


class IdSpec(Strict):
    """Where the webhook id is: a header, or a path in the body (else the receiver hashes the body)."""

    header: HeaderName | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _one(self) -> IdSpec:
        if (self.header is None) == (self.path is None):
            raise ValueError("give exactly one of header, path")
        return self


class EventTypeSpec(Strict):
    """The provider's event type: a path in the signed body, or one constant type for every webhook."""

    path: str | None = None
    value: Name | None = None
    #: refused with a clear message (headers are not signed); kept here only to name the fault
    header: str | None = None

    @model_validator(mode="after")
    def _one(self) -> EventTypeSpec:
        if self.header is not None:
            raise ValueError("must be read from the signed body, not a header (use path)")
        if (self.path is None) == (self.value is None):
            raise ValueError("give exactly one of path, value")
        return self


class TimeSpec(Strict):
    path: str
    format: Literal["iso8601", "epoch_s", "epoch_ms"]


class HandshakeSpec(Strict):
    """A URL-verification challenge: when ``when`` holds, answer 200 with ``body`` (key → path)."""

    when: str
    body: dict[Name, str] = Field(min_length=1)


class FilterSpec(Strict):
    """Drop an item when ``when`` holds; the skip carries ``reason``."""

    when: str
    reason: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = "filtered"


class IdentitySpec(Strict):
    userId: str | None = None
    externalId: str | None = None
    email: str | None = None
    phone_number: str | None = None


class SourceSpec(Strict):
    title: Name | None = None
    verifier: Verifier
    content_types: tuple[ContentType, ...] = Field(default=("application/json",), min_length=1)
    handshake: HandshakeSpec | None = None
    batch: str | None = None
    item_id: str | None = None
    id: IdSpec | None = None
    event_type: EventTypeSpec
    time: TimeSpec | None = None
    #: provider type → Ours event name; null (or the key ``*`` with null) means "acknowledge and skip"
    events: dict[Name, Name | None] = Field(min_length=1)
    identity: IdentitySpec = Field(default_factory=IdentitySpec)
    userProperties: dict[Name, str] = Field(default_factory=dict)
    eventProperties: dict[Name, str] = Field(default_factory=dict)
    defaultProperties: dict[Name, str] = Field(default_factory=dict)
    consent: dict[Name, str] = Field(default_factory=dict)
    filters: list[FilterSpec] = Field(default_factory=list)

    @field_validator("events")
    @classmethod
    def _finite(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        if value.get("*") is not None:
            raise ValueError("'*' may only be null (skip every other type): the map is finite, so tools can list it")
        if not any(name is not None for name in value.values()):
            raise ValueError("maps no type to an Ours event name")
        return value


_FAULTS = {
    "extra_forbidden": "unknown key",
    "missing": "required",
    "union_tag_invalid": f"unknown verifier type (known: {', '.join(VERIFIERS)})",
    "union_tag_not_found": f"name the verifier's type ({', '.join(VERIFIERS)})",
}


def _fault(error: Mapping[str, Any]) -> str:
    fault = _FAULTS.get(str(error["type"]))
    if fault is not None:
        return fault
    message = str(error.get("msg") or error["type"])
    return message.removeprefix("Value error, ")


def parse_spec(raw: Any) -> SourceSpec:
    """Validate a raw spec; :class:`SpecError` for its first fault (one line: the path, then the fault)."""
    if not isinstance(raw, Mapping):
        raise SpecError("spec", "must be an object")
    if raw.get("verifier") in (None, {}, "none", ""):
        raise SpecError("verifier", f"a spec must name a verifier ({', '.join(VERIFIERS)})")
    try:
        return SourceSpec.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False, include_input=False)[0]
        loc = list(error["loc"])
        if len(loc) >= 2 and loc[0] == "verifier" and loc[1] in VERIFIERS:
            del loc[1]  # the discriminator's tag: the user wrote verifier.header, not verifier.hmac.header
        raise SpecError(_where(loc), _fault(error)) from None


def _where(loc: list[Any]) -> str:
    """``["filters", 0, "when"]`` → ``filters[0].when``."""
    where = ""
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else str(part)
    return where or "spec"
