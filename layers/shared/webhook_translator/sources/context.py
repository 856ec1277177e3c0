"""What a mapper gets besides the envelope, and what it gives back.

* :class:`MapContext` — the clock, the per-source configuration, the stale-event policy, and
  :meth:`MapContext.track` to build a valid TrackEvent.
* :class:`MapResult` — 0..n TrackEvents, or the reason a webhook was skipped; for a webhook of
  several items, the items that failed on their own (``failures``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar, cast

from webhook_translator.config import SourceConfig
from webhook_translator.document import EMPTY_ENTRY
from webhook_translator.errors import MappingError, TranslatorError
from webhook_translator.lazy import lazy_module

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

    from webhook_translator.envelope import Envelope
    from webhook_translator.fetch import Fetch, FetchRequest
    from webhook_translator.ours import models as ours_models
    from webhook_translator.ours.models import TrackEvent
    from webhook_translator.sources.base import Source
else:
    # pydantic and the Ours models are imported when first used (in the forwarder): a source module
    # imports this one, and the receiver imports the source module to verify a webhook (sources/models.py)
    ours_models = lazy_module("webhook_translator.ours.models")
ModelT = TypeVar("ModelT", bound="BaseModel")

#: (options model, id of the options object, or 0 when empty) → (that object, the validated options)
_VALIDATED_OPTIONS: dict[tuple[type[BaseModel], int], tuple[object, BaseModel]] = {}


class MapResult(NamedTuple):
    """What a mapper made of one webhook: 0..n TrackEvents, or a reason it was skipped.

    A webhook holding several items (HubSpot's batches) maps each on its own: the good
    ones become ``events``, each bad one a permanent ``failures`` entry. The forwarder
    delivers the events, then dead-letters the webhook with the first failure's reason
    (a redrive re-sends the good ones with the same distinctIds: Ours keeps one of each).
    """

    event_type: str
    events: tuple[TrackEvent, ...] = ()
    skipped: str | None = None
    #: items of this webhook that failed on their own (a fetch, no identity…), the others are in ``events``
    failures: tuple[TranslatorError, ...] = ()

    def failure(self) -> TranslatorError | None:
        """What the record ends with once ``events`` are delivered: the worst item failure, if any."""
        if not self.failures:
            return None
        from webhook_translator.fetch import worst

        return worst(self.failures)


#: how far ahead of our clock a provider's timestamp may be before it is an error (clock skew)
FUTURE_SKEW_MS = 5 * 60 * 1000


class MapContext(NamedTuple):
    """The mapper's world: a clock, this source's configuration and the stale-event policy."""

    source: Source
    now_ms: int
    config: SourceConfig = EMPTY_ENTRY
    stale_policy: Literal["dlq", "send_without_time"] = "dlq"
    #: the fetch step's provider API (the forwarder's, or the CLI's); None: this run cannot fetch
    fetcher: Fetch | None = None

    def fetch(self, request: FetchRequest) -> dict[str, Any]:
        """The provider's answer for ``request`` (see :mod:`webhook_translator.fetch`)."""
        if self.fetcher is None:
            raise MappingError(
                f"{self.source.name} needs its provider's API and this run has no fetch step", reason="mapper_error"
            )
        return self.fetcher(request)

    def event_name(self, event_type: str) -> str:
        """The Ours event name for a provider event type (renames from the configuration apply)."""
        default = self.source.events.get(event_type, event_type)
        return self.config.rename.get(event_type) or self.config.rename.get(default) or default

    def dropped(self, event_type: str) -> bool:
        return event_type in self.config.drop

    def skip(self, event_type: str, reason: str = "ignored_type") -> MapResult:
        return MapResult(event_type=event_type, skipped=reason)

    def unmapped(self, event_type: str) -> MapResult | None:
        """The skip for a type this source does not map, or that the configuration drops; None to map it."""
        if self.dropped(event_type):
            return self.skip(event_type, "dropped_by_config")
        if event_type not in self.source.events:
            return self.skip(event_type, "ignored_type")
        return None

    def options(self, model: type[ModelT]) -> ModelT:
        """This source's ``options`` as ``model``: validated once per configuration, not per webhook.

        The configuration is read once per container, so the validated options are kept by the
        identity of its ``options`` object (held, so that the identity stays its own). The result
        is shared: a mapper reads its options, never changes them.
        """
        raw = self.config.options
        key = (model, id(raw) if raw else 0)
        kept = _VALIDATED_OPTIONS.get(key)
        if kept is not None and (kept[0] is raw or not raw):
            return cast(ModelT, kept[1])
        try:
            value = model.model_validate(raw)
        except _validation_error() as exc:
            fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()}))
            raise MappingError(f"invalid options for source {self.source.name!r}: {fields}") from None
        if len(_VALIDATED_OPTIONS) >= 256:  # bounded: tests and the CLI make many configurations
            _VALIDATED_OPTIONS.clear()
        _VALIDATED_OPTIONS[key] = (raw, value)
        return value

    def track(self, event_type: str, **fields: Any) -> TrackEvent:
        """Build the TrackEvent for ``event_type``; ``None`` fields are unknown and omitted.

        A provider time slightly ahead of our clock (skew) is clamped to now; a
        time older than Ours's window is a ``stale_event`` unless the policy is
        ``send_without_time``.
        """
        if not fields.get("distinct_id"):
            raise MappingError(f"the {self.source.name} mapper set no distinctId", reason="mapper_error")
        if "erase" in fields and fields["erase"] is None:  # every other field reads None as unknown
            del fields["erase"]
        when = fields.get("time")
        if isinstance(when, (int, float)) and not isinstance(when, bool):  # a tuple: no union built per call
            when = int(when)
            if self.now_ms < when <= self.now_ms + FUTURE_SKEW_MS:
                when = self.now_ms
            if when < self.now_ms - ours_models.WINDOW_MS and self.stale_policy == "send_without_time":
                del fields["time"]
            else:
                fields["time"] = when
        return ours_models.TrackEvent.of({"event": self.event_name(event_type), **fields}, now_ms=self.now_ms)


def parse_model(model: type[ModelT], data: Any, what: str) -> ModelT:
    """Validate a provider payload; :class:`MappingError` naming the fields (never values)."""
    try:
        return model.model_validate(data)
    except _validation_error() as exc:
        fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})[:8])
        raise MappingError(f"{what} does not match the expected shape ({fields})") from None


def parse_body(model: type[ModelT], envelope: Envelope, what: str) -> ModelT:
    """:func:`parse_model` of the webhook's JSON body, read and validated in one pass where it can be.

    pydantic-core parses the JSON text straight into the model (≈ 3× faster than ``json.loads`` and
    a validation of the parsed objects: it builds only what the model keeps). A body that pass does not
    accept — not JSON text, or not the model's shape — takes :func:`parse_model`'s path over
    ``envelope.json_body()``, so every refusal and its message are that path's.
    """
    read = from_json_text(model, envelope)
    return read if read is not None else parse_model(model, envelope.json_body(), what)


def from_json_text(model: type[ModelT], envelope: Envelope) -> ModelT | None:
    """The body read straight from its JSON text into ``model`` (one pass in pydantic-core); None when the
    body is not JSON text as queued or the model refuses it (the caller then takes the parsed body's path)."""
    text = envelope.json_text()
    if text is None:
        return None
    try:
        return model.model_validate_json(text)
    except _validation_error():
        return None


def _validation_error() -> type[ValidationError]:
    """pydantic's ``ValidationError``: an ``except`` clause looks it up only once a validation failed."""
    from pydantic import ValidationError

    return ValidationError
