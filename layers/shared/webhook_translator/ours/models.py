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
``literal_error``           ``erase`` names only the nullable top-level fields
``string_type``, …          a value of the wrong JSON type (``dict_type``, ``model_type``, ``bool_type``,
                            ``int_type``/``float_type``/``finite_number`` for numbers, ``frozen_set_type``)
==========================  =================================================================

Each field is declared once with its rule (:mod:`.record`); nothing here uses pydantic, so the
forwarder checks an event with plain dictionary and string operations and builds nothing at start.

``None`` means "unknown": it is omitted, never sent. In Ours a top-level ``null``
*erases* a stored visitor field, so the only way to send one is to name the
field in ``erase``.
"""

from __future__ import annotations

import time as _time
from collections.abc import Iterable, Mapping
from typing import Any, Final

from webhook_translator.errors import MappingError
from webhook_translator.ours.checks import FAILED, Check, Errors, nested, properties, text
from webhook_translator.ours.limits import (
    EMAIL_MAX,
    EVENT_MAX,
    ID_MAX,
    MAX_ARRAY,
    MAX_DEPTH,
    MAX_KEYS,
    MAX_UTF16_UNITS,
    MIN_PLAUSIBLE_MS,
    TOKEN_MAX,
    WINDOW_MS,
    RuleBroken,
    check_properties,
    trimmed,
)
from webhook_translator.ours.properties import DefaultProperties, IdentityContext, UserProperties
from webhook_translator.ours.record import Field, Record

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

#: the top-level fields ``erase`` may name
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


def _clock_check(now_ms: int | None) -> Check:
    """``time``: milliseconds since the epoch, in the past, within Ours's 7-day window of ``now_ms``."""

    def check(value: Any, where: str, errors: Errors) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):  # a tuple: no union built per call
            errors += [(f"{where}.int", "int_type"), (f"{where}.float", "float_type")]
            return FAILED
        now = now_ms if now_ms is not None else int(_time.time() * 1000)
        if _in_window(value, now):
            return value
        if value != value or value < MIN_PLAUSIBLE_MS:
            code = "time_not_ms"
        elif value > now:
            code = "time_in_future"
        else:  # older than the window
            code = "stale_event"
        errors.append((where, code))
        return FAILED

    return check


def _in_window(value: float, now: int) -> bool:
    """A time in ms that Ours takes: plausibly milliseconds, not in the future, within its 7-day window."""
    return value >= MIN_PLAUSIBLE_MS and now - WINDOW_MS <= value <= now


def _held(value: Any, where: str, errors: Errors) -> Any:
    return value


#: the checks of a ``time`` that :meth:`TrackEvent.of` found within the clock's window
_TIME_HOLDS: Final[Mapping[str, Check]] = {"time": _held}


def _erase(value: Any, where: str, errors: Errors) -> Any:
    """A set (or list, tuple) of the nullable field names."""
    if not isinstance(value, (set, frozenset, list, tuple)):
        errors.append((where, "frozen_set_type"))
        return FAILED
    wrong = [(f"{where}.{i}", "literal_error") for i, name in enumerate(value) if name not in NULLABLE_FIELDS]
    if wrong:
        errors += wrong
        return FAILED
    return frozenset(value)


class TrackEvent(Record):
    """One ``/track`` call, without its token (the client adds that; see :func:`track_body`).

    Made by :meth:`build` only, which checks every rule; immutable.
    """

    __slots__ = ()

    event = Field[str](text(EVENT_MAX), required=True)
    user_id = Field[str](text(ID_MAX), alias="userId")
    external_id = Field[str](text(ID_MAX), alias="externalId")
    email = Field[str](text(EMAIL_MAX))
    distinct_id = Field[str](text(ID_MAX), alias="distinctId")
    #: checked against the clock :meth:`build` is given (the system clock without one)
    time = Field[int | float](_clock_check(None))
    event_properties = Field[dict[str, Any]](properties, alias="eventProperties")
    user_properties = Field[UserProperties](nested(UserProperties), alias="userProperties")
    default_properties = Field[DefaultProperties](nested(DefaultProperties), alias="defaultProperties")
    identity_context = Field[IdentityContext](nested(IdentityContext), alias="identityContext")
    #: top-level fields to send as ``null`` (erasing the stored visitor value) — explicit only; not sent itself
    erase = Field[frozenset[str]](_erase, none_unset=False, sent=False)

    @classmethod
    def build(cls, *, now_ms: int | None = None, **fields: Any) -> TrackEvent:
        """Check ``fields`` (Ours's or Python names) against a clock; raise :class:`InvalidTrackEvent`."""
        return cls.of(fields, now_ms=now_ms)

    @classmethod
    def of(cls, fields: Mapping[str, Any], *, now_ms: int | None = None) -> TrackEvent:
        """:meth:`build` of a mapping of fields (read as it is: nothing copied first)."""
        errors: Errors = []
        checks = None
        if now_ms is not None and "time" in fields:
            when = fields["time"]
            # a time the clock's check would keep is decided here (the common case), without building it
            checks = _TIME_HOLDS if type(when) is int and _in_window(when, now_ms) else {"time": _clock_check(now_ms)}
        values = cls._read(fields, "", errors, checks)
        if not errors:
            _whole_event(values, errors)
        if errors:
            raise InvalidTrackEvent(errors)
        return cls._of(values)

    def sent_body(self) -> dict[str, Any]:
        """The JSON body Ours expects (without ``token``), ``null`` for each erased field, sharing the
        event's property objects: a body serialised at once (:meth:`to_ours` gives copies)."""
        body = super().sent_body()
        erase = self._values.get("erase")
        if erase:
            for name in sorted(erase):
                body[_SENT_NAMES[name]] = None
        return body

    @property
    def identities(self) -> Iterable[str]:
        """Which identities this event carries (names only: for logs and metrics)."""
        names = [("userId", self.user_id), ("externalId", self.external_id), ("email", self.email)]
        found = [n for n, v in names if v]
        if _phone(self._values) not in (None, ""):
            found.append("phone_number")
        return found


_SENT_NAMES: Final = {f.name: f.sent for f in TrackEvent.FIELDS}


def _phone(values: Mapping[str, Any]) -> Any:
    user = values.get("userProperties")
    return user.phone_number if user is not None else None


def _whole_event(values: Mapping[str, Any], errors: Errors) -> None:
    """The rules on the whole event, once every field holds: nothing both set and erased; an identity."""
    for name in values.get("erase") or ():
        if values.get(_SENT_NAMES[name]) is not None:
            errors.append(("event", "erase_conflict"))
            return
    identified = values.get("userId") or values.get("externalId") or values.get("email")
    if not identified and _phone(values) in (None, ""):
        errors.append(("event", "no_identity"))


#: tokens already checked (a container sends with one or two): the check once per token, not per call
_VALID_TOKENS: dict[str, str] = {}


def validate_token(token: str) -> str:
    """Check an Ours token against the contract (1–250 characters after trimming)."""
    valid = _VALID_TOKENS.get(token) if type(token) is str else None
    if valid is not None:
        return valid
    try:
        valid = trimmed(token, TOKEN_MAX)
    except RuleBroken as exc:
        raise InvalidTrackEvent([("token", exc.code)]) from None
    if len(_VALID_TOKENS) >= 64:  # bounded: a rotation adds one now and then
        _VALID_TOKENS.clear()
    _VALID_TOKENS[token] = valid
    return valid


def track_body(event: TrackEvent, token: str) -> dict[str, Any]:
    """The complete ``/track`` body for ``event`` sent with ``token``, to serialise at once: it shares the
    event's property objects (:meth:`TrackEvent.sent_body`)."""
    return {"token": validate_token(token), **event.sent_body()}
