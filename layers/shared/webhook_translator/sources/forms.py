"""The options of the form and scheduling sources, and what one form's configuration resolves to.

Every form source (typeform, tally, webflow, jotform, calendly) takes the same ``options``
in ``TRANSLATOR_CONFIG``, for all its forms and per form (``forms.<form id>``, which wins)::

    {"synonyms": {"first_name": ["Vorname"]},              # more labels for a target
     "fields":   {"<answer key, ref or label>": "email"},   # this answer IS this target (wins over inference)
     "consent":  {"<answer key, ref or label>": "marketing"},  # → userProperties.consent.marketing (boolean)
     "include":  ["<answer key, ref or label>"],            # opt free text / files / payment into eventProperties
     "forms":    {"<form id>": {"fields": {…}, "consent": {…}, "include": […], "synonyms": {…}}}}

Names are matched exactly, else as normalised labels ("Email of contact person" =
"email-of-contact-person"). Nothing is inferred for consent: only configured answers set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from webhook_translator.sources.identity import resolve_identity
from webhook_translator.sources.minimise import event_answers

if TYPE_CHECKING:
    from webhook_translator.sources.common import Person
    from webhook_translator.sources.context import MapContext
    from webhook_translator.sources.identity import Answer, NameMap, Resolution
    from webhook_translator.sources.labels import LabelMatcher


def form_policy(ctx: MapContext, form_id: str | None) -> FormPolicy:
    """The policy of one form of ``ctx``'s source: its options validated (the defaults built once, when none)."""
    if not ctx.config.options:
        return _default_policy()
    from webhook_translator.sources.forms_models import FormOptions

    return ctx.options(FormOptions).policy(form_id)


@lru_cache(maxsize=1)
def _default_policy() -> FormPolicy:
    from webhook_translator.sources.forms_models import FormOptions

    return FormOptions().policy()


@dataclass(frozen=True, slots=True)
class FormPolicy:
    """One form's configuration, ready to resolve its answers."""

    synonyms: LabelMatcher
    explicit: NameMap
    consent: NameMap
    include: NameMap

    def resolve(self, answers: list[Answer], person: Person | None = None) -> Resolution:
        return resolve_identity(
            answers, explicit=self.explicit, consent=self.consent, synonyms=self.synonyms, person=person
        )

    def properties(self, answers: list[Answer], resolution: Resolution) -> tuple[dict[str, object], dict[str, object]]:
        """(answers, hidden fields) that may go to eventProperties (:mod:`.minimise`)."""
        return event_answers(answers, resolution.used, self.include)
