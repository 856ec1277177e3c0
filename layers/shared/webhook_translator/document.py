"""The translator configuration document's shape: per-source renames, drops, options and specs.

:mod:`webhook_translator.config` re-exports these (``Settings.translator_config`` holds one);
:mod:`webhook_translator.translator_config` reads the document and checks it against the sources.
Parsed by hand (:mod:`webhook_translator.fields`), as the rest of the receiver's configuration.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from webhook_translator import fields as check


@dataclass(frozen=True)
class SourceConfig:
    """Per-source behaviour that can change without code."""

    rename: dict[str, str] = field(default_factory=dict)
    drop: frozenset[str] = frozenset()
    options: dict[str, Any] = field(default_factory=dict)
    #: a declarative source (its name is the entry's), or the payload mapping of ``standard-webhooks``
    spec: dict[str, Any] | None = None

    @classmethod
    def model_validate(cls, data: Any, loc: check.Loc = ()) -> SourceConfig:
        """An entry of the document; :class:`~webhook_translator.fields.Invalid` names every fault."""
        if isinstance(data, SourceConfig):
            return data
        return cls(**check.object_fields(data, loc, "SourceConfig", _SOURCE_KEYS))

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> SourceConfig:
        copy: SourceConfig = cls_replace(self, update)
        return copy

    def dump(self, *, exclude_defaults: bool = False) -> dict[str, Any]:
        """The entry as JSON data (``drop`` sorted); ``exclude_defaults`` leaves out what is not set."""
        data = {"rename": self.rename, "drop": sorted(self.drop), "options": self.options, "spec": self.spec}
        return {k: v for k, v in data.items() if v or (v is not None and not exclude_defaults)}


_SOURCE_KEYS: Mapping[str, check.Parser] = {
    "rename": check.text_map,
    "drop": check.text_set,
    "options": lambda value, loc: dict(check.mapping(value, loc)),
    "spec": lambda value, loc: None if value is None else dict(check.mapping(value, loc)),
}


def _entries(value: Any, loc: check.Loc) -> dict[str, SourceConfig]:
    entries = check.mapping(value, loc)
    return dict(zip(entries, check.each(entries.items(), loc, SourceConfig.model_validate), strict=True))


def cls_replace(instance: Any, update: Mapping[str, Any] | None) -> Any:
    """A copy of a frozen dataclass with some attributes changed, unchecked (as pydantic's ``model_copy``)."""
    copy = object.__new__(type(instance))
    copy.__dict__.update(instance.__dict__)
    copy.__dict__.update(update or {})
    return copy


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(f"the key {key[:64]!r} appears twice in one object")
        seen[key] = value
    return seen


def loads_unique(text: str) -> Any:
    """JSON whose objects have unique keys (``json.loads`` keeps the last of two silently); ValueError."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey:
        raise
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None


#: the entry of a source the document does not name (shared: a configuration is never changed)
EMPTY_ENTRY: Final = SourceConfig()


@dataclass(frozen=True)
class TranslatorConfig:
    sources: dict[str, SourceConfig] = field(default_factory=dict)

    def source(self, name: str) -> SourceConfig:
        return self.sources.get(name) or EMPTY_ENTRY

    @classmethod
    def model_validate(cls, data: Any, loc: check.Loc = ()) -> TranslatorConfig:
        """The document's shape; :class:`~webhook_translator.fields.Invalid` names every fault."""
        if isinstance(data, TranslatorConfig):
            return data
        return cls(**check.object_fields(data, loc, "TranslatorConfig", {"sources": _entries}))

    def model_dump_json(self, *, exclude_defaults: bool = False) -> str:
        """The document as JSON text (the CLI writes it for the local stack)."""
        if exclude_defaults and not self.sources:
            return "{}"
        entries = {name: entry.dump(exclude_defaults=exclude_defaults) for name, entry in self.sources.items()}
        return json.dumps({"sources": entries}, separators=(",", ":"))
