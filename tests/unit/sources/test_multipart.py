"""The hand-written form reader: strict RFC 7578 multipart/form-data, and urlencoded bodies.

The oracle for well-formed bodies is the standard library's MIME parser (what the Jotform
source used before): both must read the same fields from the same bytes.
"""

from __future__ import annotations

import email.policy
import json
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhook_translator.sources.multipart import FormError, header_params, parse_form, split_multipart

ROOT = Path(__file__).resolve().parents[3]
B = "----formdata-test-7d1e"
CT = f"multipart/form-data; boundary={B}"


def body(*parts: str, boundary: str = B, preamble: str = "", epilogue: str = "\r\n") -> bytes:
    inner = "".join(f"--{boundary}\r\n{p}\r\n" for p in parts)
    return f"{preamble}{inner}--{boundary}--{epilogue}".encode()


def field(name: str, value: str, *headers: str) -> str:
    return "\r\n".join([f'Content-Disposition: form-data; name="{name}"', *headers, "", value])


def stdlib_fields(content_type: str, raw: bytes) -> dict[str, str]:
    """What email.parser reads from a multipart body (the first value of each name)."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        fields.setdefault(str(part.get_param("name", header="content-disposition")), payload.decode())
    return fields


def test_the_jotform_sample_reads_as_the_stdlib_parser_reads_it() -> None:
    sample = json.loads((ROOT / "events" / "jotform" / "submission.json").read_text())
    raw = sample["body_text"].encode()
    fields = parse_form(sample["content_type"], raw)
    assert fields == stdlib_fields(sample["content_type"], raw)
    assert fields["submissionID"] == "6012345678901234567"
    assert json.loads(fields["rawRequest"])["q4_email"] == "casey.nguyen@example.com"


@pytest.mark.parametrize(
    "raw",
    [
        body(field("a", "1"), field("b", "")),
        body(field("a", "line one\r\nline two\r\n--not the boundary")),  # CRLF and dashes inside a value
        body(field("a", "x"), preamble="This is the preamble.\r\n", epilogue="\r\nand an epilogue"),
        body(field("a", "first"), field("a", "second")),  # a repeated name: the first value
        body(field("naïve", "café ☕"), field("b", "é", "Content-Type: text/plain; charset=utf-8")),
    ],
    ids=["two-fields", "crlf-inside", "preamble-epilogue", "repeated-name", "utf-8"],
)
def test_well_formed_bodies_read_as_the_stdlib_parser_reads_them(raw: bytes) -> None:
    assert parse_form(CT, raw) == stdlib_fields(CT, raw)


def test_a_quoted_boundary_transport_padding_and_a_latin_1_part() -> None:
    boundary = "b=(:odd ?)"
    padded = f"--{boundary} \t\r\n".encode()  # transport padding after a delimiter
    raw = body(field("a", "1"), boundary=boundary).replace(f"--{boundary}\r\n".encode(), padded)
    latin = body(field("city", "Zürich", "Content-Type: text/plain; charset=latin-1")).replace("ü".encode(), b"\xfc")
    assert parse_form(f'multipart/form-data; boundary="{boundary}"', raw) == {"a": "1"}
    assert parse_form(CT, latin) == {"city": "Zürich"}


def test_a_part_with_a_filename_and_its_own_content_type_is_a_field_too() -> None:
    part = field("file", "data", "Content-Type: application/octet-stream").replace(
        'name="file"', 'name="file"; filename="a;b.txt"'
    )
    assert parse_form(CT, body(part)) == {"file": "data"}


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("multipart/form-data", body(field("a", "1"))),  # no boundary
        ("multipart/form-data; boundary=", body(field("a", "1"))),
        (f"multipart/form-data; boundary={'x' * 71}", body(field("a", "1"), boundary="x" * 71)),
        (f"multipart/form-data; boundary={B}; junk", body(field("a", "1"))),
        (CT, b"not a form"),
        (CT, body(field("a", "1")).replace(b"\r\n", b"\n")),  # LF line ends
        (CT, body(field("a", "1"))[: -len(f"--{B}--\r\n")]),  # never closed
        (CT, body(field("a", "1")).replace(f"--{B}\r\n".encode(), f"--{B}x\r\n".encode())),
        (CT, body('Content-Disposition: form-data; name="a"\r\nno blank line')),
        (CT, body('Content-Disposition: form-data; name="a"\r\n folded: header\r\n\r\nv')),
        (CT, body("Content-Type: text/plain\r\n\r\nno disposition")),
        (CT, body('Content-Disposition: attachment; name="a"\r\n\r\nv')),
        (CT, body("Content-Disposition: form-data; name*=utf-8''a\r\n\r\nv")),  # RFC 7578 §4.2: not for names
        (CT, body(field("a", "MQ==", "Content-Transfer-Encoding: base64"))),
        ("text/plain", b"a=1"),
    ],
    ids=[
        "no-boundary",
        "empty-boundary",
        "boundary-too-long",
        "bad-parameters",
        "no-delimiter",
        "lf-line-ends",
        "unterminated",
        "bad-delimiter-line",
        "no-blank-line",
        "folded-header",
        "no-disposition",
        "not-form-data",
        "rfc2231-name",
        "transfer-encoding",
        "not-a-form",
    ],
)
def test_malformed_bodies_are_refused(content_type: str, raw: bytes) -> None:
    with pytest.raises(FormError):
        parse_form(content_type, raw)


def test_an_unknown_charset_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        parse_form(CT, body(field("a", "1", "Content-Type: text/plain; charset=x-no-such")))


def test_urlencoded_bodies_keep_the_first_value_and_blank_values() -> None:
    fields = parse_form("application/x-www-form-urlencoded; charset=utf-8", b"a=1&b=&a=2&c=%C3%A9")
    assert fields == {"a": "1", "b": "", "c": "é"}


def test_split_multipart_gives_lower_cased_headers_and_raw_content() -> None:
    raw = body(field("a", "1", "Content-Type: Text/Plain"), "\r\nheaderless")
    assert split_multipart(raw, B) == [
        ({"content-disposition": 'form-data; name="a"', "content-type": "Text/Plain"}, b"1"),
        ({}, b"headerless"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Multipart/Form-Data; Boundary=abc", ("multipart/form-data", {"boundary": "abc"})),
        ('form-data; name="a\\"b"; filename="x;y"', ("form-data", {"name": 'a"b', "filename": "x;y"})),
        ("application/json", ("application/json", {})),
        ("text/plain; charset=utf-8;", ("text/plain", {"charset": "utf-8"})),
        ("a; x=1; x=2", ("a", {"x": "1"})),
    ],
)
def test_header_params(value: str, expected: tuple[str, dict[str, str]]) -> None:
    assert header_params(value) == expected


_HEAD_PIECES = st.sampled_from(
    [
        "Content-Disposition",
        "content-disposition",
        "CONTENT-DISPOSITION",
        "Content-Type",
        ":",
        " ",
        "\t",
        "\x0b",
        "\u00a0",
        "form-data",
        "Form-Data",
        "attachment",
        ";",
        "name=",
        "filename=",
        '"',
        "\\",
        "field_1",
        "ä",
        "\r\n",
        "\r\n\r\n",
        "value",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_HEAD_PIECES, max_size=14).map("".join), st.binary(max_size=8))
def test_the_shortcut_for_a_plain_part_reads_as_the_general_reading(head: str, content: bytes) -> None:
    # Given a part's bytes: headers of any shape (a plain disposition most often), a blank line, content
    from webhook_translator.sources import multipart

    raw = head.encode("utf-8") + b"\r\n\r\n" + content

    def read(fn: Any) -> object:
        try:
            return fn(raw)
        except ValueError as exc:  # FormError, UnicodeDecodeError
            return type(exc)

    # When the part is read / Then the shortcut gives what the line-by-line reading gives, errors included
    assert read(multipart._part) == read(multipart._any_part)


def test_the_shortcut_reads_the_usual_part() -> None:
    from webhook_translator.sources import multipart

    raw = b'Content-Disposition: form-data; name="q3_email"\r\n\r\njane@example.com'
    assert multipart._PLAIN_HEAD.match(raw) is not None
    assert multipart._part(raw) == multipart._any_part(raw)


_BLANKS = st.text(alphabet=" \t\x0b\u00a0\u3000", max_size=2)


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["Content-Disposition", "content-DISPOSITION", "Content-Dispositio", "Content-Disposition "]),
    _BLANKS,
    st.sampled_from(["form-data", "FORM-DATA", "form-data ", "formdata"]),
    _BLANKS,
    st.text(alphabet='ab_1ä"\\\r\n;', max_size=6),
    _BLANKS,
    st.sampled_from(["", "\r\nContent-Type: text/plain; charset=latin-1", "\r\nX: y", "\r\n"]),
)
def test_the_shortcut_decides_as_the_general_reading_near_a_plain_part(
    header: str, gap: str, kind: str, gap2: str, name: str, tail: str, more: str
) -> None:
    # Given a part that is a plain disposition, or one character away from one
    from webhook_translator.sources import multipart

    raw = f'{header}:{gap}{kind};{gap2}name="{name}"{tail}{more}\r\n\r\nvalue'.encode()

    def read(fn: Any) -> object:
        try:
            return fn(raw)
        except ValueError as exc:
            return type(exc)

    # Then the shortcut's reading is the general one's
    assert read(multipart._part) == read(multipart._any_part)


# --- the plain-part reading (_plain_fields): whole-body string operations, else the full reading ----------


def _mostly(usual: str, *others: str) -> st.SearchStrategy[str]:
    """``usual`` four times in five, else one of ``others``."""
    return st.one_of(*[st.just(usual)] * 4, st.sampled_from(others))


_NAMES = st.one_of(
    *[st.text(alphabet="ab_1é", min_size=1, max_size=3)] * 4, st.sampled_from(['a"b', "a\\b", "a\r\nb", "a\rb", ""])
)
_VALUES = st.one_of(
    *[st.text(alphabet='xé\r\n-"', max_size=4)] * 4,
    st.sampled_from([f"\r\n--{B}", f"\r\n--{B}--", f"x\r\n--{B}x", '"\r\n\r\n', "\\"]),
)
_HEADS = _mostly(
    'Content-Disposition: form-data; name="{}"',  # the plain part
    'content-disposition: form-data; name="{}"',
    'Content-Disposition: form-data;  name="{}" ',
    'Content-Disposition: form-data; name="{}"\r\nContent-Type: text/plain; charset=latin-1',
    'Content-Disposition: form-data; name="{}"; filename="f.txt"',
    "Content-Disposition: form-data; name={}",
    "Content-Type: text/plain",
    "",
)
_PADDING = _mostly("", " ", "\t ", "x")
_AROUND = _mostly("", "\r\n", "preamble\r\n", f"--{B}", f"\r\n--{B}\r\n", "\xff", "é")
_CLOSE = _mostly(f"--{B}--", f"--{B}", "--", "")


@st.composite
def _form_bodies(draw: st.DrawFn) -> bytes:
    """Multipart bodies: plain parts most often, with every kind of near miss mixed in."""
    parts = draw(st.lists(st.tuples(_HEADS, _NAMES, _VALUES, _PADDING), max_size=4))
    inner = "".join(f"--{B}{pad}\r\n{head.format(name)}\r\n\r\n{value}\r\n" for head, name, value, pad in parts)
    raw = draw(_AROUND) + inner + draw(_CLOSE) + draw(_AROUND)
    return raw.encode("utf-8").replace("\xff".encode(), b"\xff")  # "\xff": a byte that is not UTF-8


@settings(max_examples=1500, deadline=None)
@given(_form_bodies())
def test_the_plain_reading_reads_as_the_full_reading_or_leaves_the_body_to_it(raw: bytes) -> None:
    # Given a multipart body of any shape
    from webhook_translator.sources import multipart

    def full() -> object:
        try:
            return multipart._read_fields(raw, B)
        except (ValueError, LookupError) as exc:  # FormError, UnicodeDecodeError
            return type(exc)

    # When the plain reading reads it / Then it gives what the full reading gives, or leaves the body to it
    plain = multipart._plain_fields(raw, B)
    assert plain is None or plain == full()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(alphabet="ab_1é ;=", min_size=1, max_size=4), st.text(alphabet='xé\r\n-"\\', max_size=6))
    ),
    st.sampled_from(["", "a preamble\r\n"]),
    st.sampled_from(["", "\r\n", "\r\nan epilogue"]),  # (one holding a delimiter: the full reading reads it)
)
def test_a_body_of_plain_parts_is_read_by_the_plain_reading(
    parts: list[tuple[str, str]], preamble: str, epilogue: str
) -> None:
    # Given a body of plain parts (any names and values, a preamble or not, an epilogue or not)
    from webhook_translator.sources import multipart

    raw = body(*(field(name, value) for name, value in parts), preamble=preamble, epilogue=epilogue)
    # When it is read / Then the plain reading reads it, as the full reading does
    assert multipart._plain_fields(raw, B) == multipart._read_fields(raw, B)
    assert multipart._plain_fields(raw, B) is not None


@pytest.mark.parametrize(
    "raw",
    [
        body(field("a", "1"), field("b", "")),
        body(field("a", "line one\r\nline two\r\n--not the boundary")),
        body(field("a", "x"), preamble="This is the preamble.\r\n", epilogue="\r\nand an epilogue"),
        body(field("a", "first"), field("a", "second")),
        body(field("naïve", "café ☕")),
        body(),
    ],
    ids=["two-fields", "crlf-inside", "preamble-epilogue", "repeated-name", "utf-8", "no-parts"],
)
def test_plain_parts_are_read_by_the_plain_reading(raw: bytes) -> None:
    from webhook_translator.sources import multipart

    assert multipart._plain_fields(raw, B) == multipart._read_fields(raw, B)
    assert multipart._plain_fields(raw, B) is not None


def test_the_jotform_sample_is_read_by_the_plain_reading() -> None:
    from webhook_translator.sources import multipart

    sample = json.loads((ROOT / "events" / "jotform" / "submission.json").read_text())
    boundary = header_params(sample["content_type"])[1]["boundary"]
    raw = sample["body_text"].encode()
    assert multipart._plain_fields(raw, boundary) == multipart._read_fields(raw, boundary)
    assert multipart._plain_fields(raw, boundary) is not None
