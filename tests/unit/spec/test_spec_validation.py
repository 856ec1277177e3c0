"""Every spec field has a validation test: a bad spec is one clear line naming the path, when it loads."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook_translator.spec import SpecError, compile_spec

BASE: dict[str, Any] = {
    "verifier": {"type": "hmac", "header": "X-Signature"},
    "event_type": {"path": "type"},
    "events": {"lead.created": "Lead Created"},
    "identity": {"email": "lower(data.email)"},
}


def spec(**changes: Any) -> dict[str, Any]:
    """BASE with top-level keys replaced (a value of ``...`` removes the key)."""
    raw = copy.deepcopy(BASE)
    for key, value in changes.items():
        if value is ...:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


CASES = [
    # (case, name, raw spec, the line it must be — or its start)
    ("not an object", "acme", [], "spec: must be an object"),
    ("a bad source name", "Acme Corp", BASE, "name: a source name is"),
    (
        "no verifier",
        "acme",
        spec(verifier=...),
        "verifier: a spec must name a verifier (hmac, standard-webhooks, token)",
    ),
    ("verifier none", "acme", spec(verifier="none"), "verifier: a spec must name a verifier"),
    ("unknown verifier type", "acme", spec(verifier={"type": "md5"}), "verifier: unknown verifier type"),
    ("verifier without type", "acme", spec(verifier={"header": "x"}), "verifier: name the verifier's type"),
    ("hmac without header", "acme", spec(verifier={"type": "hmac"}), "verifier.header: required"),
    (
        "hmac unknown key",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "hash": "md5"}),
        "verifier.hash: unknown key",
    ),
    (
        "hmac bad digest",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "digest": "md5"}),
        "verifier.digest: Input should be",
    ),
    (
        "hmac bad encoding",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "encoding": "b32"}),
        "verifier.encoding:",
    ),
    ("hmac bad layout", "acme", spec(verifier={"type": "hmac", "header": "x", "layout": "csv"}), "verifier.layout:"),
    (
        "hmac signed no body",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "signed": "{t}"}),
        "verifier.signed: must hold {body} exactly once",
    ),
    (
        "hmac signed unknown part",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "signed": "{path}{body}"}),
        "verifier.signed: may only use",
    ),
    (
        "hmac signs t without header",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "signed": "{t}.{body}"}),
        "verifier: signs {t}: name the timestamp_header",
    ),
    (
        "hmac signs id without header",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "signed": "{id}.{body}"}),
        "verifier: signs {id}: name the id_header",
    ),
    (
        "hmac bad tolerance",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "tolerance": 0}),
        "verifier.tolerance:",
    ),
    ("hmac bad header name", "acme", spec(verifier={"type": "hmac", "header": "x sig"}), "verifier.header:"),
    (
        "hmac bad secret encoding",
        "acme",
        spec(verifier={"type": "hmac", "header": "x", "secret_encoding": "hex"}),
        "verifier.secret_encoding:",
    ),
    (
        "token nowhere",
        "acme",
        spec(verifier={"type": "token", "header": None, "query": None}),
        "verifier: name a header or a query parameter",
    ),
    (
        "standard-webhooks bad headers",
        "acme",
        spec(verifier={"type": "standard-webhooks", "headers": "x"}),
        "verifier.headers:",
    ),
    (
        "standard-webhooks with hmac",
        "standard-webhooks",
        spec(),
        "verifier: the standard-webhooks source verifies with the Standard Webhooks scheme only",
    ),
    ("unknown top-level key", "acme", spec(evnts={}), "evnts: unknown key"),
    ("no event map", "acme", spec(events=...), "events: required"),
    ("empty event map", "acme", spec(events={}), "events:"),
    ("a wildcard event name", "acme", spec(events={"*": "Anything"}), "events: '*' may only be null"),
    ("an event map that maps nothing", "acme", spec(events={"a": None}), "events: maps no type to an Ours event name"),
    ("an empty Ours name", "acme", spec(events={"a": ""}), "events.a:"),
    ("no event type", "acme", spec(event_type=...), "event_type: required"),
    (
        "an event type from a header",
        "acme",
        spec(event_type={"header": "X-Event"}),
        "event_type: must be read from the signed body, not a header",
    ),
    (
        "an event type both ways",
        "acme",
        spec(event_type={"path": "type", "value": "x"}),
        "event_type: give exactly one of path, value",
    ),
    ("an event type bad path", "acme", spec(event_type={"path": "type[?"}), "event_type.path: invalid JMESPath"),
    (
        "a bad JMESPath",
        "acme",
        spec(identity={"email": "data.[email"}),
        "identity.email: invalid JMESPath 'data.[email'",
    ),
    (
        "an unknown function",
        "acme",
        spec(identity={"email": "lowr(data.email)"}),
        "identity.email: unknown function 'lowr' (known: lower, upper, trim, first,",
    ),
    (
        "a nested unknown function",
        "acme",
        spec(identity={"userId": "first(data.id, uuid(data))"}),
        "identity.userId: unknown function 'uuid'",
    ),
    (
        "a wrong arity",
        "acme",
        spec(identity={"email": "lower(a, b)"}),
        "identity.email: function 'lower' takes 1 argument(s), not 2",
    ),
    (
        "a variadic with no arguments",
        "acme",
        spec(identity={"email": "first()"}),
        "identity.email: function 'first' takes at least 1 argument(s), not 0",
    ),
    ("an empty expression", "acme", spec(identity={"email": "  "}), "identity.email: must be a JMESPath expression"),
    ("an unknown identity", "acme", spec(identity={"name": "data.name"}), "identity.name: unknown key"),
    (
        "an unknown user property",
        "acme",
        spec(userProperties={"favourite_colour": "a"}),
        "userProperties.favourite_colour: not a userProperties key Ours knows",
    ),
    (
        "consent in userProperties",
        "acme",
        spec(userProperties={"consent": "a"}),
        "userProperties.consent: not a userProperties key",
    ),
    (
        "a bad user property path",
        "acme",
        spec(userProperties={"first_name": "a.."}),
        "userProperties.first_name: invalid JMESPath",
    ),
    (
        "received_at",
        "acme",
        spec(defaultProperties={"received_at": "a"}),
        "defaultProperties.received_at: not a defaultProperties key Ours knows (received_at is Ours's own",
    ),
    (
        "a bad default property path",
        "acme",
        spec(defaultProperties={"ip": "lowr(ip)"}),
        "defaultProperties.ip: unknown function 'lowr'",
    ),
    (
        "a bad event property path",
        "acme",
        spec(eventProperties={"plan": "a["}),
        "eventProperties.plan: invalid JMESPath",
    ),
    (
        "a bad consent path",
        "acme",
        spec(consent={"marketing": "as_boo(a)"}),
        "consent.marketing: unknown function 'as_boo'",
    ),
    (
        "a bad time format",
        "acme",
        spec(time={"path": "at", "format": "rfc2822"}),
        "time.format: Input should be 'iso8601', 'epoch_s' or 'epoch_ms'",
    ),
    ("a time without path", "acme", spec(time={"format": "iso8601"}), "time.path: required"),
    ("a bad time path", "acme", spec(time={"path": "at[", "format": "iso8601"}), "time.path: invalid JMESPath"),
    ("a bad batch path", "acme", spec(batch="entry[].changes["), "batch: invalid JMESPath"),
    ("a batch with an unknown function", "acme", spec(batch="flatten(entry)"), "batch: unknown function 'flatten'"),
    ("item_id without batch", "acme", spec(item_id="id"), "item_id: only a batch spec has per-item ids (set batch)"),
    ("a bad item_id", "acme", spec(batch="items", item_id="id["), "item_id: invalid JMESPath"),
    ("an id both ways", "acme", spec(id={"header": "x-id", "path": "id"}), "id: give exactly one of header, path"),
    ("an id neither way", "acme", spec(id={}), "id: give exactly one of header, path"),
    ("a bad id path", "acme", spec(id={"path": "id[?"}), "id.path: invalid JMESPath"),
    ("a bad content type", "acme", spec(content_types=["text/xml"]), "content_types[0]: Input should be"),
    ("no content type", "acme", spec(content_types=[]), "content_types:"),
    ("a handshake without body", "acme", spec(handshake={"when": "challenge"}), "handshake.body: required"),
    ("a handshake with an empty body", "acme", spec(handshake={"when": "challenge", "body": {}}), "handshake.body:"),
    (
        "a bad handshake predicate",
        "acme",
        spec(handshake={"when": "type ==", "body": {"c": "c"}}),
        "handshake.when: invalid JMESPath",
    ),
    (
        "a bad handshake body path",
        "acme",
        spec(handshake={"when": "c", "body": {"challenge": "lowr(c)"}}),
        "handshake.body.challenge: unknown function",
    ),
    (
        "a handshake status",
        "acme",
        spec(handshake={"when": "c", "body": {"c": "c"}, "status": 201}),
        "handshake.status: unknown key",
    ),
    ("a bad filter", "acme", spec(filters=[{"when": "test =="}]), "filters[0].when: invalid JMESPath"),
    ("a filter without predicate", "acme", spec(filters=[{"reason": "test"}]), "filters[0].when: required"),
    ("a bad filter reason", "acme", spec(filters=[{"when": "test", "reason": "Test Mode!"}]), "filters[0].reason:"),
    ("a bad title", "acme", spec(title=""), "title:"),
]


@pytest.mark.parametrize(("case", "name", "raw", "line"), [pytest.param(*c, id=c[0]) for c in CASES])
def test_a_bad_spec_is_one_line_naming_the_path(case: str, name: str, raw: Any, line: str) -> None:
    # When the spec is compiled
    with pytest.raises(SpecError) as caught:
        compile_spec(name, raw)
    # Then the error is one line that starts with the path and says the fault
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(line), message


def test_the_base_spec_is_valid() -> None:
    # Given the spec the cases change one field of — Then it compiles
    source = compile_spec("acme", BASE)
    assert (source.name, source.events) == ("acme", {"lead.created": "Lead Created"})


def test_a_spec_error_names_no_secret_or_value() -> None:
    # Given a token verifier with a secret-looking header value in the wrong place
    raw = spec(verifier={"type": "token", "header": "x-token", "secret": "s3cr3t-value"})
    # Then the error names the key, never its value
    with pytest.raises(SpecError) as caught:
        compile_spec("acme", raw)
    assert str(caught.value) == "verifier.secret: unknown key"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=16,
)
FIELDS = st.sampled_from([*sorted(BASE), "batch", "time", "handshake", "filters", "consent", "userProperties", "id"])


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(FIELDS, json_values, max_size=4))
def test_any_document_compiles_or_is_one_spec_error(changes: dict[str, Any]) -> None:
    # Whatever a configuration holds, compiling it gives a source or one SpecError line — nothing else
    message = "compiled"
    try:
        compile_spec("acme", {**BASE, **changes})
    except SpecError as exc:
        message = str(exc)
    assert message
    assert "\n" not in message


def test_a_url_signed_scheme_cannot_be_signed_by_the_cli() -> None:
    source = compile_spec("acme", spec(verifier={"type": "hmac", "header": "x-sig", "signed": "{url}{body}"}))
    with pytest.raises(NotImplementedError, match="public URL"):
        source.sign_headers(b"{}", "secret", now=0)
