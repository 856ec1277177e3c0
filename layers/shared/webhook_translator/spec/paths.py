"""JMESPath in a spec: each expression compiled once when the spec loads, plus the helper functions.

Every JMESPath built-in (``length``, ``join``, ``contains``, ``not_null``…) is there, and these helpers:

=====================  ==================================================================================
``lower(v)``           a string lower-cased (and trimmed); null for anything else
``upper(v)``           a string upper-cased (and trimmed); null for anything else
``trim(v)``            a string without surrounding whitespace; null for anything else
``first(a, b, …)``     the first argument that is not empty (null, ``""``, whitespace, ``[]``, ``{}``)
``get(obj, key)``      ``obj[key]``, the key matched case-insensitively (exact match first); null if absent
``epoch_ms(v)``        ISO 8601 text, or an epoch in seconds or milliseconds (number or digits) → epoch ms
``iso_time(v)``        the same inputs → ISO 8601 UTC text (``2026-11-18T10:48:00.000Z``)
``as_bool(v)``         ``true``/``false`` for booleans, 1/0 and yes/no/true/false/on/off/1/0 text; else null
``name_part(v, p)``    a full name's ``'first'`` word or the ``'last'`` rest (``'Jane Q. Doe'`` → ``'Q. Doe'``)
``find(arr, key, v)``  the first object of ``arr`` whose ``key`` equals ``v`` (a lookup by id); else null
``negate(v)``          ``false`` for ``true`` and ``true`` for ``false``; null for anything else
``amount(n, cur)``     integer minor units as a decimal amount of the currency: ``4900, 'usd'`` → ``49.0``,
                       ``500, 'jpy'`` → ``500.0``, ``1000, 'kwd'`` → ``1.0``; null unless ``n`` is an integer
=====================  ==================================================================================

A function the table does not know, or one called with the wrong number of arguments, is a
:class:`SpecError` when the spec loads, not a failure on the first webhook.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, TypeVar

import jmespath
from jmespath import exceptions, functions, visitor

from webhook_translator.errors import MappingError
from webhook_translator.ours.limits import MIN_PLAUSIBLE_MS
from webhook_translator.sources.common import clean, decimal_amount, iso_to_ms, split_name
from webhook_translator.spec.errors import SpecError

_TRUE: Final = frozenset({"true", "yes", "y", "on", "1"})
_FALSE: Final = frozenset({"false", "no", "n", "off", "0"})


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {}) or (isinstance(value, str) and not value.strip())


def to_epoch_ms(value: Any) -> int | None:
    """ISO 8601 text, or an epoch in seconds or ms (a number, or digits), as ms; None when it is neither."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            try:
                return iso_to_ms(value)
            except MappingError:
                return None
    elif isinstance(value, int | float):
        number = float(value)
    else:
        return None
    if not math.isfinite(number):
        return None
    return int(number if abs(number) >= MIN_PLAUSIBLE_MS else number * 1000)


F = TypeVar("F", bound=Callable[..., Any])


def signature(*arguments: dict[str, Any]) -> Callable[[F], F]:
    """``jmespath.functions.signature``, typed."""
    decorate: Callable[[F], F] = functions.signature(*arguments)
    return decorate


class SpecFunctions(functions.Functions):  # type: ignore[misc]  # jmespath ships no type hints
    """JMESPath's built-ins plus the spec helpers (a method ``_func_<name>`` is the function ``<name>``)."""

    @signature({"types": []})
    def _func_lower(self, value: Any) -> str | None:
        return value.strip().lower() if isinstance(value, str) else None

    @signature({"types": []})
    def _func_upper(self, value: Any) -> str | None:
        return value.strip().upper() if isinstance(value, str) else None

    @signature({"types": []})
    def _func_trim(self, value: Any) -> str | None:
        return value.strip() if isinstance(value, str) else None

    @signature({"types": [], "variadic": True})
    def _func_first(self, *values: Any) -> Any:
        return next((v for v in values if not _empty(v)), None)

    @signature({"types": []}, {"types": ["string"]})
    def _func_get(self, obj: Any, key: str) -> Any:
        if not isinstance(obj, Mapping):
            return None
        if key in obj:
            return obj[key]
        folded = key.casefold()
        return next((v for k, v in obj.items() if isinstance(k, str) and k.casefold() == folded), None)

    @signature({"types": []})
    def _func_epoch_ms(self, value: Any) -> int | None:
        return to_epoch_ms(value)

    @signature({"types": []})
    def _func_iso_time(self, value: Any) -> str | None:
        ms = to_epoch_ms(value)
        if ms is None:
            return None
        try:
            moment = datetime.fromtimestamp(ms / 1000, UTC)
        except (OverflowError, OSError, ValueError):
            return None
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @signature({"types": []})
    def _func_as_bool(self, value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        text = value.strip().lower() if isinstance(value, str) else None
        return True if text in _TRUE else False if text in _FALSE else None

    @signature({"types": []}, {"types": ["string"]})
    def _func_name_part(self, value: Any, part: str) -> str | None:
        first, last = split_name(value if isinstance(value, str) else None)
        return first if part == "first" else last if part == "last" else None

    @signature({"types": []}, {"types": ["string"]}, {"types": []})
    def _func_find(self, items: Any, key: str, value: Any) -> Any:
        if not isinstance(items, list) or value is None:
            return None
        return next((i for i in items if isinstance(i, Mapping) and i.get(key) == value), None)

    @signature({"types": []})
    def _func_negate(self, value: Any) -> bool | None:
        return (not value) if isinstance(value, bool) else None

    @signature({"types": []}, {"types": []})
    def _func_amount(self, minor: Any, currency: Any) -> float | None:
        if isinstance(minor, bool) or not isinstance(minor, int):
            return None
        return decimal_amount(minor, currency if isinstance(currency, str) else None)


#: the helpers a spec expression may call besides JMESPath's built-ins
HELPERS: Final = (
    "lower",
    "upper",
    "trim",
    "first",
    "get",
    "epoch_ms",
    "iso_time",
    "as_bool",
    "name_part",
    "find",
    "negate",
    "amount",
)
_FUNCTIONS: Final = SpecFunctions()
_INTERPRETER: Final = visitor.TreeInterpreter(jmespath.Options(custom_functions=_FUNCTIONS))


def known_functions() -> list[str]:
    """The helpers first, then JMESPath's built-ins (what an 'unknown function' error lists)."""
    return [*HELPERS, *sorted(set(SpecFunctions.FUNCTION_TABLE) - set(HELPERS))]


@dataclass(frozen=True)
class Path:
    """One compiled JMESPath expression and where it sits in the spec (for errors and ``explain``)."""

    where: str
    text: str
    parsed: dict[str, Any]
    #: a plain dotted path (``data.object.id``) as its keys, walked without the interpreter (same result)
    keys: tuple[str, ...] | None = None
    #: a function called on plain paths and literals (``upper(data.object.currency)``): its name and each
    #: argument's keys (None for a literal, then its value) — the arguments found without the interpreter,
    #: the function called as the interpreter calls it (its arguments' types checked the same way)
    call: tuple[str, tuple[tuple[tuple[str, ...] | None, Any], ...]] | None = None

    def search(self, data: Any) -> Any:
        """The value at this path in ``data`` (None when absent); :class:`MappingError` naming the path
        (never a value) when the expression cannot be evaluated on this payload."""
        if self.keys is not None:
            return _walk(self.keys, data)
        try:
            if self.call is not None:
                name, args = self.call
                found = [_walk(keys, data) if keys is not None else literal for keys, literal in args]
                return _FUNCTIONS.call_function(name, found)
            return _INTERPRETER.visit(self.parsed, data)
        except exceptions.JMESPathError as exc:
            raise MappingError(f"spec path {self.where} could not be evaluated ({type(exc).__name__})") from None


def _walk(keys: tuple[str, ...], data: Any) -> Any:
    """A plain path's value: each key looked up in turn (None once one is absent or not an object)."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _plain_call(node: Mapping[str, Any]) -> tuple[str, tuple[tuple[tuple[str, ...] | None, Any], ...]] | None:
    """A function call whose arguments are all plain paths or literals (see :attr:`Path.call`); else None."""
    if node.get("type") != "function_expression":
        return None
    args: list[tuple[tuple[str, ...] | None, Any]] = []
    for child in node.get("children") or ():
        if child.get("type") == "literal":
            args.append((None, child.get("value")))
        elif (keys := _plain_keys(child)) is not None:
            args.append((keys, None))
        else:
            return None
    return str(node["value"]), tuple(args)


def _plain_keys(node: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The keys of a path made only of field names (``a.b.c``); None for any other expression."""
    if node.get("type") == "field":
        return (str(node["value"]),)
    if node.get("type") != "subexpression":
        return None
    keys: tuple[str, ...] = ()
    for child in node.get("children") or ():
        part = _plain_keys(child)
        if part is None:
            return None
        keys += part
    return keys


def _function_calls(node: Mapping[str, Any]) -> Iterator[tuple[str, int]]:
    if node.get("type") == "function_expression":
        yield str(node.get("value")), len(node.get("children") or ())
    for child in node.get("children") or ():
        if isinstance(child, Mapping):
            yield from _function_calls(child)


def _check_calls(where: str, parsed: Mapping[str, Any]) -> None:
    for name, count in _function_calls(parsed):
        entry = SpecFunctions.FUNCTION_TABLE.get(name)
        if entry is None:
            raise SpecError(where, f"unknown function {name!r} (known: {', '.join(known_functions())})")
        signature = entry["signature"]
        variadic = bool(signature) and bool(signature[-1].get("variadic"))
        if (variadic and count < len(signature)) or (not variadic and count != len(signature)):
            wanted = f"at least {len(signature)}" if variadic else str(len(signature))
            raise SpecError(where, f"function {name!r} takes {wanted} argument(s), not {count}")


def compile_path(where: str, text: Any) -> Path:
    """Compile ``text`` (a JMESPath expression) found at ``where`` in the spec; :class:`SpecError` if invalid."""
    expression = clean(text) if isinstance(text, str) else None
    if expression is None:
        raise SpecError(where, "must be a JMESPath expression (a non-empty string)")
    try:
        parsed = jmespath.compile(expression).parsed
    except exceptions.JMESPathError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SpecError(where, f"invalid JMESPath {expression[:80]!r}: {detail[:160]}") from None
    _check_calls(where, parsed)
    return Path(where, expression, parsed, _plain_keys(parsed), _plain_call(parsed))
