"""The checks a ``/track`` record's fields are declared with (:mod:`.record`): each one a rule of the
Ours contract (:mod:`.limits`), reporting what it finds as ``(where, code)``."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, overload

from webhook_translator.ours.limits import RuleBroken, check_json_value, check_properties, trimmed

if TYPE_CHECKING:
    from webhook_translator.ours.record import Record

#: where a value is in the input (``userProperties.first_name``) and the code of the rule it broke
Errors = list[tuple[str, str]]
#: a check: the value as kept, or :data:`FAILED` once it has recorded what is wrong in ``errors``
Check = Callable[[Any, str, Errors], Any]
FAILED: Final = object()
T = TypeVar("T")


def _ruled(rule: Callable[[Any], Any]) -> Check:
    """A check from a rule that raises :class:`RuleBroken`."""

    def check(value: Any, where: str, errors: Errors) -> Any:
        try:
            return rule(value)
        except RuleBroken as exc:
            errors.append((where, exc.code))
            return FAILED

    return check


class text:
    """A strict string, trimmed, 1 to ``max_len`` UTF-16 units after trimming.

    :meth:`Record._read` decides a plain string inline (most fields of most events); this check
    takes the rest, with the same rule (:func:`~webhook_translator.ours.limits.trimmed`).
    """

    def __init__(self, max_len: int) -> None:
        self.max_len = max_len
        self._check = _ruled(lambda value: trimmed(value, max_len))

    def __call__(self, value: Any, where: str, errors: Errors) -> Any:
        return self._check(value, where, errors)


#: a free-form properties object (Ours's limits; ``None`` values dropped)
properties: Final[Check] = _ruled(check_properties)


def _any_json(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None  # whitespace only: unknown
    return check_json_value(value)


#: any JSON value (``phone_number``, ``zip``, ``is_bot``); a whitespace-only string is unknown
json_value: Final[Check] = _ruled(_any_json)


def number(value: Any, where: str, errors: Errors) -> Any:
    """A finite number: an int (not a bool) or a finite float."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    float_code = "finite_number" if isinstance(value, float) else "float_type"
    errors += [(f"{where}.int", "int_type"), (f"{where}.float", float_code)]
    return FAILED


def boolean(value: Any, where: str, errors: Errors) -> Any:
    if isinstance(value, bool):
        return value
    errors.append((where, "bool_type"))
    return FAILED


class nested:
    """A nested record: given as a mapping (read by its rules) or as the record itself."""

    def __init__(self, kind: type[Record]) -> None:
        self.kind = kind

    def __call__(self, value: Any, where: str, errors: Errors) -> Any:
        if isinstance(value, self.kind):
            return value
        return self.kind.parse(value, where, errors)


class Field(Generic[T]):
    """One field of a record: its Python name (from the class body), Ours's name, and its rule."""

    __slots__ = (
        "alias",
        "check",
        "index",
        "json_text",
        "name",
        "nested",
        "none_unset",
        "required",
        "sent",
        "serialised",
        "text_half",
    )

    def __init__(
        self,
        check: Check,
        *,
        alias: str | None = None,
        required: bool = False,
        none_unset: bool = True,
        sent: bool = True,
    ) -> None:
        self.check = check
        #: a text field's limit in characters that need no UTF-16 count (half its limit in units): its
        #: plain strings are decided inline by :meth:`Record._read`; 0 for the other fields
        self.text_half = check.max_len // 2 if isinstance(check, text) else 0
        #: a JSON-value field: a plain non-blank string is kept as it is, decided inline as well
        self.json_text = check is json_value
        #: a nested record's class (its value is serialised as that record's body); None for the others
        self.nested = check.kind if isinstance(check, nested) else None
        self.alias = alias
        self.required = required
        #: ``None`` given means unset (else the check judges it)
        self.none_unset = none_unset and not required
        #: part of the serialised object
        self.serialised = sent
        self.name = ""
        self.sent = ""
        #: its place in the record (errors and the serialised object follow it)
        self.index = 0

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.sent = self.alias or name

    @overload
    def __get__(self, record: None, owner: type) -> Field[T]: ...
    @overload
    def __get__(self, record: Record, owner: type) -> T | None: ...
    def __get__(self, record: Record | None, owner: type) -> Field[T] | T | None:
        if record is None:
            return self
        value: T | None = record._values.get(self.sent)
        return value
