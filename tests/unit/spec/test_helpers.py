"""The JMESPath helpers of a spec, on examples and as properties (hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webhook_translator.spec.paths import compile_path, known_functions, to_epoch_ms


def run(expression: str, data: Any = None) -> Any:
    return compile_path("test", expression).search(data)


@pytest.mark.parametrize(
    ("expression", "data", "expected"),
    [
        pytest.param("lower(a)", {"a": " Jane@Example.COM "}, "jane@example.com", id="lower"),
        pytest.param("lower(a)", {"a": 5}, None, id="lower-number"),
        pytest.param("trim(a)", {"a": "  x "}, "x", id="trim"),
        pytest.param("first(a, b, c)", {"a": "", "b": " ", "c": "z"}, "z", id="first-skips-empties"),
        pytest.param("first(a, b)", {"a": [], "b": 0}, 0, id="first-keeps-zero"),
        pytest.param("first(a, b)", {}, None, id="first-none"),
        pytest.param("get(@, 'E-Mail')", {"e-mail": "x"}, "x", id="get-ci"),
        pytest.param("get(@, 'a')", {"A": 1, "a": 2}, 2, id="get-exact-first"),
        pytest.param("get(a, 'x')", {"a": "text"}, None, id="get-not-object"),
        pytest.param("epoch_ms(a)", {"a": "2026-11-18T10:00:00Z"}, 1_794_996_000_000, id="epoch-iso"),
        pytest.param("epoch_ms(a)", {"a": 1_794_996_000}, 1_794_996_000_000, id="epoch-s"),
        pytest.param("epoch_ms(a)", {"a": 1_794_996_000_123}, 1_794_996_000_123, id="epoch-ms"),
        pytest.param("epoch_ms(a)", {"a": "soon"}, None, id="epoch-text"),
        pytest.param("epoch_ms(a)", {"a": True}, None, id="epoch-bool"),
        pytest.param("iso_time(a)", {"a": 1_794_996_000}, "2026-11-18T10:00:00.000Z", id="iso"),
        pytest.param("iso_time(a)", {"a": "nope"}, None, id="iso-bad"),
        pytest.param("as_bool(a)", {"a": "Yes"}, True, id="bool-yes"),
        pytest.param("as_bool(a)", {"a": "off"}, False, id="bool-off"),
        pytest.param("as_bool(a)", {"a": 1}, True, id="bool-one"),
        pytest.param("as_bool(a)", {"a": "maybe"}, None, id="bool-unknown"),
        pytest.param("name_part(a, 'first')", {"a": "Jane Q. Doe"}, "Jane", id="first-name"),
        pytest.param("name_part(a, 'last')", {"a": "Jane Q. Doe"}, "Q. Doe", id="last-name"),
        pytest.param("name_part(a, 'last')", {"a": "Cher"}, None, id="single-name"),
        pytest.param("find(a, 'id', p).v", {"a": [{"id": 1, "v": "x"}, {"id": 2, "v": "y"}], "p": 2}, "y", id="find"),
        pytest.param("find(a, 'id', p)", {"a": [{"id": 1}], "p": None}, None, id="find-null"),
        pytest.param("negate(a)", {"a": False}, True, id="negate"),
        pytest.param("negate(a)", {"a": "false"}, None, id="negate-text"),
        pytest.param("upper(a)", {"a": " usd"}, "USD", id="upper"),
        pytest.param("amount(a, 'usd')", {"a": 4900}, 49.0, id="amount-usd"),
        pytest.param("amount(a, 'JPY')", {"a": 500}, 500.0, id="amount-jpy"),
        pytest.param("amount(a, 'kwd')", {"a": 1000}, 1.0, id="amount-kwd"),
        pytest.param("amount(a, 'usd')", {"a": "4900"}, None, id="amount-text"),
    ],
)
def test_helpers(expression: str, data: Any, expected: Any) -> None:
    assert run(expression, data) == expected


def test_every_documented_helper_is_known() -> None:
    assert known_functions()[:12] == [
        "lower", "upper", "trim", "first", "get", "epoch_ms", "iso_time", "as_bool", "name_part", "find", "negate",
        "amount",
    ]  # fmt: skip
    assert "join" in known_functions()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_helpers_never_raise_on_any_json_value(value: Any) -> None:
    # Whatever a payload holds, a helper answers a value or null — it never fails the webhook
    run("amount(v, v)", {"v": value})
    for fn in (
        "lower(v)",
        "upper(v)",
        "trim(v)",
        "first(v, v)",
        "epoch_ms(v)",
        "iso_time(v)",
        "as_bool(v)",
        "negate(v)",
    ):
        run(fn, {"v": value})
    run("get(v, 'k')", {"v": value})
    run("name_part(v, 'last')", {"v": value})
    run("find(v, 'id', `1`)", {"v": value})


@given(st.integers(min_value=946_684_800, max_value=4_102_444_800))
def test_epoch_seconds_and_ms_and_iso_agree(seconds: int) -> None:
    # An epoch in seconds, the same in ms, and its ISO text are one instant
    ms = seconds * 1000
    assert to_epoch_ms(seconds) == ms
    assert to_epoch_ms(ms) == ms
    assert run("epoch_ms(iso_time(v))", {"v": seconds}) == ms


@given(st.text(), st.text(min_size=1))
def test_get_finds_a_key_whatever_its_case(key: str, value: str) -> None:
    assert run("get(o, k)", {"o": {key.upper(): value}, "k": key.lower()}) in (value, None)
    assert run("get(o, k)", {"o": {key: value}, "k": key}) == value


keys = st.sampled_from(["a", "b", "c"])


@given(json_values, st.lists(keys, min_size=1, max_size=4))
def test_a_plain_dotted_path_finds_what_jmespath_finds(data: Any, path: list[str]) -> None:
    # Plain paths skip the interpreter: the value must be JMESPath's own
    import jmespath

    nested: Any = {"a": {"b": {"c": data, "a": [data]}, "c": data}, "b": data}
    expression = ".".join(path)
    compiled = compile_path("test", expression)
    assert compiled.keys == tuple(path)
    assert compiled.search(nested) == jmespath.search(expression, nested)
