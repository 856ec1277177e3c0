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

import json
import time as _time
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from webhook_translator.errors import MappingError

MAX_KEYS: Final = 200
MAX_DEPTH: Final = 5
MAX_ARRAY: Final = 250
MAX_UTF16_UNITS: Final = 1_048_576
WINDOW_MS: Final = 7 * 24 * 3600 * 1000
#: anything below this is a time in seconds (year 5138 in seconds, 1973 in ms)
MIN_PLAUSIBLE_MS: Final = 100_000_000_000

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

    @classmethod
    def from_validation_error(cls, exc: ValidationError) -> InvalidTrackEvent:
        rules: list[tuple[str, str]] = []
        for err in exc.errors(include_input=False, include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "event"
            rules.append((where, err["type"]))
        return cls(rules)


# --- strings ---------------------------------------------------------------------------------


def _trimmed(max_len: int) -> AfterValidator:
    """For a strict string: measured after trimming, whitespace-only rejected."""

    def check(value: str) -> str:
        stripped = value.strip()
        if not stripped:
            raise PydanticCustomError("string_too_short", "must not be empty or whitespace-only")
        if _utf16_units(stripped) > max_len:  # Ours counts like JavaScript: UTF-16 code units
            raise PydanticCustomError(
                "string_too_long", "longer than {max_len} characters after trimming", {"max_len": max_len}
            )
        return stripped

    return AfterValidator(check)


EventName = Annotated[StrictStr, _trimmed(1000)]
Id400 = Annotated[StrictStr, _trimmed(400)]
Email = Annotated[StrictStr, _trimmed(1000)]
Token = Annotated[StrictStr, _trimmed(250)]
ShortText = Annotated[StrictStr, _trimmed(1000)]


# --- free-form property objects --------------------------------------------------------------


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _check_tree(value: Any, *, depth: int, where: str, problems: list[str]) -> Any:
    """Walk a properties tree; drop ``None`` values in objects (unknown is omitted)."""
    if isinstance(value, Mapping):
        if depth > MAX_DEPTH:
            problems.append("too_deep")
            return value
        if len(value) > MAX_KEYS:
            problems.append("too_many_keys")
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str) or not key.strip():
                problems.append("empty_key")
                continue
            if item is None:
                continue
            cleaned[key] = _check_tree(item, depth=depth + 1, where=where, problems=problems)
        return cleaned
    if isinstance(value, list | tuple):
        if len(value) > MAX_ARRAY:
            problems.append("array_too_long")
        return [_check_tree(item, depth=depth, where=where, problems=problems) for item in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        problems.append("not_json")
        return value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    problems.append("not_json")
    return value


def check_properties(value: Any, where: str = "properties") -> dict[str, Any]:
    """Validate a free-form properties object against Ours's limits; return it without ``None`` values."""
    if not isinstance(value, Mapping):
        raise PydanticCustomError("dict_type", "must be an object")
    problems: list[str] = []
    cleaned = _check_tree(value, depth=1, where=where, problems=problems)
    if not problems:
        text = json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))
        if _utf16_units(text) >= MAX_UTF16_UNITS:
            problems.append("too_large")
    if problems:
        first = problems[0]
        messages = {
            "too_deep": f"more than {MAX_DEPTH} object levels",
            "too_many_keys": f"more than {MAX_KEYS} keys",
            "empty_key": "keys must be non-empty strings",
            "array_too_long": f"an array longer than {MAX_ARRAY} items",
            "too_large": f"serialised size of {MAX_UTF16_UNITS} UTF-16 units or more",
            "not_json": "values must be JSON (strings, finite numbers, booleans, arrays, objects)",
        }
        raise PydanticCustomError(first, messages[first])
    assert isinstance(cleaned, dict)
    return cleaned


def _properties_validator(value: Any) -> dict[str, Any]:
    return check_properties(value)


Properties = Annotated[dict[str, Any], BeforeValidator(_properties_validator)]
AnyJson = Annotated[Any, Field()]
#: a strict float that JSON can carry (no NaN, no infinity)
FiniteFloat = Annotated[StrictFloat, AllowInfNan(False)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, str_strip_whitespace=False)


class UserProperties(_Strict):
    """``userProperties``: the keys Ours knows. ``phone_number``, ``zip`` and ``is_bot`` take any JSON value."""

    email: Email | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    gender: ShortText | None = None
    date_of_birth: ShortText | None = None
    phone_number: AnyJson | None = None
    city: ShortText | None = None
    state: ShortText | None = None
    zip: AnyJson | None = None
    country: ShortText | None = None
    external_id: Id400 | None = None
    company_name: ShortText | None = None
    job_title: ShortText | None = None
    ip: ShortText | None = None
    user_agent: ShortText | None = None
    user_agent_full_list: ShortText | None = None
    referrer: ShortText | None = None
    referring_domain: ShortText | None = None
    consent: Properties | None = None
    custom_properties: Properties | None = None
    is_bot: AnyJson | None = None
    # click and campaign ids
    ad_id: ShortText | None = None
    adset_id: ShortText | None = None
    campaign_id: ShortText | None = None
    fbc: ShortText | None = None
    fbclid: ShortText | None = None
    fbp: ShortText | None = None
    gclid: ShortText | None = None
    gbraid: ShortText | None = None
    wbraid: ShortText | None = None
    msclkid: ShortText | None = None
    li_fat_id: ShortText | None = None
    ttclid: ShortText | None = None
    twclid: ShortText | None = None
    rdt_cid: ShortText | None = None
    sccid: ShortText | None = None
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    utm_term: ShortText | None = None
    utm_content: ShortText | None = None
    utm_name: ShortText | None = None

    @field_validator("phone_number", "zip", "is_bot")
    @classmethod
    def _json_value(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        # any JSON value, checked like a property (NaN, sets, bytes… would be sent as null or coerced)
        return check_properties({"value": value}).get("value")


class DefaultProperties(_Strict):
    """``defaultProperties``: page and device context. ``received_at`` is Ours's own."""

    ip: ShortText | None = None
    user_agent: ShortText | None = None
    current_url: ShortText | None = None
    host: ShortText | None = None
    pathname: ShortText | None = None
    referrer: ShortText | None = None
    referring_domain: ShortText | None = None
    title: ShortText | None = None
    browser_name: ShortText | None = None
    browser_version: ShortText | None = None
    os_name: ShortText | None = None
    os_version: ShortText | None = None
    device_type: ShortText | None = None
    utm_source: ShortText | None = None
    utm_medium: ShortText | None = None
    utm_campaign: ShortText | None = None
    utm_term: ShortText | None = None
    utm_content: ShortText | None = None
    utm_name: ShortText | None = None
    gclid: ShortText | None = None
    fbclid: ShortText | None = None
    msclkid: ShortText | None = None
    ttclid: ShortText | None = None
    activeDuration: StrictInt | FiniteFloat | None = None
    duration: StrictInt | FiniteFloat | None = None
    page_hash: StrictInt | FiniteFloat | None = None
    screen_height: StrictInt | FiniteFloat | None = None
    screen_width: StrictInt | FiniteFloat | None = None
    sessionCount: StrictInt | FiniteFloat | None = None
    fv: StrictBool | None = None
    iframe: StrictBool | None = None
    new_s: StrictBool | None = None
    webview: StrictBool | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_received_at(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "received_at" in data:
            raise PydanticCustomError("received_at", "received_at is set by Ours; do not send it")
        return data


class IdentityContext(_Strict):
    """The end user's network identity (never the server's): both keys required."""

    ip: ShortText
    user_agent: ShortText = Field(alias="userAgent")


def _now_ms(info: ValidationInfo) -> int:
    context = info.context if isinstance(info.context, Mapping) else {}
    now = context.get("now_ms")
    return int(now) if now is not None else int(_time.time() * 1000)


class TrackEvent(_Strict):
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
        """The JSON body Ours expects (without ``token``): Ours's field names, unknowns omitted."""
        body = self.model_dump(by_alias=True, exclude_none=True, exclude={"erase"}, mode="json")
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
    token: Token


def validate_token(token: str) -> str:
    """Check an Ours token against the contract (1–250 characters after trimming)."""
    try:
        return _TokenModel.model_validate({"token": token}).token
    except ValidationError as exc:
        raise InvalidTrackEvent.from_validation_error(exc) from None


def track_body(event: TrackEvent, token: str) -> dict[str, Any]:
    """The complete ``/track`` body for ``event`` sent with ``token``."""
    return {"token": validate_token(token), **event.to_ours()}
