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
from typing import Any, ClassVar, Self

from webhook_translator.ours.checks import FAILED, Check, Errors, Field
from webhook_translator.ours.plans import Reader, compile_plan

__all__ = ["Field", "Record"]

#: a key tuple :meth:`Record._plan` has not seen (None is a plan's "take the full pass")
_UNPLANNED: Any = object()


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
    #: Ours's names, in field order (a record's values are kept by them: its body is nearly its values)
    _SENT_ORDER: ClassVar[tuple[str, ...]] = ()
    #: Ours's names of the fields that are not sent, and of the nested records' fields
    _HIDDEN: ClassVar[tuple[str, ...]] = ()
    _NESTED: ClassVar[tuple[str, ...]] = ()
    #: every field sent, none a nested record: the body is the values as they are
    _PLAIN: ClassVar[bool] = True
    #: an input's key tuple → the read compiled for it (:mod:`.plans`), or None: the key-by-key read (see
    #: :meth:`_plan`)
    _PLANS: ClassVar[dict[tuple[Any, ...], Reader | None]] = {}
    #: the values set, by Ours's name, in field order
    _values: dict[str, Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.FIELDS = tuple(v for v in vars(cls).values() if isinstance(v, Field))
        for index, field in enumerate(cls.FIELDS):
            field.index = index
        cls._BY_KEY = {**{f.name: f for f in cls.FIELDS}, **{f.sent: f for f in cls.FIELDS}}
        cls._REQUIRED = tuple(f for f in cls.FIELDS if f.required)
        cls._NAMES = tuple(f.name for f in cls.FIELDS)
        cls._SENT_ORDER = tuple(f.sent for f in cls.FIELDS)
        cls._HIDDEN = tuple(f.sent for f in cls.FIELDS if not f.serialised)
        cls._NESTED = tuple(f.sent for f in cls.FIELDS if f.nested is not None)
        cls._PLAIN = not cls._NESTED and not cls._HIDDEN
        cls._PLANS = {}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The Python names of the fields (the keys a mapper may set)."""
        return cls._NAMES

    @classmethod
    def parse(cls, data: Any, where: str, errors: Errors) -> Self | Any:
        """The record of ``data``, or :data:`FAILED` once every broken rule is in ``errors``."""
        if type(data) is dict:  # a dict of a planned key tuple (whose keys pass the precheck): one step
            keys = tuple(data)
            plan: Reader | None = cls._PLANS.get(keys, _UNPLANNED)  # one lookup: another thread may clear them
            if plan is _UNPLANNED:
                plan = cls._plan(keys)
            if plan is not None and (planned := plan(data, errors, None)) is not None:
                record = _new(cls)
                _set_values(record, planned)
                return record
            # a broken rule, or keys without a plan: the full read below reports every rule
        elif not isinstance(data, Mapping):  # a dict without the ABC's check
            errors.append((where, "model_type"))
            return FAILED
        before = len(errors)
        cls._precheck(data, where, errors)
        if len(errors) > before:
            return FAILED
        values = cls._read_each(data, where, errors, None)  # a dict's plan was tried above: not again
        if len(errors) > before:
            return FAILED
        return cls._of(values)

    @classmethod
    def _precheck(cls, data: Mapping[str, Any], where: str, errors: Errors) -> None:
        """A rule on the input's keys, before its fields are read (none by default); a key tuple it refuses
        has no plan (:meth:`_plan` asks it), so the planned read needs no precheck."""

    @classmethod
    def _read(
        cls, data: Mapping[str, Any], where: str, errors: Errors, checks: Mapping[str, Check] | None = None
    ) -> dict[str, Any]:
        """The fields' values by Ours's name, in field order; ``checks`` replaces some fields' checks.

        A dict whose keys name different fields, the required ones among them, is read by its keys' plan
        (:meth:`_plan`, kept per key tuple: a function compiled for it, :mod:`.plans`); any other input, or
        a broken rule, takes :meth:`_read_each`.
        """
        if type(data) is dict:
            keys = tuple(data)
            plan: Reader | None = cls._PLANS.get(keys, _UNPLANNED)  # one lookup: another thread may clear the plans
            if plan is _UNPLANNED:
                plan = cls._plan(keys)
            if plan is not None and (planned := plan(data, errors, checks)) is not None:
                return planned
        return cls._read_each(data, where, errors, checks)

    @classmethod
    def _read_each(
        cls, data: Mapping[str, Any], where: str, errors: Errors, checks: Mapping[str, Check] | None
    ) -> dict[str, Any]:
        """:meth:`_read` key by key: every broken rule, unknown key and missing field reported, the broken
        rules in field order at the end."""
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
            if value is None and field.none_unset:
                continue
            kept = cls._checked(field, value, where, key, errors, checks, spans)
            if kept is FAILED or kept is None:
                continue
            values[field.sent] = kept
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
            values = {name: values[name] for name in cls._SENT_ORDER if name in values}
        return values

    @classmethod
    def _plan(cls, keys: tuple[Any, ...]) -> Reader | None:
        """The read of a dict of ``keys`` (:func:`.plans.compile_plan` of their fields, in their order); None
        unless each key names a different field and every required field is there (:meth:`_read_each` then)."""
        fields = [cls._BY_KEY.get(key) if type(key) is str else None for key in keys]
        plan = None
        if None not in fields:
            indexes = [f.index for f in fields if f is not None]
            refused: Errors = []
            cls._precheck(dict.fromkeys(keys), "", refused)
            if len(set(indexes)) == len(indexes) and all(f in fields for f in cls._REQUIRED) and not refused:
                given = tuple(f for f in fields if f is not None)
                in_order = None if indexes == sorted(indexes) else tuple(f.sent for f in sorted(given, key=_index))
                plan = compile_plan(given, in_order, cls.__name__)
        if len(cls._PLANS) >= 512:  # bounded: the key sets mappers send are few, but nothing limits them
            cls._PLANS.clear()
        cls._PLANS[keys] = plan
        return plan

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
        record = _new(cls)
        _set_values(record, values)
        return record

    def to_ours(self) -> dict[str, Any]:
        """The JSON object Ours expects: its names, unset fields omitted, nested records as objects;
        its property objects are copies (the caller may change the body it gets; the record stays)."""
        copied: dict[str, Any] = _copied(self.sent_body())
        return copied

    def sent_body(self) -> dict[str, Any]:
        """:meth:`to_ours` sharing the record's property objects instead of copying them: for a body
        serialised at once (the Ours client's), which nothing changes."""
        out = dict(self._values)
        if self._PLAIN:
            return out
        for name in self._HIDDEN:
            out.pop(name, None)
        for name in self._NESTED:
            if (record := out.get(name)) is not None:
                out[name] = record.sent_body()
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


def _index(field: Field[Any]) -> int:
    return field.index


_new = object.__new__
#: the ``_values`` slot's own setter (a record's ``__setattr__`` refuses every name)
_set_values = vars(Record)["_values"].__set__
