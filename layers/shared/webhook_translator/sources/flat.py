"""Flat form posts — a key → value body, JSON or form-encoded (formstack, gravityforms, wpforms).

These senders post a submission as one flat object whose keys are labels, field ids or
names the form owner chose, and send no field types. :func:`read_fields` reads the body
(a JSON object, or :func:`~.multipart.parse_form`'s fields); :func:`flat_answers` turns the
fields into :class:`~.identity.Answer` rows for the shared resolver — composite name and
address values (a JSON object, or Formstack's ``first = Ann`` lines) offered to the person by
their parts (the street is never taken) — and :func:`flat_kind` says what a value is: text is
free text (kept out of ``eventProperties`` unless ``include`` names it), lists are choices.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

from webhook_translator.sources.common import Person
from webhook_translator.sources.identity import Answer, Kind
from webhook_translator.sources.multipart import URLENCODED, parse_form

JSON = "application/json"
#: a name's parts → the user property each fills
_NAME_PARTS = (("first", "first_name"), ("last", "last_name"))
#: an address's parts → the user property each fills (no street)
_ADDRESS_PARTS = (("city", "city"), ("state", "state"), ("zip", "zip"), ("postal", "zip"), ("country", "country"))
_EMPTY: tuple[Any, ...] = (None, "", [], {})


def read_fields(content_type: str, body: bytes) -> dict[str, Any]:
    """The fields of a JSON object or form-encoded body; ``ValueError`` (``UnicodeDecodeError``,
    ``LookupError``) when the body is neither."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media == JSON or media.endswith("+json"):
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return data
    return dict(parse_form(content_type, body))


def fields_or_none(content_type: str, body: bytes) -> dict[str, Any] | None:
    """:func:`read_fields`, or None when the body is neither a JSON object nor a form post."""
    try:
        return read_fields(content_type, body)
    except (ValueError, UnicodeDecodeError, LookupError, RecursionError):
        return None


def media_type(body: bytes) -> str:
    """The content type a sample body was sent with: JSON when it is an object, else form-encoded."""
    return JSON if body.lstrip().startswith(b"{") else URLENCODED


def subfields(value: Any) -> dict[str, Any] | None:
    """A composite value's parts: a JSON object, or lines of ``part = value`` (Formstack's form posts)."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str) or " = " not in value:
        return None
    parts: dict[str, Any] = {}
    for line in value.splitlines():
        if not line.strip():
            continue
        name, sep, part = line.partition(" = ")
        if not sep or not name.strip().isidentifier():
            return None
        parts[name.strip().lower()] = part.strip()
    return parts or None


def offer_parts(person: Person, parts: Mapping[str, Any]) -> bool:
    """Offer a name's or an address's parts to ``person``; False when ``parts`` is neither."""
    if "first" in parts or "last" in parts:
        for part, target in _NAME_PARTS:
            person.offer(target, parts.get(part))
        return True
    if any(k in parts for k in ("city", "zip", "postal", "address")):
        for part, target in _ADDRESS_PARTS:
            person.offer(target, parts.get(part))
        return True
    return False


def flat_kind(value: Any) -> Kind:
    """These senders give no types: booleans and numbers are structured, lists are choices, text is free text."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "choice"
    if isinstance(value, dict):
        return "other"
    return "text"


def flat_answers(fields: Mapping[str, Any], skip: Collection[str], person: Person) -> list[Answer]:
    """The non-empty fields outside ``skip`` as answers keyed (and labelled) by their key; a composite name
    or address goes to ``person`` by its parts instead."""
    rows: list[Answer] = []
    for key, value in fields.items():
        if key in skip or value in _EMPTY:
            continue
        parts = subfields(value)
        if parts is not None and offer_parts(person, parts):
            continue
        rows.append(Answer(key=key, label=key, kind=flat_kind(value), value=value))
    return rows
