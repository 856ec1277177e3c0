"""A function called on plain paths and literals is evaluated without the JMESPath interpreter
(``Path.call``): the same value, or the same refusal, as the interpreter's for any payload."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook_translator.errors import MappingError
from webhook_translator.spec import paths
from webhook_translator.spec.paths import compile_path

CALLS = [
    "upper(data.object.currency)",
    "lower(a)",
    "trim(a.b)",
    "first(a.b, c, 'fallback')",
    "first(a, b)",
    "name_part(a.b, 'first')",
    "name_part(a.b, 'last')",
    "amount(a.n, a.cur)",
    "get(a, 'Key')",
    "as_bool(a)",
    "epoch_ms(a)",
    "iso_time(a.b)",
    "negate(a)",
    "find(items, 'id', 'x')",
    "length(a)",
    "join(', ', items)",
    "contains(items, 'x')",
    "not_null(a, b.c, `null`)",
    "to_string(a)",
    "abs(a.n)",
]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**13),
    st.floats(allow_nan=False),
    st.sampled_from(["", " x ", "Jane Q. Doe", "usd", "2026-11-18T10:48:00Z", "yes", "1", "x", "Key"]),
    st.text(max_size=5),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "c", "n", "cur", "id", "key", "Key", "object"]), inner, max_size=4),
    ),
    max_leaves=12,
)
_payloads = st.dictionaries(
    st.sampled_from(["a", "b", "c", "items", "data"]),
    st.one_of(_values, st.fixed_dictionaries({"object": st.fixed_dictionaries({"currency": _values})})),
    max_size=5,
)


def interpreted(path: paths.Path, data: Any) -> tuple[str, Any]:
    try:
        return "ok", paths._INTERPRETER.visit(path.parsed, data)
    except paths.exceptions.JMESPathError as exc:
        return "refused", type(exc).__name__


def searched(path: paths.Path, data: Any) -> tuple[str, Any]:
    try:
        return "ok", path.search(data)
    except MappingError as exc:  # the path named, then the interpreter's error type
        named = str(exc).startswith(f"spec path {path.where} could not be evaluated")
        return ("refused" if named else "unnamed"), str(exc).rsplit("(", 1)[-1].rstrip(")")


@pytest.mark.parametrize("text", CALLS)
def test_calls_on_plain_paths_skip_the_interpreter(text: str) -> None:
    assert compile_path("p", text).call is not None


@pytest.mark.parametrize("text", ["upper(a[0])", "first(a.b, c[?d])", "length(@)", "upper(a.b || c)"])
def test_other_arguments_take_the_interpreter(text: str) -> None:
    assert compile_path("p", text).call is None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CALLS), _payloads)
def test_a_call_decides_as_the_interpreter(text: str, data: dict[str, Any]) -> None:
    path = compile_path("p", text)
    mine, theirs = searched(path, data), interpreted(path, data)
    assert mine == theirs
    assert type(mine[1]) is type(theirs[1])
