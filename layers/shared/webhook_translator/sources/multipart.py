"""Form posts, read by hand: ``multipart/form-data`` (RFC 7578) and ``application/x-www-form-urlencoded``.

:func:`parse_form` gives a form's fields (the first value of each name) or raises :class:`FormError` (a ``ValueError``)
(``UnicodeDecodeError`` and ``LookupError`` for a bad or unknown charset). The multipart reader is
strict, and costs a few string searches instead of :mod:`email`'s general MIME parser (which
builds a message object per part; ~100x slower on a webhook):

* the ``boundary`` parameter is required, 1–70 of RFC 2046's characters (quoted or not);
* delimiters are ``CRLF--boundary`` (a preamble before the first one is skipped), the last one
  ``--boundary--`` (an epilogue after it is ignored); a body that ends before it is malformed;
* each part has a header block (``Name: value`` lines, no folding) and a blank line, then its
  content; ``Content-Disposition: form-data`` with a ``name`` is required of every part;
* the content is decoded with the part's ``charset`` (UTF-8 when it names none); a
  ``Content-Transfer-Encoding`` other than ``7bit``/``8bit``/``binary`` is refused (RFC 7578 §4.7).

A body whose every part is what form posts send (``Content-Disposition: form-data; name="…"`` alone, UTF-8)
is read in a few whole-body string operations (:func:`_plain_fields`, ~2x faster on Jotform's 23 parts); any
other body part by part, as above — the same fields either way.
"""

from __future__ import annotations

import re
from itertools import islice
from typing import Final
from urllib.parse import parse_qsl

__all__ = ["MULTIPART", "URLENCODED", "FormError", "header_params", "parse_form", "split_multipart"]

MULTIPART: Final = "multipart/form-data"
URLENCODED: Final = "application/x-www-form-urlencoded"

_CRLF: Final = b"\r\n"
#: RFC 2046 §5.1.1: 1–70 characters, the last not a space
_BOUNDARY: Final = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
#: ``; name=value`` with a token or a quoted-string value (RFC 9110 §5.6.6)
_PARAM: Final = re.compile(r"""\s*;\s*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;"\s]+)\s*""")
_QUOTED_PAIR: Final = re.compile(r"\\(.)")
_IDENTITY_ENCODINGS: Final = frozenset({"7bit", "8bit", "binary"})
#: what nearly every part says (read without the general parameter parser)
_PLAIN_DISPOSITION: Final = re.compile(r'form-data;\s*name="([^"\\]+)"', re.IGNORECASE)
#: a part whose one header is such a disposition (ASCII case-insensitive name, blanks around the value), then its
#: blank line: its headers read at once (group 1: the value as the general reading strips it)
_PLAIN_HEAD: Final = re.compile(rb'content-disposition:[ \t]*(form-data;[ \t]*name="[^"\\\r\n]+")[ \t]*\r\n\r\n', re.I)
#: what follows a delimiter in the parts form posts send (then the name, ``"``, a blank line, the content)
_PLAIN_PREFIX: Final = '\r\nContent-Disposition: form-data; name="'


class FormError(ValueError):
    """A body (or header) that is not the form post it says it is."""


def header_params(value: str) -> tuple[str, dict[str, str]]:
    """``(lower-cased first item, {lower-cased parameter: value})`` of a ``Content-Type``-style header.

    :class:`FormError` when the parameters do not follow the grammar; a repeated parameter keeps its first value.
    """
    cut = value.find(";")
    if cut < 0:
        return value.strip().lower(), {}
    params: dict[str, str] = {}
    pos = cut
    while pos < len(value):
        match = _PARAM.match(value, pos)
        if match is None:
            if value[pos:].strip(" \t;"):
                raise FormError("malformed header parameters")
            break
        name, raw = match.group(1).lower(), match.group(2)
        if raw.startswith('"'):
            raw = _QUOTED_PAIR.sub(r"\1", raw[1:-1]) if "\\" in raw else raw[1:-1]
        params.setdefault(name, raw)
        pos = match.end()
    return value[:cut].strip().lower(), params


def parse_form(content_type: str, body: bytes) -> dict[str, str]:
    """The fields of a form post (the first value of each name); :class:`FormError` when it is not one."""
    media, params = header_params(content_type)
    if media == URLENCODED:
        fields: dict[str, str] = {}
        for name, value in parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False):
            fields.setdefault(name, value)
        return fields
    if media != MULTIPART:
        raise FormError("not a form post")
    boundary = params.get("boundary", "")
    plain = _plain_fields(body, boundary)
    return plain if plain is not None else _read_fields(body, boundary)


def _read_fields(body: bytes, boundary: str) -> dict[str, str]:
    """A multipart body's fields, each part read in full (:func:`split_multipart`, :func:`_field`)."""
    fields: dict[str, str] = {}
    for headers, content in split_multipart(body, boundary):
        name, charset = _field(headers)
        fields.setdefault(name, content.decode(charset))
    return fields


def _plain_fields(body: bytes, boundary: str) -> dict[str, str] | None:
    """:func:`_read_fields` of a body whose every part is a plain one (what form posts send: a delimiter line,
    :data:`_PLAIN_PREFIX`, the name, a blank line, UTF-8 content), read in a few whole-body string operations
    and one partition a part. None for any other body (another header, transport padding, a charset, bytes
    that are not UTF-8, no closing delimiter…): the full reading then reads it, or says what is wrong."""
    if not _BOUNDARY.fullmatch(boundary):
        return None
    try:  # the delimiters are ASCII: a part of the text is that part's bytes decoded
        text = "\r\n" + body.decode("utf-8")  # a body that opens with "--boundary" opens with a delimiter
    except UnicodeDecodeError:
        return None
    delimiter = "\r\n--" + boundary  # it cannot overlap itself (no CR in a boundary): count() finds every one
    pieces = text.split(delimiter + _PLAIN_PREFIX)  # the preamble, then each part's name, blank line and content
    last = pieces[-1]
    close = last.find(delimiter)
    # every delimiter but the closing one (in the last piece) opens a plain part: no piece holds another part
    if close < 0 or not last.startswith("--", close + len(delimiter)) or text.count(delimiter) != len(pieces):
        return None
    pieces[-1] = last[:close]
    fields: dict[str, str] = {}
    for piece in islice(pieces, 1, None):
        name, blank, content = piece.partition('"\r\n\r\n')
        if not blank or not name or '"' in name or "\\" in name or "\r" in name or "\n" in name:
            return None  # not the name _PLAIN_HEAD reads
        fields.setdefault(name, content)
    return fields


def split_multipart(body: bytes, boundary: str) -> list[tuple[dict[str, str], bytes]]:
    """The parts of a multipart body: ``({lower-cased header name: value}, raw content)`` each."""
    if not _BOUNDARY.fullmatch(boundary):
        raise FormError("missing or invalid multipart boundary")
    dash = b"--" + boundary.encode("ascii")
    delimiter = _CRLF + dash
    if body.startswith(dash):
        pos = len(dash)
    else:  # a preamble, up to the first delimiter
        first = body.find(delimiter)
        if first < 0:
            raise FormError("no multipart boundary in the body")
        pos = first + len(delimiter)
    parts: list[tuple[dict[str, str], bytes]] = []
    while not body.startswith(b"--", pos):  # "--boundary--" closes the body
        eol = body.find(_CRLF, pos)
        if eol < 0 or body[pos:eol].strip(b" \t"):  # after a delimiter: transport padding, then CRLF
            raise FormError("malformed multipart delimiter")
        end = body.find(delimiter, eol + 2)
        if end < 0:
            raise FormError("unterminated multipart body")
        parts.append(_part(body[eol + 2 : end]))
        pos = end + len(delimiter)
    return parts


def _part(raw: bytes) -> tuple[dict[str, str], bytes]:
    plain = _PLAIN_HEAD.match(raw)
    if plain is not None:  # what nearly every part is: the general reading below gives the same
        return {"content-disposition": plain.group(1).decode("utf-8")}, raw[plain.end() :]
    return _any_part(raw)


def _any_part(raw: bytes) -> tuple[dict[str, str], bytes]:
    """A part's headers and content, read line by line (the general reading :func:`_part` shortcuts)."""
    if raw.startswith(_CRLF):  # no headers at all
        head, content = b"", raw[2:]
    else:
        cut = raw.find(_CRLF + _CRLF)
        if cut < 0:
            raise FormError("a multipart part without a blank line after its headers")
        head, content = raw[:cut], raw[cut + 4 :]
    headers: dict[str, str] = {}
    for line in head.decode("utf-8").split("\r\n") if head else ():
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise FormError("malformed multipart part header")
        headers.setdefault(name.lower(), value.strip())
    return headers, content


def _field(headers: dict[str, str]) -> tuple[str, str]:
    """(field name, charset) of a part; ``ValueError`` unless it is a form-data part with a name."""
    disposition = headers.get("content-disposition", "")
    plain = _PLAIN_DISPOSITION.fullmatch(disposition)
    if plain is not None:
        name: str | None = plain.group(1)
    else:
        kind, params = header_params(disposition)
        name = params.get("name") if kind == "form-data" else None
    if not name:
        raise FormError("a multipart part without Content-Disposition: form-data; name=…")
    encoding = headers.get("content-transfer-encoding")
    if encoding is not None and encoding.lower() not in _IDENTITY_ENCODINGS:
        raise FormError("a multipart part with a content transfer encoding")
    content_type = headers.get("content-type")
    charset = header_params(content_type)[1].get("charset") if content_type else None
    return name, charset or "utf-8"
