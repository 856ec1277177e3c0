"""Sample webhooks (``events/<source>/<name>.json``): loading, re-timing, and the bytes to send.

A sample holds what a provider sends, without a signature (``serve --replay``,
``send`` and the tests sign it with the secret in use)::

    {"source": "stripe", "description": "...", "content_type": "application/json",
     "headers": {"User-Agent": "Stripe/1.0"},
     "time_fields": [["created", "s"]],
     "body": {...}}                      # or "body_text": "<raw text>"

``time_fields`` lists the fields the mapper reads the event time from, each as a
path (object keys and list indexes) followed by a unit: ``s`` (epoch seconds),
``ms`` (epoch milliseconds) or ``iso`` (an ISO 8601 string). Ours refuses events
older than seven days, so a sample is re-timed to "a few seconds ago" before it
is signed and sent; a sample without ``time_fields`` is sent as it is.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

__all__ = ["SAMPLE_KEYS", "Sample", "SampleError", "TimeField", "is_sample", "iter_samples"]

Unit: TypeAlias = Literal["s", "ms", "iso"]
UNITS: Final = ("s", "ms", "iso")
#: how far before "now" a re-timed sample happened
DEFAULT_LAG_SECONDS: Final = 5.0
SAMPLE_KEYS: Final = frozenset({"source", "description", "content_type", "headers", "body", "body_text", "time_fields"})


class SampleError(ValueError):
    """A sample file is unreadable or not in the sample shape (the message names the file and the rule)."""


@dataclass(frozen=True)
class TimeField:
    path: tuple[str | int, ...]
    unit: Unit

    @classmethod
    def parse(cls, value: Any, where: str) -> TimeField:
        if not isinstance(value, list) or len(value) < 2:
            raise SampleError(f"{where}: each time_fields entry is [key, ..., unit]")
        *path, unit = value
        if unit not in UNITS:
            raise SampleError(f"{where}: time_fields unit must be one of s, ms, iso (not {str(unit)[:20]!r})")
        for part in path:
            if isinstance(part, bool) or not isinstance(part, str | int):
                raise SampleError(f"{where}: time_fields path parts are object keys (strings) or list indexes")
        return cls(tuple(path), unit)

    def label(self) -> str:
        return ".".join(str(p) for p in self.path) + f" ({self.unit})"


def is_sample(data: Any) -> bool:
    """Whether a parsed JSON document is a sample file rather than a raw webhook body."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("source"), str)
        and ("body" in data or "body_text" in data)
        and set(data) <= SAMPLE_KEYS
    )


@dataclass(frozen=True)
class Sample:
    source: str
    content_type: str
    headers: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    #: the JSON body (``body``) or, when ``is_text``, the raw text (``body_text``)
    body: Any = None
    body_text: str | None = None
    time_fields: tuple[TimeField, ...] = ()
    path: Path | None = None

    # --- loading ---------------------------------------------------------------------------

    @classmethod
    def load(cls, path: Path) -> Sample:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SampleError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
        except UnicodeDecodeError:
            raise SampleError(f"{path} is not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SampleError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
        return cls.from_json(data, path)

    @classmethod
    def from_json(cls, data: Any, path: Path | None = None) -> Sample:
        where = str(path) if path else "sample"
        if not is_sample(data):
            raise SampleError(
                f"{where} is not a sample: expected an object with source, content_type, headers and body or body_text"
            )
        headers = data.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise SampleError(f"{where}: headers must be an object of strings")
        content_type = data.get("content_type") or "application/json"
        if not isinstance(content_type, str):
            raise SampleError(f"{where}: content_type must be a string")
        body_text = data.get("body_text")
        if "body_text" in data and not isinstance(body_text, str):
            raise SampleError(f"{where}: body_text must be a string")
        raw_fields = data.get("time_fields") or []
        if not isinstance(raw_fields, list):
            raise SampleError(f"{where}: time_fields must be a list")
        return cls(
            source=data["source"],
            description=str(data.get("description") or ""),
            content_type=content_type,
            headers=dict(headers),
            body=data.get("body"),
            body_text=body_text,
            time_fields=tuple(TimeField.parse(item, where) for item in raw_fields),
            path=path,
        )

    # --- the bytes ---------------------------------------------------------------------------

    @property
    def is_text(self) -> bool:
        return self.body_text is not None

    def raw_body(self) -> bytes:
        """The body exactly as it is sent (and signed): ``body_text`` verbatim, or ``body`` as compact JSON."""
        if self.body_text is not None:
            return self.body_text.encode("utf-8")
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")

    def request_headers(self, signature_headers: Mapping[str, str]) -> dict[str, str]:
        """The headers to send: the sample's, then the signature's, with the sample's content type winning
        (a multipart sample carries its boundary there)."""
        headers = {k: v for k, v in self.headers.items() if k.lower() != "content-type"}
        for name, value in signature_headers.items():
            for existing in [k for k in headers if k.lower() == name.lower()]:
                del headers[existing]
            headers[name] = value
        for existing in [k for k in headers if k.lower() == "content-type"]:
            del headers[existing]
        headers["Content-Type"] = self.content_type
        return headers

    # --- re-timing ---------------------------------------------------------------------------

    def retimed(self, now: float, lag: float = DEFAULT_LAG_SECONDS) -> Sample:
        """This sample with every ``time_fields`` entry set to ``now - lag`` (in its unit)."""
        if not self.time_fields:
            return self
        when = now - lag
        where = str(self.path) if self.path else "sample"
        if self.body_text is not None:
            try:
                document = json.loads(self.body_text)
            except ValueError:
                raise SampleError(f"{where}: time_fields need a JSON body; body_text is not JSON") from None
            for time_field in self.time_fields:
                _set(document, time_field, when, where)
            return replace(self, body_text=_same_layout(self.body_text, document))
        body = copy.deepcopy(self.body)
        for time_field in self.time_fields:
            _set(body, time_field, when, where)
        return replace(self, body=body)


def _same_layout(text: str, document: Any) -> str:
    """``document`` as JSON text laid out as ``text`` is: indented by as many spaces as its first indented
    line (Stripe sends its events with two), else compact; non-ASCII characters as they were."""
    ascii_only = text.isascii()
    for line in text.splitlines()[1:]:
        if indent := len(line) - len(line.lstrip(" ")):
            return json.dumps(document, indent=indent, ensure_ascii=ascii_only)
    return json.dumps(document, separators=(",", ":"), ensure_ascii=ascii_only)


def _set(document: Any, time_field: TimeField, when: float, where: str) -> None:
    *parents, last = time_field.path
    node = document
    for part in parents:
        node = _child(node, part, time_field, where)
    old = _child(node, last, time_field, where)
    node[last] = _format(when, time_field.unit, old)


def _child(node: Any, part: str | int, time_field: TimeField, where: str) -> Any:
    try:
        if isinstance(part, int) and isinstance(node, list):
            return node[part]
        if isinstance(part, str) and isinstance(node, dict):
            return node[part]
    except (IndexError, KeyError):
        pass
    raise SampleError(f"{where}: time field {time_field.label()} is not in the body")


def _format(when: float, unit: Unit, old: Any) -> Any:
    if unit == "s":
        return int(when)
    if unit == "ms":
        return int(when * 1000)
    moment = datetime.fromtimestamp(when, UTC)
    text = old if isinstance(old, str) else ""
    has_fraction = "." in text.rsplit(":", 1)[-1] if text else True
    iso = moment.isoformat(timespec="milliseconds" if has_fraction else "seconds")
    return iso.replace("+00:00", "Z") if not text or text.endswith("Z") else iso


def iter_samples(directory: Path) -> list[Path]:
    """The sample files of a directory laid out like ``events/``: ``DIR/<source>/<name>.json``, sorted."""
    return sorted(p for p in directory.glob("*/*.json") if p.is_file())
