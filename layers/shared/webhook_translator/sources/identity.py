"""The one identity resolver of the form and scheduling sources: who submitted, from their answers.

A source turns its payload into :class:`Answer` rows (key, label, kind, value — in form
order) and calls :func:`resolve_identity`. Each answer is offered to one target
(``email``, ``phone_number``, ``first_name``… — :data:`~webhook_translator.sources.common.TARGETS`),
ranked by how sure the match is:

====  =================================================================================
rank  the answer is for ``target`` because
====  =================================================================================
0     the per-form configuration says so (``fields``: answer key, ref or label → target)
1     the provider's type says so (an e-mail / phone question: ``kind`` ``email`` / ``phone``),
      unless its label is about someone else ("Your manager's email")
2     its whole label is a synonym (:mod:`.labels`: case, accents, punctuation, trailing
      numbers and filler words ignored — "What is your first name?", "E-Mail-Adresse 2")
3     e-mail, phone and names only, from typed-in text only: a synonym inside its label
      ("Email of contact person") or before a short dashed suffix ("Email-kom"); never
      in a label about someone else ("Their email")
4     e-mail only: it is the one syntactically valid address among the answers
====  =================================================================================

The best-ranked usable answer fills a target; ties go to the first answer in form order.
So two different e-mail candidates never clash: the better-ranked (then the earlier) one
is ``email``, the other is dropped (an address never goes to ``eventProperties``). An
e-mail must be one syntactically valid address, whatever its rank.

Consent (``consent``: answer key, ref or label → a ``userProperties.consent`` key) is
read only from the answers configured for it and normalised to a boolean
(:func:`consent_value`); a value that says neither yes nor no is not sent.

Tables and regexes are compiled once per process; label lookups are cached.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal, NamedTuple

from webhook_translator.sources.common import Person, scalar_text
from webhook_translator.sources.labels import (
    OTHERS,
    WORDS,
    LabelMatcher,
    is_email_address,
    label_tokens,
    matcher,
    squash,
)

#: what an answer's value is, whatever the provider calls it
Kind = Literal[
    "email", "phone", "text", "long_text", "choice", "number", "date", "boolean", "file", "payment", "hidden", "other"
]
#: kinds whose label may name the respondent from a word inside it (rank 3) — typed-in text
TEXT_KINDS = frozenset({"text", "long_text", "email", "phone", "hidden", "other"})
#: kinds that never fill an identity target by inference (only by explicit configuration)
NEVER_INFERRED = frozenset({"file", "payment"})

#: ranks 0 and 1 (2 and 3 are :data:`~.labels.EXACT` and :data:`~.labels.WORDS`; 4 is the lone address)
EXPLICIT, TYPED = 0, 1
_TYPED_TARGET = {"email": "email", "phone": "phone_number"}


class Answer(NamedTuple):
    """One answer of a submission (a named tuple: a form makes dozens per webhook).

    ``key`` is what ``eventProperties`` would call it (Typeform: the field ref, else its id;
    Tally, Webflow, Calendly: the label; Jotform: the field name); ``ref`` another name the
    configuration may use for it (Typeform's field id, Tally's question key); ``label`` the
    question as shown; ``kind`` what its value is; ``value`` the value (choices as texts).
    """

    key: str
    label: str | None = None
    kind: Kind = "other"
    value: Any = None
    ref: str | None = None

    def names(self) -> tuple[str, ...]:
        """Every name the configuration may give this answer (key, ref, label)."""
        return tuple(n for n in (self.key, self.ref, self.label) if n)


@dataclass
class Resolution:
    """What the answers say about the respondent, and which answers said it."""

    person: Person
    #: indices of the answers that became identity, ``userProperties`` or consent (kept out of eventProperties)
    used: set[int] = field(default_factory=set)
    consent: dict[str, bool] = field(default_factory=dict)

    def track_fields(self) -> dict[str, Any]:
        """Keyword arguments for ``ctx.track``: identities and ``user_properties`` (consent included)."""
        fields = self.person.track_fields()
        if self.consent:
            fields["user_properties"] = {**(fields["user_properties"] or {}), "consent": dict(self.consent)}
        return fields


class NameMap:
    """A configuration map (answer key, ref or label → value), matched exactly or by normalised label."""

    __slots__ = ("_exact", "_squashed")

    def __init__(self, mapping: Mapping[str, str]) -> None:
        self._exact = dict(mapping)
        self._squashed = {squash(k): v for k, v in mapping.items() if squash(k)}

    def __bool__(self) -> bool:
        return bool(self._exact)

    def get(self, answer: Answer) -> str | None:
        if not self._exact:
            return None
        for name in answer.names():
            if name in self._exact:
                return self._exact[name]
        for name in answer.names():
            if (found := self._squashed.get(squash(name))) is not None:
                return found
        return None


@lru_cache(maxsize=8192)
def _inferred(synonyms: LabelMatcher, label: str | None, key: str, kind: str) -> tuple[str, int] | None:
    """(target, rank) from the provider's type or the label / key (cached: a form's answers repeat)."""
    if kind in _TYPED_TARGET:  # an e-mail / phone question about someone else names nobody
        return None if _about_someone_else(label, key) else (_TYPED_TARGET[kind], TYPED)
    if kind in NEVER_INFERRED:
        return None
    for name in (label, key):
        found = synonyms.lookup(name) if name else None
        if found is not None and (found[1] < WORDS or kind in TEXT_KINDS):
            return found
    return None


def resolve_identity(
    answers: Sequence[Answer],
    *,
    explicit: NameMap | Mapping[str, str] | None = None,
    consent: NameMap | Mapping[str, str] | None = None,
    synonyms: LabelMatcher | None = None,
    person: Person | None = None,
) -> Resolution:
    """Who submitted ``answers``: identity, ``userProperties`` and consent, by the ranks above.

    ``explicit`` (answer name → target) and ``consent`` (answer name → consent key) are the
    per-form configuration; ``synonyms`` the label matcher (default tables when None);
    ``person`` one a source already started (e.g. Calendly's invitee fields, which rank first).
    """
    explicit_map = explicit if isinstance(explicit, NameMap) else NameMap(explicit or {})
    consent_map = consent if isinstance(consent, NameMap) else NameMap(consent or {})
    fields = explicit_map if explicit_map else None
    table = synonyms or matcher()
    resolution = Resolution(person=person or Person())
    candidates: list[tuple[int, int, str]] = []
    consents = bool(consent_map)
    if consents or fields is not None:
        for index, answer in enumerate(answers):
            if consents and (key := consent_map.get(answer)) is not None:
                _take_consent(resolution, index, key, answer.value)
                continue
            target = fields.get(answer) if fields is not None else None
            found = (target, EXPLICIT) if target is not None else _inferred(table, answer[1], answer[0], answer[2])
            if found is not None:
                candidates.append((found[1], index, found[0]))
    else:  # no per-form configuration (the most forms): inference only
        for index, (key, label, kind, _, _) in enumerate(answers):
            if (found := _inferred(table, label, key, kind)) is not None:
                candidates.append((found[1], index, found[0]))
    candidates.sort()
    offer, used = resolution.person.offer, resolution.used
    for _, index, target in candidates:
        if offer(target, answers[index][3]):
            used.add(index)
    if resolution.person.email is None:
        _only_address(answers, resolution)
    return resolution


def _take_consent(resolution: Resolution, index: int, key: str, value: Any) -> None:
    resolution.used.add(index)
    granted = consent_value(value)
    if granted is not None:
        resolution.consent.setdefault(key, granted)


def _only_address(answers: Sequence[Answer], resolution: Resolution) -> None:
    """Rank 4: when the answers hold exactly one distinct valid address (outside labels about someone else,
    files and payments), it becomes the e-mail."""
    found: dict[str, list[int]] = {}
    for index, answer in enumerate(answers):
        if answer.kind in NEVER_INFERRED or not isinstance(answer.value, str):
            continue
        text = answer.value.strip()
        if is_email_address(text) and not _about_someone_else(answer.label, answer.key):
            found.setdefault(text.casefold(), []).append(index)
    if len(found) == 1:
        (indices,) = found.values()
        if resolution.person.offer("email", answers[indices[0]].value):
            resolution.used.update(indices)


def _about_someone_else(label: str | None, key: str) -> bool:
    return any(t in OTHERS for name in (label, key) if name for t in label_tokens(name))


# --- consent values --------------------------------------------------------------------------------

# fmt: off
_YES = frozenset({
    "true", "yes", "y", "1", "on", "checked", "accepted", "accept", "agree", "agreed", "iagree", "optin", "optedin",
    "granted", "allow", "allowed", "consent", "si", "oui", "ja", "sim",
})
_NO = frozenset({
    "false", "no", "n", "0", "off", "unchecked", "declined", "decline", "disagree", "optout", "optedout", "denied",
    "deny", "refuse", "refused", "non", "nein", "nee", "nao", "nej",
})
# fmt: on


def consent_value(value: Any) -> bool | None:
    """An answer as consent: True / False, or None when it says neither (then nothing is sent).

    Booleans as they are; 1 / 0; yes / no words in the eight languages ("Yes", "I agree",
    "opt-in", "Sí", "Oui", "Ja", "Nee"…); a list: its one item's yes / no, else true when
    something is chosen and false when nothing is.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        if len(value) == 1:
            single = consent_value(value[0])
            if single is not None:
                return single
        return bool(value)
    text = scalar_text(value)
    if text is None:
        return None
    word = squash(text)
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None
