"""How the ``/track`` objects are read: each field a descriptor with its rule, errors as ``(where, code)``.

A :class:`Record` subclass lists its fields once, each with the check that is its rule
(:mod:`.checks`: ``text``, ``number``, ``boolean``, ``json_value``, ``properties``,
``nested``). :meth:`Record.parse` reads a mapping keyed by Ours's name or the Python name
(Ours's name first; giving both makes the Python name an unknown key), collects every broken rule
as ``(where, code)`` — in field order, then the unknown keys in input order — and builds nothing
unless all hold. ``None`` means "unknown": an optional field given ``None`` is left unset. A record
is immutable and its ``repr`` names the fields set, never their values.

No pydantic: nothing here is built at import or at the first event, and checking an event is a
few dictionary lookups and string methods per field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Self, TypeVar, overload

from webhook_translator.ours.checks import FAILED, Check, Errors, json_value, text

T = TypeVar("T")


class Field(Generic[T]):
    """One field of a record: its Python name (from the class body), Ours's name, and its rule."""

    __slots__ = (
        "alias",
        "check",
        "index",
        "json_text",
        "name",
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
        value: T | None = record._values.get(self.name)
        return value


class Record:
    """An immutable object of the ``/track`` body, read by :meth:`parse`."""

    __slots__ = ("_values",)
    #: every field, in the order Ours's documents (and the serialised body) list them
    FIELDS: ClassVar[tuple[Field[Any], ...]] = ()
    #: input key (Ours's name, and the Python name) → field
    _BY_KEY: ClassVar[dict[str, Field[Any]]] = {}
    _REQUIRED: ClassVar[tuple[Field[Any], ...]] = ()
    #: the Python names, in field order
    _NAMES: ClassVar[tuple[str, ...]] = ()
    #: Python name → the serialised key, for the fields that are sent
    _SENT: ClassVar[dict[str, str]] = {}
    _values: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.FIELDS = tuple(v for v in vars(cls).values() if isinstance(v, Field))
        for index, field in enumerate(cls.FIELDS):
            field.index = index
        cls._BY_KEY = {**{f.name: f for f in cls.FIELDS}, **{f.sent: f for f in cls.FIELDS}}
        cls._REQUIRED = tuple(f for f in cls.FIELDS if f.required)
        cls._NAMES = tuple(f.name for f in cls.FIELDS)
        cls._SENT = {f.name: f.sent for f in cls.FIELDS if f.serialised}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The Python names of the fields (the keys a mapper may set)."""
        return cls._NAMES

    @classmethod
    def parse(cls, data: Any, where: str, errors: Errors) -> Self | Any:
        """The record of ``data``, or :data:`FAILED` once every broken rule is in ``errors``."""
        if not isinstance(data, Mapping):
            errors.append((where, "model_type"))
            return FAILED
        before = len(errors)
        cls._precheck(data, where, errors)
        if len(errors) > before:
            return FAILED
        values = cls._read(data, where, errors)
        if len(errors) > before:
            return FAILED
        return cls._of(values)

    @classmethod
    def _precheck(cls, data: Mapping[str, Any], where: str, errors: Errors) -> None:
        """A rule on the whole input, before its fields are read (none by default)."""

    @classmethod
    def _read(
        cls, data: Mapping[str, Any], where: str, errors: Errors, checks: Mapping[str, Check] | None = None
    ) -> dict[str, Any]:
        """The fields' values by Python name, in field order; ``checks`` replaces some fields' checks.

        One pass over the input's keys; the rare broken rules are put in field order at the end.
        A plain string of a text field (or of a JSON-value field) is decided inline, without a call.
        """
        by_key = cls._BY_KEY
        values: dict[str, Any] = {}
        start = len(errors)
        unknown: list[str] = []
        spans: list[tuple[int, int, int]] = []  # (field index, first error, end) of each field that broke a rule
        last, ordered = -1, True
        for key, value in data.items():
            field = by_key.get(key)
            if field is None or (key != field.sent and field.sent in data):  # both names given: this one is extra
                unknown.append(key)
                continue
            if type(value) is str:
                if field.text_half and (kept := value.strip()) and len(kept) <= field.text_half:
                    pass  # well within its limit: what trimmed() keeps, without the call
                elif field.json_text and value.strip():
                    kept = value  # what json_value() keeps
                else:
                    kept = cls._checked(field, value, where, key, errors, checks, spans)
            elif value is None and field.none_unset:
                continue
            else:
                kept = cls._checked(field, value, where, key, errors, checks, spans)
            if kept is FAILED or kept is None:
                continue
            values[field.name] = kept
            if field.index < last:
                ordered = False
            last = field.index
        for field in cls._REQUIRED:
            if field.name not in data and field.sent not in data:
                errors.append((f"{where}.{field.sent}" if where else field.sent, "missing"))
                spans.append((field.index, len(errors) - 1, len(errors)))
        if spans or unknown:
            cls._in_field_order(errors, start, spans, [f"{where}.{k}" if where else str(k) for k in unknown])
        if not ordered:  # given in another order: the record's (and its serialised body's) is the fields'
            values = {name: values[name] for name in cls._NAMES if name in values}
        return values

    @staticmethod
    def _checked(
        field: Field[Any],
        value: Any,
        where: str,
        key: str,
        errors: Errors,
        checks: Mapping[str, Check] | None,
        spans: list[tuple[int, int, int]],
    ) -> Any:
        """``value`` by its field's check (or the one ``checks`` gives); a broken rule's span noted."""
        check = field.check if checks is None else checks.get(field.name, field.check)
        mark = len(errors)
        kept = check(value, f"{where}.{key}" if where else key, errors)
        if kept is FAILED:
            spans.append((field.index, mark, len(errors)))
        return kept

    @staticmethod
    def _in_field_order(errors: Errors, start: int, spans: list[tuple[int, int, int]], unknown: list[str]) -> None:
        """Each field's broken rules in field order, then the unknown keys (as given)."""
        ranked = [error for _, a, b in sorted(spans, key=lambda span: span[0]) for error in errors[a:b]]
        errors[start:] = ranked + [(where, "extra_forbidden") for where in unknown]

    @classmethod
    def _of(cls, values: dict[str, Any]) -> Self:
        record = object.__new__(cls)
        object.__setattr__(record, "_values", values)
        return record

    def to_ours(self) -> dict[str, Any]:
        """The JSON object Ours expects: its names, unset fields omitted, nested records as objects;
        its property objects are copies (the caller may change the body it gets; the record stays)."""
        copied: dict[str, Any] = _copied(self.sent_body())
        return copied

    def sent_body(self) -> dict[str, Any]:
        """:meth:`to_ours` sharing the record's property objects instead of copying them: for a body
        serialised at once (the Ours client's), which nothing changes."""
        sent = self._SENT
        out: dict[str, Any] = {}
        for name, value in self._values.items():
            key = sent.get(name)
            if key is not None:
                out[key] = value.sent_body() if isinstance(value, Record) else value
        return out

    def __setattr__(self, name: str, value: Any) -> None:
        raise ValueError(f"{type(self).__name__} is frozen: build a new one")

    def __delattr__(self, name: str) -> None:
        raise ValueError(f"{type(self).__name__} is frozen: build a new one")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Record) and type(other) is type(self) and other._values == self._values

    __hash__ = None  # type: ignore[assignment]  # its property objects are dicts: unhashable, as a dict

    def __repr__(self) -> str:  # names only: the values are personal data
        return f"{type(self).__name__}(set: {', '.join(self._values) or 'nothing'})"


def _copied(value: Any) -> Any:
    """A copy of a serialised body's objects and arrays, all the way down (its other values as they are)."""
    if type(value) is dict:
        return {k: _copied(v) if type(v) is dict or type(v) is list else v for k, v in value.items()}
    if type(value) is list:
        return [_copied(v) if type(v) is dict or type(v) is list else v for v in value]
    return value
