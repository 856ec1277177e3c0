"""The pydantic models of :mod:`.tally` (its mapper imports them; :mod:`.models` says why apart)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from webhook_translator.sources.models import LaxModel
from webhook_translator.sources.tally import SINGLE_CHOICE


class Option(LaxModel):
    id: str
    text: str | None = None


class TallyField(LaxModel):
    key: str = ""
    label: str | None = None
    type: str = ""
    value: Any = None
    options: list[Option] = Field(default_factory=list)
    rows: list[Option] = Field(default_factory=list)
    columns: list[Option] = Field(default_factory=list)

    def resolved(self) -> Any:
        """The value, with option, row and column ids replaced by their texts."""
        if self.type == "MATRIX" and isinstance(self.value, dict):
            return self._matrix(self.value)
        texts = {o.id: o.text or o.id for o in self.options}
        if texts and isinstance(self.value, list):
            picked = [texts.get(v, v) if isinstance(v, str) else v for v in self.value]
            return picked[0] if self.type in SINGLE_CHOICE and len(picked) == 1 else picked
        if texts and isinstance(self.value, str):
            return texts.get(self.value, self.value)
        return self.value

    def _matrix(self, value: dict[str, Any]) -> dict[str, Any]:
        """``{row id: [column id, …]}`` → ``{row text: column text}`` (a list when several columns are picked)."""
        rows = {r.id: r.text or r.id for r in self.rows}
        columns = {c.id: c.text or c.id for c in self.columns}
        out: dict[str, Any] = {}
        for row, picked in value.items():
            items = picked if isinstance(picked, list) else [picked]
            texts = [columns.get(p, p) if isinstance(p, str) else p for p in items]
            out[rows.get(row, row)] = texts[0] if len(texts) == 1 else texts
        return out


class TallyData(LaxModel):
    submissionId: str = Field(min_length=1)
    responseId: str | None = None
    respondentId: str | None = None
    formId: str | None = None
    formName: str | None = None
    createdAt: str = Field(min_length=1)
    fields: list[TallyField] = Field(default_factory=list)


class TallyEvent(LaxModel):
    eventId: str | None = None
    eventType: str = Field(min_length=1)
    data: dict[str, Any] = Field(default_factory=dict)
