"""The options of the form sources as a pydantic model (:mod:`.forms` describes them; :mod:`.models` why apart)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from webhook_translator.sources.common import Target
from webhook_translator.sources.forms import FormPolicy
from webhook_translator.sources.identity import NameMap
from webhook_translator.sources.labels import layer_key, matcher
from webhook_translator.sources.minimise import included
from webhook_translator.sources.models import ConsentKey

AnswerName = Annotated[str, StringConstraints(min_length=1, max_length=500)]


class FormSettings(BaseModel):
    """One layer of form configuration (the source's, or one form's)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    synonyms: dict[Target, list[str]] = Field(default_factory=dict)
    fields: dict[AnswerName, Target] = Field(default_factory=dict)
    consent: dict[AnswerName, ConsentKey] = Field(default_factory=dict)
    include: list[AnswerName] = Field(default_factory=list)


class FormOptions(FormSettings):
    """The options of a form source: its settings, and ``forms[<form id>]`` settings that win over them."""

    forms: dict[str, FormSettings] = Field(default_factory=dict)

    def policy(self, form_id: str | None = None) -> FormPolicy:
        form = self.forms.get(form_id) if form_id else None
        if form is None:
            return FormPolicy(
                synonyms=matcher(layer_key(self.synonyms)) if self.synonyms else matcher(),
                explicit=NameMap(self.fields),
                consent=NameMap(self.consent),
                include=included(self.include),
            )
        return FormPolicy(
            synonyms=matcher(*(layer_key(s) for s in (self.synonyms, form.synonyms) if s)),
            explicit=NameMap({**self.fields, **form.fields}),
            consent=NameMap({**self.consent, **form.consent}),
            include=included([*self.include, *form.include]),
        )
