"""The spec source: a :class:`Source` whose verifier, ids and mapping all come from a compiled spec.

Each webhook: the body becomes a document (JSON; a form post → a flat object), the ``batch`` path
(if any) splits it into items, and each item is mapped on its own — its type, its filters, its
identity and properties, its ``distinctId`` — through the same ``MapContext.track`` as every
built-in source (unknown values omitted, never sent as null; property limits fitted).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, cast

from webhook_translator.errors import BadRequest, MappingError
from webhook_translator.sources.base import Source, require, require_id
from webhook_translator.sources.common import clean, compact, fit_properties, iso_to_ms, scalar_text
from webhook_translator.sources.request import InboundRequest
from webhook_translator.spec.compiled import DEFAULT_BOOLEANS, DEFAULT_NUMBERS, STANDARD_WEBHOOKS, Compiled
from webhook_translator.spec.compiled import compile_spec_data as _compile

if TYPE_CHECKING:
    from webhook_translator.envelope import Envelope
    from webhook_translator.ours.models import TrackEvent
    from webhook_translator.sources.context import MapContext, MapResult

_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def truthy(value: Any) -> bool:
    """JMESPath's truth: false, null, ``""``, ``[]`` and ``{}`` are false; everything else is true."""
    return value not in (None, False, "", [], {})


def parse_document(content_type: str, body: bytes) -> Any:
    """The document a spec's paths read: the JSON body, or a form post's fields as a flat object.

    ``ValueError`` when the body is not what its content type says.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _FORMS:
        from webhook_translator.sources.multipart import parse_form

        try:
            return parse_form(content_type, body)
        except (ValueError, LookupError):  # FormError and UnicodeDecodeError are ValueErrors
            raise ValueError("not a form post") from None
    try:
        return json.loads(body)
    except (UnicodeDecodeError, RecursionError):
        raise ValueError("not JSON") from None


def time_ms(value: Any, fmt: str) -> int | None:
    """A spec time (``iso8601``, ``epoch_s`` or ``epoch_ms``) as epoch ms; None when absent."""
    if value is None or value == "":
        return None
    if fmt == "iso8601":
        if not isinstance(value, str):
            raise MappingError("spec path time.path is not ISO 8601 text")
        return iso_to_ms(value)
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, int | float) or not math.isfinite(number):
        raise MappingError(f"spec path time.path is not a number ({fmt})")
    return int(number * 1000 if fmt == "epoch_s" else number)


def _default_value(key: str, value: Any) -> Any:
    if key in DEFAULT_BOOLEANS:
        return value if isinstance(value, bool) else None
    if key in DEFAULT_NUMBERS:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        return value if ok else None
    return scalar_text(value)


def _user_value(key: str, value: Any) -> Any:
    if key == "custom_properties":
        return fit_properties(value) or None if isinstance(value, Mapping) else None
    if key == "is_bot" and isinstance(value, bool):
        return value
    return scalar_text(value)


class SpecSource(Source):
    """A declarative source. Each spec gets its own subclass (``compile_source``) carrying its data."""

    compiled: ClassVar[Compiled]

    # -- receiver

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        self.compiled.verifier.verify(request, secrets)

    def _request_document(self, request: InboundRequest) -> Any:
        try:
            document = parse_document(request.header("content-type") or "", request.body)
        except ValueError as exc:
            raise BadRequest(f"not a {self.title} webhook: the body is {exc}") from None
        require(isinstance(document, dict), f"not a {self.title} webhook: expected a JSON object")
        return document

    def handshake(self, request: InboundRequest, secrets: Sequence[str] = ()) -> dict[str, Any] | None:
        c = self.compiled
        if c.handshake_when is None:
            return None
        document = self._request_document(request)
        if not truthy(c.handshake_when.search(document)):
            return None
        return compact({key: path.search(document) for key, path in c.handshake_body.items()})

    def webhook_id(self, request: InboundRequest) -> str | None:
        c = self.compiled
        document = self._request_document(request)
        if c.batch is not None:
            require(
                isinstance(c.batch.search(document), list), f"not a {self.title} webhook: no batch at {c.batch.text}"
            )
        elif c.event_type is not None:
            kind = scalar_text(c.event_type.search(document))
            require(kind, f"not a {self.title} webhook: no event type at {c.event_type.text}")
        spec_id = c.spec.id
        if spec_id is not None and spec_id.header is not None:
            return require_id(request.header(spec_id.header), f"missing {spec_id.header} header", max_length=250)
        if c.id_path is not None:
            return require_id(c.id_path.search(document), f"not a {self.title} webhook: no id at {c.id_path.text}")
        ident = c.verifier.delivery_id(request)
        return require_id(ident, "malformed delivery id", max_length=250) if ident else None

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        headers = self.compiled.verifier.sign_headers(body, secret, now=now, webhook_id=webhook_id)
        return {"Content-Type": self.content_types[0], **headers}

    # -- forwarder

    def items(self, envelope: Envelope) -> list[Any]:
        """The document of a queued webhook, split into items by the ``batch`` path (else one item)."""
        try:
            document = parse_document(envelope.content_type, envelope.raw_body)
        except ValueError as exc:
            raise MappingError(f"{self.title} webhook body is {exc}") from None
        batch = self.compiled.batch
        if batch is None:
            return [document]
        items = batch.search(document)
        if not isinstance(items, list):
            raise MappingError(f"spec path batch found no list in the {self.title} webhook")
        return items

    def item_type(self, item: Any) -> str:
        c = self.compiled
        if c.event_type is None:
            return c.spec.event_type.value or ""
        kind = scalar_text(c.event_type.search(item))
        if kind is None:
            raise MappingError(f"spec path event_type.path found no event type in the {self.title} webhook")
        return kind

    def distinct_id(self, item: Any, index: int, envelope: Envelope) -> str:
        c = self.compiled
        if c.batch is None:
            return f"{self.name}:{envelope.webhook_id}"
        item_id = clean(scalar_text(c.item_id.search(item))) if c.item_id is not None else None
        return f"{self.name}:{item_id}" if item_id else f"{self.name}:{envelope.webhook_id}:{index}"

    def track_fields(self, item: Any) -> dict[str, Any]:
        """The identity and properties of one item, as ``ctx.track`` keywords (unknowns are None)."""
        c = self.compiled
        found = {field: scalar_text(path.search(item)) for field, path in c.identity.items()}
        email = found.get("email")
        user = {key: _user_value(key, path.search(item)) for key, path in c.user_properties.items()}
        user["phone_number"] = found.get("phone_number")
        consent = {key: value for key, path in c.consent.items() if isinstance(value := path.search(item), bool)}
        user["consent"] = consent or None
        events = {key: path.search(item) for key, path in c.event_properties.items()}
        defaults = {key: _default_value(key, path.search(item)) for key, path in c.default_properties.items()}
        return {
            "user_id": found.get("user_id"),
            "external_id": found.get("external_id"),
            "email": email if email and "@" in email else None,
            "user_properties": compact(user) or None,
            "event_properties": fit_properties(events) or None,
            "default_properties": compact(defaults) or None,
        }

    def map_item(self, item: Any, index: int, envelope: Envelope, ctx: MapContext) -> tuple[str, TrackEvent | str]:
        """(type, the TrackEvent or the reason the item is skipped)."""
        kind = self.item_type(item)
        skip = ctx.unmapped(kind)
        if skip is not None:
            return kind, skip.skipped or "ignored_type"
        for path, reason in self.compiled.filters:
            if truthy(path.search(item)):
                return kind, reason
        time = self.compiled.time
        when = time_ms(time.search(item), self.compiled.spec.time.format) if time and self.compiled.spec.time else None
        event = ctx.track(
            kind,
            distinct_id=self.distinct_id(item, index, envelope),
            time=when if when is not None else envelope.received_at_ms,
            **self.track_fields(item),
        )
        return kind, event

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        from webhook_translator.sources.context import MapResult

        events: list[TrackEvent] = []
        kinds: list[str] = []
        skips: list[str] = []
        for index, item in enumerate(self.items(envelope)):
            kind, outcome = self.map_item(item, index, envelope, ctx)
            if kind not in kinds:
                kinds.append(kind)
            if isinstance(outcome, str):
                skips.append(outcome)
            else:
                events.append(outcome)
        event_type = ",".join(kinds)[:200] or "(empty batch)"
        if not events:
            return MapResult(event_type=event_type, skipped=skips[0] if skips else "empty_batch")
        return MapResult(event_type=event_type, events=tuple(events))


def compile_source(name: str, raw: Mapping[str, Any]) -> Source:
    """The declarative source ``name`` described by ``raw`` (see :func:`webhook_translator.spec.compile_spec`)."""
    compiled = _compile(name, raw)
    spec = compiled.spec
    default_title = "Standard Webhooks (spec)" if name == STANDARD_WEBHOOKS else name
    attributes = {
        "name": name,
        "title": spec.title or default_title,
        "content_types": tuple(spec.content_types),
        "events": compiled.events,
        "forwarded_headers": (),
        "compiled": compiled,
        "__doc__": f"The declarative source {name!r}.",
    }
    cls = cast("type[SpecSource]", type(f"SpecSource_{name.replace('-', '_')}", (SpecSource,), attributes))
    return cls()
