"""Data minimisation: which answers of a submission may go to ``eventProperties``.

By default only **structured** answers are kept — choices (as their texts), numbers,
scores, dates, booleans — and the form owner's own hidden fields. Left out:

* every answer that became identity, ``userProperties`` or consent (never said twice);
* typed-in text — short and long text, website links, "other" choices' text — and answers
  whose kind the provider does not say (Webflow's labels, Jotform's plain fields, Calendly's
  questions): free text can carry health data;
* file uploads and signatures (their links are signed storage URLs) and payment details;
* any value that is an e-mail address.

The per-form option ``include`` (answer keys, refs or labels) opts answers back in; an
answer used for identity stays out even then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from webhook_translator.sources.common import unique_key
from webhook_translator.sources.identity import Answer, NameMap
from webhook_translator.sources.labels import is_email_address

#: the kinds kept in eventProperties without being opted in
STRUCTURED = frozenset({"choice", "number", "date", "boolean", "hidden"})
_EMPTY: tuple[Any, ...] = ("", [], {})


def _holds_address(value: Any) -> bool:
    if isinstance(value, str):
        return "@" in value and is_email_address(value.strip())
    if isinstance(value, list):
        return any(_holds_address(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_address(v) for v in value.values())
    return False


def included(names: Iterable[str]) -> NameMap:
    """The ``include`` option as a name map (answer key, ref or label)."""
    return NameMap(dict.fromkeys(names, "include"))


def event_answers(
    answers: Sequence[Answer], used: set[int], include: NameMap | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(answers, hidden fields) for ``eventProperties``, by answer key, minimised as above."""
    kept: dict[str, Any] = {}
    hidden: dict[str, Any] = {}
    opt_in = include if include else None
    for index, answer in enumerate(answers):
        value = answer.value
        if index in used or value is None or value in _EMPTY:
            continue
        opted = opt_in is not None and opt_in.get(answer) is not None
        if not opted and (answer.kind not in STRUCTURED or _holds_address(value)):
            continue
        bucket = hidden if answer.kind == "hidden" else kept
        bucket[unique_key(bucket, answer.key)] = value
    return kept, hidden
