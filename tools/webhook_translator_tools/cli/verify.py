"""``verify SOURCE --body FILE --headers FILE``: would the receiver accept this captured request, and if not, why?

The request goes through the receiver's own admission step (:func:`webhook_translator.admission.admit`,
signature check included), so the answer is the receiver's: verified, or the same reason code a
401 (or another 4xx) would carry, with what to check. Secrets come from ``--secret`` (repeatable),
``--secrets FILE`` (a secret document), or the development document ``serve`` uses.
Nothing printed holds a secret, a signature or the body.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final
from urllib.parse import parse_qsl, urlsplit

from webhook_translator import errors
from webhook_translator.admission import Admitted, Handshake, admit
from webhook_translator.errors import ConfigurationError, WebhookRejected
from webhook_translator.sources.base import Source
from webhook_translator.sources.request import InboundRequest
from webhook_translator_tools.cli.common import (
    EXIT_USAGE,
    CliError,
    dev_document,
    env_settings,
    find_source,
    load_document,
    parse_header,
    read_bytes,
)

__all__ = ["HINTS", "register"]

EXIT_REFUSED: Final = 1

#: what to check, per reason code
HINTS: Final = {
    errors.MISSING_SIGNATURE: "the signature header (or its timestamp/id header) is absent: capture the headers "
    "exactly as received, and check that no proxy or gateway in front of the receiver strips them",
    errors.MALFORMED_SIGNATURE: "the signature header is not in the provider's format: check that it was captured "
    "whole (no truncation or quoting) and that the source is the right one for this provider",
    errors.STALE_TIMESTAMP: "the signature's timestamp is older than the scheme allows: a delayed or replayed "
    "delivery, or a slow clock; to check a capture as of its arrival, pass --at with that time",
    errors.FUTURE_TIMESTAMP: "the signature's timestamp is ahead of this clock by more than the scheme allows: check "
    "the receiving machine's clock (NTP); to check a capture as of its arrival, pass --at with that time",
    errors.NO_MATCHING_SECRET: "no configured secret signs this body: copy the signing secret from the provider's "
    "dashboard into the source's signing_secrets (a rotated secret? keep the old one listed until the switch)",
    errors.BODY_MODIFIED: "a configured secret signs the body as it was before a rewrite on the way: make the proxy or "
    "API gateway in front of the receiver pass the raw request body through unchanged",
    "unknown_source": "the path names no registered source: see `webhook-translator sources`",
    "unsupported_media_type": "the Content-Type header is not one the source sends: capture it as received",
    "bad_request": "the body or a required header is not what the source sends: capture the raw body bytes",
    "payload_too_large": "the body is over MAX_BODY_BYTES",
}


def read_headers(path: str) -> dict[str, str]:
    """A headers file: a JSON object (e.g. an API Gateway event's ``headers``), or ``Name: value`` lines
    (``curl -D``, a proxy's dump; a leading request or status line is skipped). Names are lower-cased."""
    raw = read_bytes(path, "--headers")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"--headers {path} is not UTF-8 text") from None
    return _json_headers(text, path) if text.lstrip().startswith("{") else _line_headers(text, path)


def _json_headers(text: str, path: str) -> dict[str, str]:
    """A JSON object of headers, or a whole API Gateway event (its ``headers``)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise CliError(f'--headers {path} is not valid JSON: expected {{"Name": "value", ...}}') from None
    if isinstance(data, dict) and isinstance(data.get("headers"), dict):
        data = data["headers"]  # a whole API Gateway event
    if not isinstance(data, dict) or not all(isinstance(v, str | int | float) for v in data.values()):
        raise CliError(f"--headers {path}: expected a JSON object of header names to string values")
    return {str(k).strip().lower(): str(v).strip() for k, v in data.items()}


def _line_headers(text: str, path: str) -> dict[str, str]:
    """``Name: value`` lines; a leading request or status line is skipped."""
    headers: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or (number == 1 and ":" not in line.split(" ", 1)[0] and " " in line.strip()):
            continue  # blank lines, and "POST /webhooks/stripe HTTP/1.1" or "HTTP/1.1 200 OK"
        name, value = parse_header(line)
        headers[name] = value
    if not headers:
        raise CliError(f"--headers {path} holds no headers: expected 'Name: value' lines or a JSON object")
    return headers


def _at(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"--at {text[:40]!r} is neither epoch seconds nor an ISO 8601 time", EXIT_USAGE) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _secrets(args: argparse.Namespace, source: Source) -> tuple[list[str], str]:
    """(the signing secrets, where they came from)."""
    if args.secret is not None:
        if not all(s.strip() for s in args.secret):
            raise CliError("--secret is empty: pass the source's signing secret", EXIT_USAGE)
        return list(args.secret), "--secret"
    if args.secrets:
        document, _ = load_document(args.secrets)
        label = args.secrets
    else:
        document, _ = dev_document()
        label = "the development secret document"
    secrets = document.signing_secrets_for(source.name)
    if not secrets:
        raise CliError(f"{label} has no signing secret for {source.name}: pass --secret S or --secrets FILE")
    return secrets, label


def explain(source: Source, request: InboundRequest, secrets: Sequence[str], *, max_body_bytes: int) -> tuple[int, str]:
    """(exit status, what to print) for one request, judged by the receiver's admission."""
    registry = {source.name: source}

    def admitted(some: Sequence[str]) -> Admitted | Handshake:
        return admit(request, registry=registry, max_body_bytes=max_body_bytes, secrets_for=lambda _: some)

    try:
        result = admitted(secrets)
    except ConfigurationError as exc:
        raise CliError(exc.message) from None
    except WebhookRejected as exc:
        hint = HINTS.get(exc.reason, "see the reason")
        return EXIT_REFUSED, f"refused: {exc.status} {exc.reason}: {exc.message}\ncheck: {hint}"
    which = ""
    if len(secrets) > 1:
        for index, secret in enumerate(secrets, start=1):
            try:
                admitted([secret])
            except WebhookRejected:
                continue
            which = f" (secret {index} of {len(secrets)} matched)"
            break
    if isinstance(result, Handshake):
        return 0, f"verified{which}: a {source.name} handshake, answered without queueing"
    return 0, f"verified{which}: {source.name} webhook {result.envelope.webhook_id} would be queued"


def verify(args: argparse.Namespace) -> int:
    source = find_source(args.source)
    body = read_bytes(args.body, "--body")
    headers = read_headers(args.headers)
    secrets, label = _secrets(args, source)
    url = args.url or f"https://localhost/webhooks/{source.name}"
    request = InboundRequest(
        source=source.name,
        body=body,
        headers=headers,
        query=dict(parse_qsl(urlsplit(url).query)),
        url=url,
        received_at=_at(args.at),
    )
    config = env_settings()
    status, text = explain(source, request, secrets, max_body_bytes=config.max_body_bytes)
    print(text)
    print(f"(secrets from {label}; checked as of {request.received_at.isoformat(timespec='seconds')})")
    return status


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "verify",
        help="explain a captured request: verified, or the reason code the receiver answers and what to check",
        description=(
            "Run a captured request (its raw body and its headers) through the receiver's admission step — the "
            "same signature check, with the same reason codes (missing_signature, malformed_signature, "
            "stale_timestamp, future_timestamp, no_matching_secret, body_modified) — and say what to check. "
            "Exits 0 when verified, 1 when the receiver would refuse it. Prints no secret, signature or body."
        ),
    )
    p.add_argument("source", metavar="SOURCE", help="a source name (see `webhook-translator sources`)")
    p.add_argument("--body", required=True, metavar="FILE", help="the raw request body, exactly as received")
    p.add_argument(
        "--headers",
        required=True,
        metavar="FILE",
        help="the request headers: 'Name: value' lines (as `curl -D` writes them) or a JSON object",
    )
    p.add_argument(
        "--secret",
        action="append",
        metavar="S",
        help="a signing secret to try (repeatable; default: the source's secrets in --secrets or the development "
        "document `serve` uses)",
    )
    p.add_argument("--secrets", metavar="FILE", help="a secret document to take the source's signing_secrets from")
    p.add_argument(
        "--at",
        metavar="TIME",
        help="judge the timestamp as of this time (epoch seconds or ISO 8601; default: now)",
    )
    p.add_argument("--url", metavar="URL", help="the request URL, for a token in the query (?key=…)")
    p.set_defaults(run=verify)
