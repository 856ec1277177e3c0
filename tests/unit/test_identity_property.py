"""A property of the identity resolver, through the real Tally, Webflow and Typeform mappers.

Whenever one answer holds an e-mail address under any e-mail-like label (a synonym in any of
the eight languages, in any case, with or without accents, filler words, a trailing number or
punctuation; a strong synonym inside a longer label) or under the provider's e-mail type — in
any position of the list — the event carries it as ``email``. An answer under a label that is
not e-mail-like is never the e-mail unless it holds the only address present. The e-mail never
appears in ``eventProperties``.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corpus
from webhook_translator.config import TranslatorConfig
from webhook_translator.errors import MappingError
from webhook_translator.sources.labels import SYNONYMS, WEAK, matcher, squash
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.translation import translate
from webhook_translator_tools.local.samples import Sample

EMAIL_SYNONYMS = SYNONYMS["email"]
STRONG_EMAIL = tuple(s for s in EMAIL_SYNONYMS if squash(s) not in WEAK)
#: labels that ask for something else (checked below: none of them reads as an e-mail)
OTHER_LABELS = (
    "Company", "How did you hear about us?", "Comments", "Budget", "Age", "Role", "Favourite colour", "Nombre",
    "Ville", "Notes", "Promo code", "Contact", "Anything else?", "Website", "Your message", "Motivo", "Bemerkung",
    "Opmerkingen", "Mensagem", "Messaggio", "Meddelande", "Preferred time", "Order number", "Team size",
)  # fmt: skip
assert all(matcher().target(label) != "email" for label in OTHER_LABELS)


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@st.composite
def email_labels(draw: st.DrawFn) -> str:
    """An e-mail-like label, as people write them."""
    word = draw(st.sampled_from(EMAIL_SYNONYMS))
    word = draw(st.sampled_from([word, word.upper(), word.title(), word.capitalize(), _strip_accents(word)]))
    wraps = ["{}", "Your {}", "{}:", "{} *", "{} 2", "What is your {}?", "{} (required)", "Please enter your {}"]
    if squash(word) not in WEAK:
        wraps += ["{} of contact person", "Primary {} for invoices", "{}-kom"]
    return str(draw(st.sampled_from(wraps))).format(word)


_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
_word = st.text(alphabet=_ALNUM, min_size=1, max_size=10)


@st.composite
def addresses(draw: st.DrawFn) -> str:
    """A valid address: dotted or plussed local parts, hyphenated and nested domains, an accent now and then."""
    local = draw(_word) + draw(st.sampled_from(["", ".", "+", "_", "-"])) + draw(_word)
    local += draw(st.sampled_from(["", "", "é", "ø"]))
    labels = draw(st.lists(_word, min_size=1, max_size=3))
    tld = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6))
    return f"{local}@{'.'.join(labels)}.{tld}"


others = st.lists(
    st.tuples(
        st.sampled_from(OTHER_LABELS),
        st.one_of(st.text(min_size=1, max_size=20).filter(lambda t: "@" not in t), st.integers(0, 999), addresses()),
    ),
    max_size=6,
    unique_by=lambda pair: pair[0],
)


def tally_body(answers: list[tuple[str, str, Any]]) -> dict[str, Any]:
    fields = [
        {"key": f"question_{i}", "label": lbl, "type": kind, "value": v} for i, (lbl, kind, v) in enumerate(answers)
    ]
    data = {"submissionId": "prop1", "formId": "f1", "createdAt": "2026-11-18T09:00:00Z", "fields": fields}
    return {"eventType": "FORM_RESPONSE", "data": data}


def webflow_body(answers: list[tuple[str, str, Any]]) -> dict[str, Any]:
    data = {lbl: v for lbl, _, v in answers}
    payload = {"id": "prop1", "formId": "f1", "submittedAt": "2026-11-18T09:00:00Z", "data": data}
    return {"triggerType": "form_submission", "payload": payload}


def typeform_body(answers: list[tuple[str, str, Any]]) -> dict[str, Any]:
    fields, rows = [], []
    for i, (lbl, kind, v) in enumerate(answers):
        qtype = "email" if kind == "INPUT_EMAIL" else "phone_number" if kind == "INPUT_PHONE_NUMBER" else "short_text"
        fields.append({"id": f"id{i}", "ref": f"ref{i}", "title": lbl, "type": qtype})
        atype = {"email": "email", "phone_number": "phone_number"}.get(qtype, "text")
        value = v if isinstance(v, str) else str(v)
        rows.append({"type": atype, atype: value, "field": {"id": f"id{i}", "type": qtype}})
    response = {
        "token": "prop1",
        "submitted_at": "2026-11-18T09:00:00Z",
        "definition": {"fields": fields},
        "answers": rows,
    }
    return {"event_type": "form_response", "form_response": response}


BUILDERS = {"tally": tally_body, "webflow": webflow_body, "typeform": typeform_body}


def mapped(source: str, answers: list[tuple[str, str, Any]]) -> dict[str, Any]:
    sample = Sample.from_json({"source": source, "content_type": "application/json", "body": BUILDERS[source](answers)})
    _, result = translate(corpus.envelope_for(sample), TranslatorConfig(), registry=REGISTRY, now_ms=corpus.NOW_MS)
    (event,) = result.events
    body: dict[str, Any] = event.to_ours()
    return body


def _props(body: dict[str, Any]) -> str:
    return json.dumps(body.get("eventProperties", {}), ensure_ascii=False).casefold()


SOURCES = st.sampled_from(sorted(BUILDERS))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(source=SOURCES, label=email_labels(), typed=st.booleans(), address=addresses(), rest=others, data=st.data())
def test_an_address_under_an_email_like_label_or_type_is_the_email(
    source: str, label: str, typed: bool, address: str, rest: list[tuple[str, Any]], data: st.DataObject
) -> None:
    # Given other answers (some holding other addresses) and, anywhere among them, one e-mail answer
    answers: list[tuple[str, str, Any]] = [(lbl, "INPUT_TEXT", v) for lbl, v in rest if v != address]
    typed = typed and source != "webflow"  # Webflow sends no types
    own = (data.draw(st.sampled_from(OTHER_LABELS)) if typed else label, "INPUT_EMAIL" if typed else "INPUT_TEXT")
    if any(lbl == own[0] for lbl, _, _ in answers):
        answers = [a for a in answers if a[0] != own[0]]
    answers.insert(data.draw(st.integers(0, len(answers))), (*own, address))
    # When the submission is mapped
    body = mapped(source, answers)
    # Then that address is the e-mail, and it is nowhere in the event properties
    assert body["email"] == address
    assert address.casefold() not in _props(body)


@SETTINGS
@given(source=SOURCES, rest=others)
def test_an_address_under_another_label_is_the_email_only_when_it_is_the_only_one(
    source: str, rest: list[tuple[str, Any]]
) -> None:
    # Given answers under labels that are not e-mail-like (and a phone, so that someone is there)
    answers: list[tuple[str, str, Any]] = [(lbl, "INPUT_TEXT", v) for lbl, v in rest]
    answers.append(("Phone", "INPUT_PHONE_NUMBER", "+15555550123"))
    present = {v.casefold() for _, _, v in answers if isinstance(v, str) and "@" in v}
    # When the submission is mapped
    try:
        body = mapped(source, answers)
    except MappingError:  # pragma: no cover - a phone is always there
        raise
    # Then an address becomes the e-mail only when it is the only one present, and never sits in the properties
    if len(present) == 1:
        assert body["email"].casefold() in present
    else:
        assert "email" not in body
    for value in present:
        assert value not in _props(body)
