"""A record read by its keys' plan (the hot path) decides exactly as the key-by-key read: the same values,
in the same order, the same broken rules in the same order — for any input, seen once or many times."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhook_translator.ours.checks import Errors, Field, boolean, json_value, nested, number, text
from webhook_translator.ours.models import TrackEvent
from webhook_translator.ours.properties import DefaultProperties, IdentityContext, UserProperties
from webhook_translator.ours.record import Record

NOW_MS = 1_795_000_000_000

values = st.one_of(
    st.none(),
    st.sampled_from(["", "  ", " a ", "x" * 499, "x" * 501, "é" * 300, "😀" * 260, "ok"]),
    st.text(max_size=8),
    st.integers(min_value=NOW_MS - 10**10, max_value=NOW_MS + 10**7),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["a", "", " ", "first_name", "ip", "userAgent"]), st.text(max_size=3), max_size=3),
)


def keys_of(kind: type[Record]) -> list[str]:
    return [*{name for f in kind.FIELDS for name in (f.name, f.sent)}, "unknown", "received_at"]


def valid(field: Field[Any]) -> st.SearchStrategy[Any]:
    """Values the field's rule mostly keeps (so that the planned read, not its fallback, decides)."""
    check = field.check
    if isinstance(check, text):
        return st.one_of(st.text(min_size=1, max_size=5), st.sampled_from([" a ", "é ", "x" * 499]))
    if check is json_value:
        return st.one_of(st.sampled_from([" a ", "  ", "", "+1 555"]), st.integers(), st.booleans())
    if check is number:
        return st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False))
    if check is boolean:
        return st.booleans()
    if isinstance(check, nested):
        return st.sampled_from([{"first_name": " Jo "}, {"ip": "1.2.3.4", "userAgent": "ua"}, {"host": "h"}])
    if field.name == "time":
        return st.integers(min_value=NOW_MS - 10**9, max_value=NOW_MS)
    if field.name == "erase":
        return st.sampled_from([["email"], ("time",), {"user_id"}])
    return st.dictionaries(st.sampled_from(["a", "b", " "]), st.one_of(st.none(), st.integers()), max_size=2)


def inputs(kind: type[Record]) -> st.SearchStrategy[dict[str, Any]]:
    def value_for(key: str) -> st.SearchStrategy[Any]:
        field = kind._BY_KEY.get(key)
        return values if field is None else st.one_of(valid(field), valid(field), valid(field), values)

    keys = st.lists(st.sampled_from(keys_of(kind)), max_size=8, unique=True)
    return keys.flatmap(lambda chosen: st.fixed_dictionaries({key: value_for(key) for key in chosen}))


def both_reads(kind: type[Record], data: dict[str, Any]) -> tuple[Any, Any]:
    planned: Errors = []
    each: Errors = []
    by_plan = kind._read(data, "x", planned)
    by_key = kind._read_each(data, "x", each, None)
    return (list(by_plan.items()), planned), (list(by_key.items()), each)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from([TrackEvent, UserProperties, DefaultProperties, IdentityContext]), data=st.data())
def test_the_planned_read_decides_as_the_read_key_by_key(kind: type[Record], data: st.DataObject) -> None:
    given_input = data.draw(inputs(kind))
    first = both_reads(kind, given_input)
    again = both_reads(kind, given_input)  # the plan is now kept: the same answer
    assert first[0] == first[1]
    assert again == first


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(fields=inputs(TrackEvent))
def test_a_whole_event_decides_the_same_through_its_plans(fields: dict[str, Any]) -> None:
    """TrackEvent.of (plans, nested records, the clock) against the key-by-key reads of every record."""

    def outcome() -> Any:
        try:
            return ("ok", TrackEvent.of(fields, now_ms=NOW_MS).to_ours())
        except Exception as exc:  # the outcome compared is the refusal itself
            return ("refused", type(exc).__name__, str(exc))

    planned = outcome()
    saved = {kind: kind._PLANS for kind in (TrackEvent, UserProperties, DefaultProperties, IdentityContext)}
    try:
        for kind in saved:
            kind._PLANS = _NeverPlanned()
        by_key = outcome()
    finally:
        for kind, plans in saved.items():
            kind._PLANS = plans
    assert planned == by_key


class _NeverPlanned(dict[tuple[Any, ...], Any]):
    """A plan store that holds nothing: every read takes the key-by-key pass."""

    def get(self, key: tuple[Any, ...], default: Any = None) -> None:
        return None


def test_a_mapper_order_other_than_the_fields_is_read_in_field_order() -> None:
    event = TrackEvent.of({"time": NOW_MS - 1, "distinct_id": "d", "email": "a@b.co", "event": "E"}, now_ms=NOW_MS)
    assert list(event.to_ours()) == ["event", "email", "distinctId", "time"]


def test_the_plans_kept_are_bounded() -> None:
    for n in range(600):
        UserProperties._read({"first_name": "a", f"unknown_{n}": 1}, "userProperties", [])
    assert len(UserProperties._PLANS) <= 512


def test_a_compiled_plan_holds_no_name_or_value_in_its_source(monkeypatch: Any) -> None:
    # Given the plans' compiler, its source captured
    from webhook_translator.ours import plans

    sources: list[str] = []
    real = compile

    def capture(source: str, *args: Any, **kwargs: Any) -> Any:
        sources.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(plans, "compile", capture, raising=False)
    monkeypatch.setattr(UserProperties, "_PLANS", {})
    # When a dict of keys never seen is read (out of field order) / Then it is read by a plan compiled for
    # it, whose source names no field and holds none of the values: they are bound, never written in
    record = UserProperties.parse({"zip": "78701", "first_name": " Jane "}, "userProperties", [])
    assert record.to_ours() == {"first_name": "Jane", "zip": "78701"}
    assert len(sources) == 1
    assert not any(word in sources[0] for word in ("zip", "first_name", "Jane", "78701"))


class _Refusing(Record):
    """A record whose precheck refuses one of its own fields' keys (the plan must not skip it)."""

    __slots__ = ()
    kept = Field[str](text(100))
    banned = Field[str](text(100))

    @classmethod
    def _precheck(cls, data: Any, where: str, errors: Errors) -> None:
        if "banned" in data:
            errors.append((where, "banned"))


def test_a_key_tuple_the_precheck_refuses_has_no_plan() -> None:
    # Given dicts of the same keys read twice (the second read by the plan, if there were one)
    for _ in range(2):
        errors: Errors = []
        # When the precheck refuses a key / Then the record fails with its rule, every time
        assert _Refusing.parse({"kept": "a", "banned": "b"}, "x", errors) is not None
        assert errors == [("x", "banned")]
        assert _Refusing.parse({"kept": " a "}, "x", []).to_ours() == {"kept": "a"}
    assert _Refusing._PLANS[("kept", "banned")] is None
