"""Helpers the mappers share: names, amounts, trimming unknowns, the form sources' targets and person.

(:func:`fit_properties` lives with the limits it fits, in :mod:`webhook_translator.ours.limits`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, get_args

from webhook_translator.errors import MappingError
from webhook_translator.lazy import lazy_module

# forwarder-only modules, imported on first use: a source module must not import them (:mod:`.models`)
_limits = lazy_module("webhook_translator.ours.limits")
_labels = lazy_module("webhook_translator.sources.labels")

#: ISO 4217 currencies Stripe treats as zero-decimal (amounts are whole units)
ZERO_DECIMAL = frozenset(
    ["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"],
)
THREE_DECIMAL = frozenset(["bhd", "jod", "kwd", "omr", "tnd"])


def clean(value: Any) -> str | None:
    """A stripped string, or None for missing / empty / whitespace-only values."""
    if type(value) is not str:
        if value is None:
            return None
        value = str(value)
    return value.strip() or None


def split_name(full: str | None) -> tuple[str | None, str | None]:
    """'Jane Q. Doe' → ('Jane', 'Q. Doe'); 'Cher' → ('Cher', None)."""
    text = clean(full)
    if text is None:
        return None, None
    first, _, last = text.partition(" ")
    return first, last.strip() or None


#: amounts below this (in minor units) divide exactly as their decimal value rounds to a float
_EXACT_MINOR = 10**15


def decimal_amount(minor: int | None, currency: str | None) -> float | None:
    """Minor units to a decimal amount (2 decimals unless the currency says otherwise)."""
    if minor is None:
        return None
    code = (currency or "").lower()
    exponent = 0 if code in ZERO_DECIMAL else 3 if code in THREE_DECIMAL else 2
    if -_EXACT_MINOR < minor < _EXACT_MINOR:  # a correctly rounded division: the float of the exact decimal
        return minor / _SCALES[exponent]
    return float(Decimal(minor).scaleb(-exponent))


_SCALES = (1, 10, 100, 1000)


def compact(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop None values (unknown is omitted, never sent as null)."""
    return {k: v for k, v in mapping.items() if v is not None}


# --- form-like sources: times, targets, the person behind a submission ----------------------------
# (Typeform, Tally, Webflow, Jotform, Calendly and Standard Webhooks share these; labels are matched
# in :mod:`.labels`, answers resolved in :mod:`.identity`, options read in :mod:`.forms`.)


def iso_to_ms(value: str) -> int:
    """An ISO 8601 time ('…Z', an offset, or naive = UTC) as ms since the epoch; :class:`MappingError` if not."""
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise MappingError("a time is not ISO 8601") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


#: identity targets (TrackEvent fields) and userProperties keys a form answer may fill
Target = Literal[
    "user_id",
    "external_id",
    "email",
    "phone_number",
    "first_name",
    "last_name",
    "full_name",
    "company_name",
    "job_title",
    "date_of_birth",
    "gender",
    "city",
    "state",
    "zip",
    "country",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "gclid",
    "gbraid",
    "wbraid",
    "fbclid",
    "fbc",
    "fbp",
    "msclkid",
    "ttclid",
    "twclid",
    "li_fat_id",
    "rdt_cid",
    "sccid",
]
TARGETS: frozenset[str] = frozenset(get_args(Target))


def fit_properties(value: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`webhook_translator.ours.limits.fit_properties` (the mappers import it from here); imported on
    first use, as the limits' module needs pydantic and a source module must not (:mod:`.models`)."""
    fitted: dict[str, Any] = _limits.fit_properties(value)
    return fitted


def scalar_text(value: Any) -> str | None:
    """A usable scalar as text: numbers become digits (a phone sent as 15551234567), containers are refused."""
    if type(value) is str:  # the most answers: read as clean() reads a string
        return value.strip() or None
    if isinstance(value, bool | dict | list | tuple):
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        if value.is_integer():
            value = int(value)
    return clean(value)


_IDENTITIES = frozenset({"user_id", "external_id", "email"})


@dataclass
class Person:
    """Who submitted: identity and userProperties, filled first-come (offer in priority order)."""

    user_id: str | None = None
    external_id: str | None = None
    email: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    def offer(self, target: str | None, value: Any) -> bool:
        """Take ``value`` for ``target`` unless it is already known; False when not taken (unknown target,
        unusable value, or an 'email' that is not one valid address). ``full_name`` is split into first
        and last name."""
        if target not in TARGETS:  # None included
            return False
        text = (value.strip() or None) if type(value) is str else scalar_text(value)
        if text is None:
            return False
        if target in _IDENTITIES:
            if target == "email" and not _labels.is_email_address(text):
                return False
            if getattr(self, target) is None:
                setattr(self, target, text)
            return True
        if target == "full_name":
            first, last = split_name(text)
            self.properties.setdefault("first_name", first)
            if last:
                self.properties.setdefault("last_name", last)
            return True
        self.properties.setdefault(target, text)
        return True

    def track_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``ctx.track``: the identities and ``user_properties``."""
        return {
            "user_id": self.user_id,
            "external_id": self.external_id,
            "email": self.email,
            "user_properties": compact(self.properties) or None,
        }


def unique_key(mapping: Mapping[str, Any], key: str) -> str:
    """``key``, or ``key (2)``, ``key (3)``… when ``mapping`` already has it."""
    if key not in mapping:
        return key
    n = 2
    while f"{key} ({n})" in mapping:
        n += 1
    return f"{key} ({n})"
