"""check_properties / fit_properties against the reference walks they replaced (kept here, verbatim in
behaviour): the same cleaned trees, the same first rule broken, on edge cases and on generated trees."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from itertools import islice
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook_translator.ours import limits
from webhook_translator.ours.limits import (
    _MESSAGES,
    MAX_ARRAY,
    MAX_DEPTH,
    MAX_KEYS,
    MAX_UTF16_UNITS,
    RuleBroken,
    check_properties,
    fit_properties,
    utf16_units,
)

_LEAVES = frozenset({str, int, bool, type(None)})


# --- the reference: the walks as they were (one tree walk, then json.dumps for the size rule) ---------


def _ref_tree(value: Any, *, depth: int, problems: list[str]) -> Any:
    if type(value) in _LEAVES:
        return value
    if isinstance(value, dict | Mapping):
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
            cleaned[key] = item if type(item) in _LEAVES else _ref_tree(item, depth=depth + 1, problems=problems)
        return cleaned
    if isinstance(value, list | tuple):
        if len(value) > MAX_ARRAY:
            problems.append("array_too_long")
        return [item if type(item) in _LEAVES else _ref_tree(item, depth=depth, problems=problems) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        problems.append("not_json")
        return value
    if value is None or isinstance(value, str | int | float | bool):
        return value
    problems.append("not_json")
    return value


def ref_check(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict | Mapping):
        raise RuleBroken("dict_type", "must be an object")
    problems: list[str] = []
    cleaned = _ref_tree(value, depth=1, problems=problems)
    if not problems:
        text = json.dumps(cleaned, ensure_ascii=False, separators=(",", ":"))
        if utf16_units(text) >= MAX_UTF16_UNITS:
            problems.append("too_large")
    if problems:
        raise RuleBroken(problems[0], _MESSAGES[problems[0]])
    assert isinstance(cleaned, dict)
    return cleaned


def _ref_fit(value: Any, depth: int) -> Any:
    if type(value) in _LEAVES:
        return value
    if isinstance(value, Mapping):
        if depth > MAX_DEPTH:
            return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if len(out) >= MAX_KEYS:
                break
            if not isinstance(key, str) or not key.strip():
                continue
            fitted = _ref_fit(item, depth + 1)
            if fitted is not None:
                out[key] = fitted
        return out
    if isinstance(value, list | tuple):
        return [f for f in (_ref_fit(item, depth) for item in islice(value, MAX_ARRAY)) if f is not None]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def outcome(check: Any, value: Any) -> tuple[str, Any]:
    try:
        return "ok", check(value)
    except RuleBroken as exc:
        return exc.code, str(exc)


def same(value: Any) -> None:
    mine, theirs = outcome(check_properties, value), outcome(ref_check, value)
    assert mine == theirs
    assert json.dumps(mine, default=repr) == json.dumps(theirs, default=repr)  # float NaN-safe, types alike
    fitted = fit_properties(value) if isinstance(value, Mapping) else None
    if fitted is not None:
        assert json.dumps(fitted, default=repr) == json.dumps(_ref_fit(value, 1), default=repr)
        assert fitted == _ref_fit(value, 1)


def nested(depth: int) -> dict[str, Any]:
    tree: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        tree = {"k": tree}
    return tree


def near(units: int, filler: str) -> dict[str, Any]:
    """An object whose compact JSON is about ``units`` UTF-16 units: a nested list of ``filler`` strings."""
    per = utf16_units(json.dumps(filler, ensure_ascii=False)) + 1
    count = units // per // 200 + 1
    return {"outer": {"rows": [[filler] * 200 for _ in range(count)][:250]}, "n": [1.5, None, True]}


EDGE_CASES: list[Any] = [
    nested(MAX_DEPTH),
    nested(MAX_DEPTH + 1),
    {"l": [[[[[[{"deep": nested(MAX_DEPTH)}]]]]]]},
    {"o": {f"k{i}": i for i in range(MAX_KEYS)}},
    {"o": {f"k{i}": i for i in range(MAX_KEYS + 1)}},
    {f"k{i}": [i] for i in range(MAX_KEYS + 1)},
    {"a": list(range(MAX_ARRAY))},
    {"a": list(range(MAX_ARRAY + 1))},
    {"a": [[1]] * (MAX_ARRAY + 1)},
    {"a": [math.nan]},
    {"a": {"b": math.inf}},
    {"a": [-math.inf, {"x": None}]},
    {"a": None, "b": {"c": None, "d": [None]}},
    {"a": {1: "x"}},
    {"a": {"": "x"}, "b": [1]},
    {"a": {"  ": "x"}},
    {"a": {None: 1}},
    {"a": {"b": {1, 2}}},
    {"a": [b"bytes"]},
    {"a": (1, 2, (3, {"t": ()}))},
    {"a": MappingProxyType({"m": [1]})},
    {"a": [10**30, -(10**40), 2**63, 10**18, -(10**18)]},
    {"a": {"b": [1.5e308, -2.2250738585072014e-308, 0.1]}},
    {"a": {'\x00\x1f"\\': ["\u2028", "\U0001f600" * 3, "é"]}},
    {"too_deep_and_keys": nested(7), **{f"k{i}": {"x": 1} for i in range(MAX_KEYS)}},
    {"first": [math.nan], "second": nested(9)},
]


@pytest.mark.parametrize("value", EDGE_CASES, ids=range(len(EDGE_CASES)))
def test_edge_cases_as_the_reference(value: Any) -> None:
    same(value)


@pytest.mark.parametrize("filler", ["a", "é", "\U0001f600", "\x01", '"', "\\\n", "\u2028ab"])
@pytest.mark.parametrize("delta", [-4000, -300, -2, 0, 2, 300])
def test_near_the_size_limit_as_the_reference(filler: str, delta: int) -> None:
    value = near(MAX_UTF16_UNITS + delta * 20, filler * 20)
    same(value)


@pytest.mark.parametrize("length", [MAX_UTF16_UNITS - 40, MAX_UTF16_UNITS - 30, MAX_UTF16_UNITS - 11])
@pytest.mark.parametrize("char", ["a", "\u00e9", "\U0001f600", "\x1f"])
def test_one_long_string_at_the_edge(length: int, char: str) -> None:
    unit = utf16_units(json.dumps(char, ensure_ascii=False)) - 2
    value = {"x": {"s": char * (length // unit), "t": [1]}}
    same(value)


def test_the_walk_bound_never_undercounts() -> None:
    for value in EDGE_CASES:
        problems: list[str] = []
        cleaned, bound = limits._check_tree(value, depth=1, problems=problems)
        if not problems:
            assert bound >= utf16_units(json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")))


_keys = st.one_of(st.text(max_size=6), st.sampled_from(["", " ", "k", "é"]), st.integers(0, 3))
_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.binary(max_size=3),
)
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.lists(children, max_size=5).map(tuple),
        st.dictionaries(_keys, children, max_size=5),
    ),
    max_leaves=40,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _trees, max_size=6))
def test_generated_trees_as_the_reference(value: dict[Any, Any]) -> None:
    same(value)
    problems: list[str] = []
    cleaned, bound = limits._check_tree(value, depth=1, problems=problems)
    if not problems:
        assert bound >= utf16_units(json.dumps(cleaned, ensure_ascii=False, separators=(",", ":")))


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=4), _trees, max_size=4), st.integers(1, 8))
def test_generated_deep_trees_as_the_reference(value: dict[str, Any], depth: int) -> None:
    tree: Any = value
    for _ in range(depth):
        tree = {"k": [tree, {"x": tree}]}
    same(tree)


def test_remembered_keys_never_excuse_a_bad_key() -> None:
    # Given keys remembered as good (a flat object and a nested one checked before)
    check_properties({"a": 1, "b": "x"})
    check_properties({"o": {"a": [1], "b": None}})
    assert {"a", "b", "o"} <= limits._KNOWN_KEYS
    # When an object has those keys and one that breaks the rule / Then the rule is broken as ever
    for bad in ({"a": 1, " ": 2}, {"o": {"a": 1, "": 2}}, {"o": {"a": 1, 3: 2}}, {"a": {"b": {None: 1}}}):
        assert outcome(check_properties, bad) == outcome(ref_check, bad)
        assert outcome(check_properties, bad)[0] == "empty_key"
    assert not any(type(key) is not str or not key.strip() for key in limits._KNOWN_KEYS)


def test_remembered_keys_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given as many remembered keys as the bound allows
    monkeypatch.setattr(limits, "_KNOWN_KEYS", {f"k{i}" for i in range(4096)})
    # When an object with a new key is checked / Then the memory starts again, with its keys
    assert check_properties({"new": 1}) == {"new": 1}
    assert {"new"} == limits._KNOWN_KEYS
