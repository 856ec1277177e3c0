"""The limits of the Ours contract as values and validators: string lengths, property trees, sizes.

:func:`check_properties` is on every event's hot path. A plain properties object (a
flat object of strings, numbers and booleans — what most mappers send) is checked
in one pass without the tree walk, and the serialised-size rule is decided by a
cheap upper bound before anything is serialised or encoded as UTF-16.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from itertools import islice
from typing import Any, Final

MAX_KEYS: Final = 200
MAX_DEPTH: Final = 5
MAX_ARRAY: Final = 250
MAX_UTF16_UNITS: Final = 1_048_576
WINDOW_MS: Final = 7 * 24 * 3600 * 1000
#: anything below this is a time in seconds (year 5138 in seconds, 1973 in ms)
MIN_PLAUSIBLE_MS: Final = 100_000_000_000

#: UTF-16 units of one character of a JSON string, at most (a ``\\u001f``-style escape is 6)
_UNITS_PER_CHAR: Final = 6
#: a key's quotes, colon and comma plus a bounded number or a boolean (a float's ``repr`` is ≤ 24 characters)
_UNITS_PER_ITEM: Final = 32
_PLAIN_INT: Final = 10**18
_finite = math.isfinite

_MESSAGES: Final = {
    "too_deep": f"more than {MAX_DEPTH} object levels",
    "too_many_keys": f"more than {MAX_KEYS} keys",
    "empty_key": "keys must be non-empty strings",
    "array_too_long": f"an array longer than {MAX_ARRAY} items",
    "too_large": f"serialised size of {MAX_UTF16_UNITS} UTF-16 units or more",
    "not_json": "values must be JSON (strings, finite numbers, booleans, arrays, objects)",
}


def utf16_units(text: str) -> int:
    """The length Ours (JavaScript) measures: UTF-16 code units."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


# --- strings ---------------------------------------------------------------------------------


class RuleBroken(ValueError):
    """One value broke one rule of the contract: ``code`` names it (the table in :mod:`.models`).

    The message names the rule, never the value.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


#: the string limits of the contract (UTF-16 units after trimming)
EVENT_MAX: Final = 1000
ID_MAX: Final = 400
EMAIL_MAX: Final = 1000
TOKEN_MAX: Final = 250
TEXT_MAX: Final = 1000


def trimmed(value: object, max_len: int) -> str:
    """A strict string measured after trimming (whitespace-only is empty); the trimmed string."""
    if not isinstance(value, str):
        raise RuleBroken("string_type", "must be a string")
    stripped = value.strip()
    if not stripped:
        raise RuleBroken("string_too_short", "must not be empty or whitespace-only")
    if len(stripped) > max_len // 2 and utf16_units(stripped) > max_len:  # ≤ 2 units per character
        raise RuleBroken("string_too_long", f"longer than {max_len} characters after trimming")
    return stripped


# --- free-form property objects --------------------------------------------------------------


def _plain_scalar(value: Any) -> bool:
    """A boolean, a finite float or an int of a bounded length (JSON numbers that need no walk)."""
    kind = type(value)
    return (
        kind is bool or (kind is int and -_PLAIN_INT < value < _PLAIN_INT) or (kind is float and math.isfinite(value))
    )


#: the types of a leaf every walk keeps as it is: a string, an int, a boolean or None (exactly those types)
_LEAVES: Final = frozenset({str, int, bool, type(None)})


def _plain_units(value: Mapping[str, Any]) -> int | None:
    """An upper bound of the serialised size of a flat object of plain values; None if it is not one
    (or a plain value breaks a rule, or has ``None`` to drop): then the full walk decides.

    The bound is ``2 + Σ (_UNITS_PER_ITEM + _UNITS_PER_CHAR × (key + string value characters))``,
    summed as one count of characters (one multiplication, not one per item)."""
    if len(value) > MAX_KEYS:
        return None
    chars = 0
    for item in value.values():  # the values in one loop; the keys below, in C
        kind = type(item)
        if kind is str:
            chars += len(item)
        elif kind is int:
            if not -_PLAIN_INT < item < _PLAIN_INT:
                return None
        elif kind is not bool and (kind is not float or not _finite(item)):
            return None
    if not value.keys() <= _KNOWN_KEYS and not _known_text_keys(value):
        return None
    chars += sum(map(len, value))
    return 2 + _UNITS_PER_ITEM * len(value) + _UNITS_PER_CHAR * chars


def _all_text_keys(value: Mapping[Any, Any]) -> bool:
    """Every key a string (exactly a ``str``) with something besides whitespace."""
    return set(map(type, value)) <= _STR_ONLY and all(map(str.strip, value))


_STR_ONLY: Final = frozenset({str})
#: keys :func:`_all_text_keys` found good: a mapper's properties keep to a few names, so most objects' keys
#: are decided by one C subset test (a few hashes) instead of a strip per key. Bounded: keys can come from
#: payloads (answer refs); only exact ``str`` keys are added (a key equal to one of them is that text).
_KNOWN_KEYS: set[str] = set()


def _known_text_keys(value: Mapping[Any, Any]) -> bool:
    """:func:`_all_text_keys`, the good keys remembered in :data:`_KNOWN_KEYS`."""
    if not _all_text_keys(value):
        return False
    if len(_KNOWN_KEYS) >= 4096:
        _KNOWN_KEYS.clear()
    _KNOWN_KEYS.update(value)
    return True


def _check_tree(value: Any, *, depth: int, problems: list[str]) -> tuple[Any, int]:
    """Walk a properties tree; drop ``None`` values in objects (unknown is omitted). Returns the cleaned
    tree and an upper bound of its serialised size in UTF-16 units (each item counted as
    ``_UNITS_PER_ITEM`` plus ``_UNITS_PER_CHAR`` per key and string character; a big int by its digits)."""
    if isinstance(value, (dict, Mapping)):
        if depth > MAX_DEPTH:
            problems.append("too_deep")
            return value, 0
        if len(value) > MAX_KEYS:
            problems.append("too_many_keys")
        cleaned: dict[str, Any] = {}
        chars = items = units = 0
        known = value.keys() <= _KNOWN_KEYS or _known_text_keys(value)  # every key good: none checked below
        for key, item in value.items():
            if not known and (not isinstance(key, str) or not key.strip()):
                problems.append("empty_key")
                continue
            kind = type(item)
            if kind is str:  # a leaf is kept as it is: decided here, without a call per leaf
                chars += len(key) + len(item)
            elif kind is bool or (kind is int and -_PLAIN_INT < item < _PLAIN_INT):
                chars += len(key)
            elif item is None:
                continue
            else:
                item, sub = _check_tree(item, depth=depth + 1, problems=problems)
                chars += len(key)
                units += sub
            items += 1
            cleaned[key] = item
        return cleaned, 2 + units + _UNITS_PER_ITEM * items + _UNITS_PER_CHAR * chars
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ARRAY:
            problems.append("array_too_long")
        out: list[Any] = []
        chars = units = 0
        for item in value:
            kind = type(item)
            if kind is str:
                chars += len(item)
            elif not (kind is bool or item is None or (kind is int and -_PLAIN_INT < item < _PLAIN_INT)):
                item, sub = _check_tree(item, depth=depth, problems=problems)
                units += sub
            out.append(item)
        return out, 2 + units + _UNITS_PER_ITEM * len(out) + _UNITS_PER_CHAR * chars
    return _check_leaf(value, problems)


def _check_leaf(value: Any, problems: list[str]) -> tuple[Any, int]:
    """A value that is neither an object nor an array, and its bound (beyond its item's allowance)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            problems.append("not_json")
        return value, 0  # a finite float's repr fits in the item's allowance
    if isinstance(value, str):
        return value, _UNITS_PER_CHAR * len(value)
    if isinstance(value, int):  # bool included; a big int: at most bit_length / 3 + 1 digits, and a sign
        return value, value.bit_length() // 3 + 2
    if value is not None:
        problems.append("not_json")
    return value, 0


def check_properties(value: Any, where: str = "properties") -> dict[str, Any]:
    """Validate a free-form properties object against Ours's limits; return it without ``None`` values."""
    if not isinstance(value, (dict, Mapping)):
        raise RuleBroken("dict_type", "must be an object")
    bound = _plain_units(value)
    if bound is not None and bound < MAX_UTF16_UNITS:
        return dict(value)
    problems: list[str] = []
    cleaned, bound = _check_tree(value, depth=1, problems=problems)
    if not problems and bound >= MAX_UTF16_UNITS:  # near the limit: serialise and measure
        text = json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))
        if 2 * len(text) >= MAX_UTF16_UNITS and utf16_units(text) >= MAX_UTF16_UNITS:  # ≤ 2 units a character
            problems.append("too_large")
    if problems:
        first = problems[0]
        raise RuleBroken(first, _MESSAGES[first])
    assert isinstance(cleaned, dict)
    return cleaned


def check_json_value(value: Any) -> Any:
    """One JSON value checked like a property (NaN, sets, bytes… would be sent as null or coerced)."""
    if type(value) is str or _plain_scalar(value):
        return value
    return check_properties({"value": value}).get("value")


def fit_properties(value: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a properties object that fits Ours's limits instead of failing them.

    Objects keep their first 200 non-empty keys, arrays their first 250 items;
    objects nested deeper than 5 levels become compact JSON text; ``None`` and
    non-finite numbers are dropped (unknown is omitted).
    """
    fitted = _fit(value, 1)
    assert isinstance(fitted, dict)
    return fitted


def _fit(value: Any, depth: int) -> Any:
    if type(value) in _LEAVES:
        return value
    if isinstance(value, Mapping):
        return _fit_object(value, depth)
    if isinstance(value, (list, tuple)):
        fitted = (item if type(item) in _LEAVES else _fit(item, depth) for item in islice(value, MAX_ARRAY))
        return [f for f in fitted if f is not None]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _fit_object(value: Mapping[Any, Any], depth: int) -> dict[str, Any] | str:
    """An object's first 200 non-empty keys with their fitted values; too deep: its compact JSON text."""
    if depth > MAX_DEPTH:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if len(out) >= MAX_KEYS:
            break
        if not isinstance(key, str) or not key.strip():
            continue
        kind = type(item)
        if kind is str or kind is int or kind is bool:  # a leaf is kept as it is, without a call
            out[key] = item
            continue
        if item is not None and (item := _fit(item, depth + 1)) is not None:
            out[key] = item
    return out
