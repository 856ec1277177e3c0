"""The shared identity resolver, label tables, minimisation and form options — below the source mappers."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from webhook_translator.config import TranslatorConfig
from webhook_translator.sources.forms_models import FormOptions
from webhook_translator.sources.identity import Answer, consent_value, resolve_identity
from webhook_translator.sources.labels import EXACT, WORDS, is_email_address, matcher
from webhook_translator.sources.minimise import event_answers, included
from webhook_translator.sources.registry import check_config


def test_the_tables_are_built_once_per_configuration() -> None:
    # Given the default tables and a configured layer / Then each is one object per process
    layer = (("first_name", ("Rufname",)),)
    assert matcher() is matcher()
    assert matcher(layer) is matcher(layer)
    assert matcher(layer) is not matcher()
    assert matcher(layer).target("Rufname") == "first_name"
    assert matcher().target("Rufname") is None


@pytest.mark.parametrize(
    ("label", "found"),
    [
        ("Email of contact person", ("email", WORDS)),
        ("What is your first name?", ("first_name", EXACT)),
        ("Correo electrónico", ("email", EXACT)),
        ("E-Mail-Adresse", ("email", EXACT)),
        ("Voornaam", ("first_name", EXACT)),
        ("Email 2", ("email", EXACT)),
        ("Email-kom", ("email", WORDS)),
        ("Company_size", None),
        ("Their Email Address:", None),
        ("Emergency contact phone", None),
        ("How did you first hear about us?", None),
        ("Name of medication", None),
    ],
)
def test_labels_match_by_whole_label_or_by_a_word_inside(label: str, found: tuple[str, int] | None) -> None:
    assert matcher().lookup(label) == found


def test_the_rank_decides_between_candidates_then_the_form_order() -> None:
    # Given a word match, an exact label, the e-mail type and a configured field, each with its own address
    answers = [
        Answer("contact_email_of_person", "Email of contact person", "text", "word@example.com"),
        Answer("email_q", "Email", "text", "label@example.com"),
        Answer("typed", "Where to reach you", "email", "typed@example.com"),
        Answer("crm", "CRM address", "text", "explicit@example.com"),
    ]
    # When resolved with and without the configuration / Then the best rank wins, never a crash
    assert resolve_identity(answers, explicit={"crm": "email"}).person.email == "explicit@example.com"
    assert resolve_identity(answers).person.email == "typed@example.com"
    assert resolve_identity(answers[:2]).person.email == "label@example.com"
    assert resolve_identity(answers[:1]).person.email == "word@example.com"
    # and two candidates of one rank: the first in form order; the other is used (kept out of properties)
    two = [Answer("a", "Email", "email", "first@example.com"), Answer("b", "E-mail", "email", "second@example.com")]
    resolution = resolve_identity(two)
    assert resolution.person.email == "first@example.com"
    assert resolution.used == {0, 1}


def test_an_email_must_be_one_valid_address_whatever_its_rank() -> None:
    answers = [Answer("e", "Email", "email", "n/a"), Answer("f", "Contact", "text", "pat@example.org")]
    assert resolve_identity(answers, explicit={"Contact": "email"}).person.email == "pat@example.org"
    assert resolve_identity(answers[:1], explicit={"e": "email"}).person.email is None
    assert not is_email_address("pat@example")
    assert is_email_address("pat.o+tag@mail.example.co.uk")


def test_the_one_address_among_the_answers_is_the_email_only_when_it_is_alone() -> None:
    one = [Answer("x", "How can we contact you?", "text", "only@example.com"), Answer("y", "Team", "choice", "A")]
    two = [*one, Answer("z", "Notes", "long_text", "other@example.com")]
    friend = [Answer("f", "Friend's contact", "text", "friend@example.com")]
    assert resolve_identity(one).person.email == "only@example.com"
    assert resolve_identity(two).person.email is None
    assert resolve_identity(friend).person.email is None


def test_files_and_payments_never_fill_identity_by_inference() -> None:
    answers = [Answer("Email", "Email", "file", "https://files.example.com/a@b.com.pdf")]
    answers.append(Answer("Payment", "Payment email", "payment", {"email": "payer@example.com"}))
    assert resolve_identity(answers).person.email is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True), (False, False), (1, True), (0, False), ("Yes", True), ("no", False), ("I agree", True),
        ("opt-in", True), ("opt_out", False), ("Sí", True), ("Oui", True), ("Ja", True), ("Nee", False),
        ("Não", False), ("nej", False), ("accepted", True), (["Send me offers"], True), (["No"], False),
        ([], False), ("maybe later", None), (None, None), ({"a": 1}, None),
    ],
)  # fmt: skip
def test_consent_values_become_booleans_or_nothing(value: Any, expected: bool | None) -> None:
    assert consent_value(value) is expected


def test_consent_comes_only_from_configured_answers() -> None:
    answers = [
        Answer("mail", "Email", "email", "c@example.com"),
        Answer("mkt", "Marketing e-mails?", "boolean", True),
        Answer("ana", "Analytics", "text", "perhaps"),
    ]
    assert resolve_identity(answers).track_fields()["user_properties"] is None
    resolution = resolve_identity(answers, consent={"mkt": "marketing", "Analytics": "analytics"})
    # Then the recognised answer is sent as a boolean, the unrecognised one not at all, neither as a property
    assert resolution.track_fields()["user_properties"] == {"consent": {"marketing": True}}
    assert resolution.used == {0, 1, 2}


def test_minimisation_keeps_structured_answers_and_opts_others_in() -> None:
    answers = [
        Answer("plan", "Plan", "choice", "Team"),
        Answer("seats", "Seats", "number", 4),
        Answer("notes", "Notes", "long_text", "Takes insulin"),
        Answer("scan", "Upload", "file", ["https://storage.example.com/x.pdf?signature=abc"]),
        Answer("pay", "Deposit", "payment", {"amount": "20"}),
        Answer("ref", "ref", "hidden", "footer"),
        Answer("cc", "CC", "hidden", "someone@example.com"),
        Answer("topic", "Topic", "text", "Pricing"),
    ]
    kept, hidden = event_answers(answers, {1})
    assert kept == {"plan": "Team"}
    assert hidden == {"ref": "footer"}
    kept, _ = event_answers(answers, set(), included(["Topic", "scan"]))
    assert kept == {"plan": "Team", "seats": 4, "scan": answers[3].value, "topic": "Pricing"}


def test_per_form_options_win_over_the_source_ones() -> None:
    options = FormOptions.model_validate(
        {"fields": {"Contact": "email"}, "include": ["Notes"], "forms": {"f2": {"fields": {"Contact": "phone_number"}}}}
    )
    answers = [Answer("Contact", "Contact", "text", "+15555550100"), Answer("Notes", "Notes", "text", "hi")]
    one, two = options.policy("f1"), options.policy("f2")
    assert one.resolve(answers).person.email is None
    assert two.resolve(answers).person.properties == {"phone_number": "+15555550100"}
    assert two.properties(answers, two.resolve(answers)) == ({"Notes": "hi"}, {})


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"consent": {"Marketing": "not a key!"}}, "consent.Marketing"),
        ({"fields": {"Contact": "e-mail"}}, "fields.Contact"),
        ({"include": "Notes"}, "include"),
        ({"forms": {"f1": {"consent": {"x": ""}}}}, "forms.f1.consent.x"),
    ],
)
def test_bad_form_options_stop_the_forwarder_at_start_in_one_line(options: dict[str, Any], named: str) -> None:
    config = TranslatorConfig.model_validate({"sources": {"tally": {"options": options}}})
    with pytest.raises(RuntimeError) as caught:
        check_config(config)
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_stripe_receiver_path_imports_none_of_the_form_machinery() -> None:
    # When a fresh process looks Stripe up the way the receiver does (to verify a webhook)
    code = (
        "import sys, json\n"
        "import webhook_translator.receiver\n"
        "from webhook_translator.sources.registry import REGISTRY\n"
        "REGISTRY.get('stripe')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('webhook_translator.sources'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    # Then the resolver, its label tables, minimisation and the form options stay unimported
    loaded = set(json.loads(out.stdout))
    assert "webhook_translator.sources.stripe" in loaded
    assert loaded.isdisjoint({f"webhook_translator.sources.{m}" for m in ("identity", "labels", "minimise", "forms")})
