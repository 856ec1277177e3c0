"""``TrackEvent``: the body of ``POST /track``, with every rule of the Ours contract.

Rules (see ``shared/ours-api.md``) and the code each failure carries in
:attr:`InvalidTrackEvent.rules`:

==========================  =================================================================
code                        rule
==========================  =================================================================
``string_too_short``        strings are measured after trimming; whitespace-only is empty
``string_too_long``         ``event`` ≤ 1000, ids ≤ 400, ``email`` ≤ 1000, token ≤ 250 (UTF-16 units)
``string_type``             ids, names and emails must be strings (no numbers coerced)
``no_identity``             at least one of userId, externalId, email, userProperties.phone_number
``time_not_ms``             ``time`` looks like seconds, not milliseconds
``time_in_future``          ``time`` must be in the past
``stale_event``             ``time`` must be within the last 7 days
``too_many_keys``           ≤ 200 keys in a properties object
``empty_key``               property keys must be non-empty
``too_deep``                ≤ 5 object levels
``array_too_long``          arrays ≤ 250 items
``too_large``               serialised size < 1,048,576 UTF-16 code units
``extra_forbidden``         only the keys Ours documents are sent
``received_at``             ``defaultProperties.received_at`` is set by Ours
``missing``                 ``identityContext`` needs both ``ip`` and ``userAgent``
``erase_conflict``          a field cannot be both set and erased
==========================  =================================================================

``None`` means "unknown": it is omitted, never sent. In Ours a top-level ``null``
*erases* a stored visitor field, so the only way to send one is to name the
field in ``erase``.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from webhook_translator.errors import MappingError
from webhook_translator.ours.limits import (
    MAX_ARRAY,
    MAX_DEPTH,
    MAX_KEYS,
    MAX_UTF16_UNITS,
    MIN_PLAUSIBLE_MS,
    WINDOW_MS,
    Email,
    EventName,
    Id400,
    Properties,
    Token,
    check_properties,
)
from webhook_translator.ours.properties import DefaultProperties, IdentityContext, OursModel, UserProperties

__all__ = [
    "MAX_ARRAY",
    "MAX_DEPTH",
    "MAX_KEYS",
    "MAX_UTF16_UNITS",
    "MIN_PLAUSIBLE_MS",
    "NULLABLE_FIELDS",
    "WINDOW_MS",
    "DefaultProperties",
    "IdentityContext",
    "InvalidTrackEvent",
    "TrackEvent",
    "UserProperties",
    "check_properties",
    "track_body",
    "validate_token",
]

NULLABLE_FIELDS: Final = frozenset(
    {
        "user_id",
        "external_id",
        "email",
        "distinct_id",
        "time",
        "event_properties",
        "user_properties",
        "default_properties",
        "identity_context",
    }
)


#: TrackEvent's own bookkeeping, never sent
_NOT_SENT: Final[set[str]] = {"erase"}


class InvalidTrackEvent(MappingError):
    """A TrackEvent broke a rule of the Ours contract. The message names fields and rules, never values."""

    reason = "invalid_payload"

    def __init__(self, rules: list[tuple[str, str]]) -> None:
        self.rules = rules
        text = "; ".join(f"{where}: {code}" for where, code in rules) or "invalid event"
        super().__init__(f"invalid /track event ({text})")
        if rules and all(code == "no_identity" for _, code in rules):
            self.reason = "no_identity"
        elif rules and all(code == "stale_event" for _, code in rules):
            self.reason = "stale_event"

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> InvalidTrackEvent:
        rules: list[tuple[str, str]] = []
        for err in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "event"
            rules.append((where, err["type"]))
        return cls(rules)


def _now_ms(info: ValidationInfo) -> int:
    context = info.context if isinstance(info.context, Mapping) else {}
    now = context.get("now_ms")
    return int(now) if now is not None else int(_time.time() * 1000)


class TrackEvent(OursModel):
    """One ``/track`` call, without its token (the client adds that; see :func:`track_body`)."""

    event: EventName
    user_id: Id400 | None = Field(default=None, alias="userId")
    external_id: Id400 | None = Field(default=None, alias="externalId")
    email: Email | None = None
    distinct_id: Id400 | None = Field(default=None, alias="distinctId")
    time: StrictInt | StrictFloat | None = None
    event_properties: Properties | None = Field(default=None, alias="eventProperties")
    user_properties: UserProperties | None = Field(default=None, alias="userProperties")
    default_properties: DefaultProperties | None = Field(default=None, alias="defaultProperties")
    identity_context: IdentityContext | None = Field(default=None, alias="identityContext")
    #: top-level fields to send as ``null`` (erasing the stored visitor value) — explicit only
    erase: frozenset[
        Literal[
            "user_id",
            "external_id",
            "email",
            "distinct_id",
            "time",
            "event_properties",
            "user_properties",
            "default_properties",
            "identity_context",
        ]
    ] = frozenset()

    @field_validator("time")
    @classmethod
    def _time_window(cls, value: float | None, info: ValidationInfo) -> float | None:
        if value is None:
            return None
        if value != value or value < MIN_PLAUSIBLE_MS:
            raise PydanticCustomError("time_not_ms", "time must be milliseconds since the epoch")
        now = _now_ms(info)
        if value > now:
            raise PydanticCustomError("time_in_future", "time must be in the past")
        if value < now - WINDOW_MS:
            raise PydanticCustomError("stale_event", "time is older than Ours's 7-day window")
        return value

    @model_validator(mode="after")
    def _identity_and_erase(self) -> TrackEvent:
        for name in self.erase:
            if getattr(self, name) is not None:
                raise PydanticCustomError("erase_conflict", "{field} is both set and erased", {"field": name})
        phone = self.user_properties.phone_number if self.user_properties else None
        if not (self.user_id or self.external_id or self.email or phone not in (None, "")):
            raise PydanticCustomError(
                "no_identity", "needs one of userId, externalId, email or userProperties.phone_number"
            )
        return self

    # --- construction & serialisation ----------------------------------------------------------

    @classmethod
    def build(cls, *, now_ms: int | None = None, **fields: Any) -> TrackEvent:
        """Validate ``fields`` (Python or Ours names) against a clock; raise :class:`InvalidTrackEvent`."""
        context = {"now_ms": now_ms} if now_ms is not None else None
        try:
            return cls.model_validate(fields, context=context)
        except ValidationError as exc:
            raise InvalidTrackEvent.from_validation_error(exc) from None

    def to_ours(self) -> dict[str, Any]:
        """The JSON body Ours expects (without ``token``): Ours's field names, unknowns omitted.

        Serialised in Python mode (half the cost of ``mode="json"``): every value a TrackEvent holds
        is already JSON's — strict strings and numbers, and property trees checked to hold only
        strings, finite numbers, booleans, lists and dicts.
        """
        serializer = type(self).__pydantic_serializer__
        body: dict[str, Any] = serializer.to_python(self, by_alias=True, exclude_none=True, exclude=_NOT_SENT)
        for name in sorted(self.erase):
            body[type(self).model_fields[name].alias or name] = None
        return body

    @property
    def identities(self) -> Iterable[str]:
        """Which identities this event carries (names only: for logs and metrics)."""
        names = [("userId", self.user_id), ("externalId", self.external_id), ("email", self.email)]
        found = [n for n, v in names if v]
        if self.user_properties and self.user_properties.phone_number not in (None, ""):
            found.append("phone_number")
        return found


class _TokenModel(BaseModel):
    model_config = ConfigDict(defer_build=True)

    token: Token


#: tokens already checked (a container sends with one or two): the check once per token, not per call
_VALID_TOKENS: dict[str, str] = {}


def validate_token(token: str) -> str:
    """Check an Ours token against the contract (1–250 characters after trimming)."""
    valid = _VALID_TOKENS.get(token) if type(token) is str else None
    if valid is not None:
        return valid
    try:
        valid = _TokenModel.model_validate({"token": token}).token
    except ValidationError as exc:
        raise InvalidTrackEvent.from_validation_error(exc) from None
    if len(_VALID_TOKENS) >= 64:  # bounded: a rotation adds one now and then
        _VALID_TOKENS.clear()
    _VALID_TOKENS[token] = valid
    return valid


def track_body(event: TrackEvent, token: str) -> dict[str, Any]:
    """The complete ``/track`` body for ``event`` sent with ``token``."""
    return {"token": validate_token(token), **event.to_ours()}
