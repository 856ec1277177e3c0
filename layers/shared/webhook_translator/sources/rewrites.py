"""What a proxy or an API gateway commonly does to a body after the provider signed it — undone.

When no secret signs the body as received, the verifier tries each :func:`undo_rewrites`
candidate: a signature that matches one of them means the secret is right and the body was
rewritten on the way (``body_modified``), which is a different fix from a wrong secret.
Only the refusal path runs this; a genuine webhook never pays for it.

Each candidate is the body the provider may have signed, named by what happened to it:

* JSON re-serialised, key order kept: compact ↔ indented (2 or 4 spaces, or Python's
  ``", "``/``": "`` separators), non-ASCII kept or ``\\u`` escaped;
* line endings converted: CRLF → LF, LF → CRLF;
* a trailing newline added or removed;
* one more base64 layer around the body.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any, Final

#: (what happened on the way, json.dumps keyword arguments that rebuild the original)
_JSON_LAYOUTS: Final[tuple[tuple[str, dict[str, Any]], ...]] = (
    ("JSON re-serialised; the provider sent it compact", {"separators": (",", ":"), "ensure_ascii": False}),
    ("JSON re-serialised; the provider sent it compact, ASCII-escaped", {"separators": (",", ":")}),
    ("JSON re-serialised; the provider sent it with spaces after separators", {"ensure_ascii": False}),
    ("JSON re-serialised; the provider sent it indented by 2", {"indent": 2, "ensure_ascii": False}),
    ("JSON re-serialised; the provider sent it indented by 4", {"indent": 4, "ensure_ascii": False}),
    ("JSON re-serialised; the provider sent it indented by 2, ASCII-escaped", {"indent": 2}),
)


def _json_variants(body: bytes) -> Iterator[tuple[str, bytes]]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return
    if not isinstance(data, (dict, list)):
        return
    for label, layout in _JSON_LAYOUTS:
        try:
            text = json.dumps(data, **layout)
        except (ValueError, RecursionError):  # pragma: no cover - what json.loads made, json.dumps can write
            return
        yield label, text.encode("utf-8")


def _line_variants(body: bytes) -> Iterator[tuple[str, bytes]]:
    if b"\r\n" in body:
        yield "line endings converted; the provider sent LF, the body arrived with CRLF", body.replace(b"\r\n", b"\n")
    elif b"\n" in body:
        yield "line endings converted; the provider sent CRLF, the body arrived with LF", body.replace(b"\n", b"\r\n")
    if body.endswith(b"\n"):
        yield "a trailing newline added on the way", body.rstrip(b"\r\n")
    else:
        yield "a trailing newline removed on the way", body + b"\n"


def _base64_variant(body: bytes) -> Iterator[tuple[str, bytes]]:
    compact = b"".join(body.split())
    if len(compact) < 4:
        return
    try:
        decoded = base64.b64decode(compact, validate=True)
    except (ValueError, binascii.Error):
        return
    if decoded:
        yield "base64-encoded once more on the way", decoded


def undo_rewrites(body: bytes) -> Iterator[tuple[str, bytes]]:
    """``(what happened, the body before it happened)`` for each common rewrite that could explain ``body``."""
    seen = {body}
    for label, candidate in (*_json_variants(body), *_line_variants(body), *_base64_variant(body)):
        if candidate not in seen:
            seen.add(candidate)
            yield label, candidate
