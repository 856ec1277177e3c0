"""Plain validation for the few documents the receiver reads: the settings, the secret, the envelope.

The receiver's cold start must not pay for pydantic (its import is most of the function's own
init), so these documents are parsed by hand: each checker takes a value and where it sits
(``loc``, a path of keys), returns the value it stands for, and raises :class:`Invalid` naming
the fault in pydantic's words ("Input should be a valid integer"…) — the messages operators know.
A document's parser collects every :class:`Fault` and raises once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

#: where a value sits in its document: its keys (and list indexes) from the top
Loc = tuple[str | int, ...]
#: a checker: (value, where) → the value it stands for; raises :class:`Invalid`
Parser = Callable[[Any, Loc], Any]

#: the message of an unknown key (the translator configuration's own words replace it: "unknown key")
EXTRA: str = "Extra inputs are not permitted"


class Fault(NamedTuple):
    """One thing wrong with a document: where (a path of keys) and what."""

    loc: Loc
    msg: str

    @property
    def where(self) -> str:
        return ".".join(str(p) for p in self.loc)


class Invalid(ValueError):
    """A document's faults (at least one); ``errors`` lists them in the document's order."""

    def __init__(self, faults: list[Fault]) -> None:
        super().__init__("; ".join(f"{f.where}: {f.msg}" for f in faults))
        self.errors = faults


def fault(loc: Loc, msg: str) -> Invalid:
    return Invalid([Fault(loc, msg)])


def text(value: Any, loc: Loc) -> str:
    if not isinstance(value, str):
        raise fault(loc, "Input should be a valid string")
    return value


def optional_text(value: Any, loc: Loc) -> str | None:
    return None if value is None else text(value, loc)


def integer(value: Any, loc: Loc) -> int:
    """An int, or the text of one (lax, as an environment variable is): ``"12"``, ``" 12 "``, ``"12.0"``."""
    if isinstance(value, bool | int):
        return int(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise fault(loc, "Input should be a valid integer, got a number with a fractional part")
        return int(value)
    if isinstance(value, str):
        whole, dot, fraction = value.strip().partition(".")
        # ASCII digits only (int() would take "٣" or "１２"), and a fraction of zeros, not none ("12.")
        if whole.isascii() and (not dot or (fraction and not fraction.strip("0"))):  # "12" or "12.0"
            try:
                return int(whole)
            except ValueError:
                pass
        raise fault(loc, "Input should be a valid integer, unable to parse string as an integer")
    raise fault(loc, "Input should be a valid integer")


def number(value: Any, loc: Loc) -> float:
    """A float, or the text of one (lax)."""
    if isinstance(value, bool | int | float):
        return float(value)
    if isinstance(value, str):
        try:
            if not value.isascii():  # float() would take "١" or "１.５"
                raise ValueError
            return float(value.strip())
        except ValueError:
            raise fault(loc, "Input should be a valid number, unable to parse string as a number") from None
    raise fault(loc, "Input should be a valid number")


def bounded(
    value: float, loc: Loc, *, gt: float | None = None, ge: float | None = None, le: float | None = None
) -> None:
    """Raise unless ``value`` is within the bounds given (the words of pydantic's ``Field`` constraints)."""
    if gt is not None and not value > gt:
        raise fault(loc, f"Input should be greater than {gt}")
    if ge is not None and not value >= ge:
        raise fault(loc, f"Input should be greater than or equal to {ge}")
    if le is not None and not value <= le:
        raise fault(loc, f"Input should be less than or equal to {le}")


def one_of(value: Any, loc: Loc, choices: tuple[str, ...]) -> str:
    if value not in choices:
        listed = [repr(c) for c in choices]
        words = listed[0] if len(listed) == 1 else f"{', '.join(listed[:-1])} or {listed[-1]}"
        raise fault(loc, f"Input should be {words}")
    return str(value)


def mapping(value: Any, loc: Loc) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise fault(loc, "Input should be a valid dictionary")
    return value


def text_map(value: Any, loc: Loc) -> dict[str, str]:
    """A ``dict[str, str]``: every value's fault named by its key."""
    items = mapping(value, loc)
    faults = [
        Fault((*loc, key), "Input should be a valid string") for key, v in items.items() if not isinstance(v, str)
    ]
    if faults:
        raise Invalid(faults)
    return dict(items)


def text_set(value: Any, loc: Loc) -> frozenset[str]:
    """A ``frozenset[str]`` from a JSON array (or any set or tuple)."""
    if not isinstance(value, list | tuple | set | frozenset):
        raise fault(loc, "Input should be a valid frozenset")
    faults = [Fault((*loc, i), "Input should be a valid string") for i, v in enumerate(value) if not isinstance(v, str)]
    if faults:
        raise Invalid(faults)
    return frozenset(value)


def each(items: Iterable[tuple[str | int, Any]], loc: Loc, parse: Parser) -> list[Any]:
    """``parse`` applied to every ``(key, value)``'s value at ``loc + (key,)``; every fault raised together."""
    values: list[Any] = []
    faults: list[Fault] = []
    for key, value in items:
        try:
            values.append(parse(value, (*loc, key)))
        except Invalid as exc:
            faults += exc.errors
    if faults:
        raise Invalid(faults)
    return values


def object_fields(data: Any, loc: Loc, kind: str, parsers: Mapping[str, Parser]) -> dict[str, Any]:
    """The fields of one object (``extra="forbid"``): each present key by its parser, every fault together."""
    if not isinstance(data, Mapping):
        raise fault(loc, f"Input should be a valid dictionary or instance of {kind}")
    values: dict[str, Any] = {}
    faults: list[Fault] = []
    for key, parse in parsers.items():
        if key in data:
            try:
                values[key] = parse(data[key], (*loc, key))
            except Invalid as exc:
                faults += exc.errors
    faults += [Fault((*loc, key), EXTRA) for key in data if key not in parsers]
    if faults:
        raise Invalid(faults)
    return values
