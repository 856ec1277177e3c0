"""``translate``, ``sign`` and ``send``: one webhook body, mapped, signed or posted.

FILE is a raw webhook body (exactly the bytes a provider sends), or a sample in
the ``events/<source>/<name>.json`` shape (``translate`` and ``send`` then use
its body, headers and content type, re-timed to a few seconds ago).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from webhook_translator.admission import Admitted, Handshake, admit
from webhook_translator.config import Settings
from webhook_translator.envelope import Envelope
from webhook_translator.errors import (
    BadRequest,
    PayloadTooLarge,
    TranslatorError,
    UnsupportedMediaType,
    WebhookRejected,
)
from webhook_translator.fetch import Fetch, FetchRequest
from webhook_translator.sources.base import Source
from webhook_translator.sources.request import InboundRequest
from webhook_translator.translation import map_context
from webhook_translator.translation import translate as translate_envelope
from webhook_translator_tools.cli.common import (
    CliError,
    add_config_argument,
    configured,
    dev_document,
    find_source,
    load_document,
    parse_header,
    read_bytes,
    read_json,
)
from webhook_translator_tools.local.samples import Sample, SampleError, is_sample

__all__ = ["register"]

MASK = "****"


@dataclass
class WebhookInput:
    """A webhook to translate or send: the body bytes, the provider's headers, and the sample it came from."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    sample: Sample | None = None


def load_input(source: Source, path: str, *, now: float) -> WebhookInput:
    raw = read_bytes(path)
    data = read_json(raw)
    if not is_sample(data):
        return WebhookInput(raw)
    try:
        sample = _sample_of(source, data, path).retimed(now)
    except SampleError as exc:
        raise CliError(str(exc)) from None
    headers = {k.lower(): v for k, v in sample.headers.items()}
    return WebhookInput(sample.raw_body(), headers, sample.content_type, sample)


def _sample_of(source: Source, data: Any, path: str) -> Sample:
    """The sample file ``path`` (parsed as ``data``), which must be one of ``source``."""
    try:
        sample = Sample.from_json(data, Path(path))
    except SampleError as exc:
        raise CliError(str(exc)) from None
    if sample.source != source.name:
        raise CliError(f"{path} is a {sample.source} sample, not {source.name}: pass SOURCE {sample.source}")
    return sample


def _secret(source: Source, given: str | None) -> str:
    """``--secret`` as given, or the development secret when it is left out; an empty one is a mistake."""
    if given is None:
        return _default_secret(source)
    if not given.strip():
        raise CliError("--secret is empty: pass the source's signing secret, or leave --secret out for the dev secret")
    return given


def _target_url(base: str, source: Source) -> str:
    """The webhook URL to post to; a URL naming another source's ``/webhooks/{name}`` is refused."""
    from urllib.parse import unquote, urlsplit

    from webhook_translator_tools.local.replay import webhook_url

    url = webhook_url(base, source.name)
    _, _, rest = urlsplit(url).path.partition("/webhooks/")
    if not rest and not urlsplit(url).query:  # …/webhooks/: the base of every source's URL
        return url + source.name
    named = unquote(rest.split("/", 1)[0])
    if named != source.name:
        raise CliError(
            f"--url is the webhook URL of {named[:64]!r}, not of {source.name}: "
            f"pass SOURCE {named[:64] or '<source>'}, or a URL ending in /webhooks/{source.name}"
        )
    return url


def _default_secret(source: Source) -> str:
    document, _ = dev_document()
    secrets = document.signing_secrets_for(source.name)
    if not secrets:
        raise CliError(f"the development secrets have no signing secret for {source.name}: pass --secret S")
    return secrets[0]


@contextlib.contextmanager
def _signing(source: Source) -> Iterator[None]:
    """Signing as ``source``'s provider does (:meth:`Source.sign_headers`): its refusals as one line."""
    try:
        yield
    except SampleError as exc:
        raise CliError(str(exc)) from None
    except NotImplementedError:
        raise CliError(f"{source.name} has no signing scheme to reproduce") from None
    except ValueError as exc:
        raise CliError(f"the secret is not valid for {source.name}: {exc}") from None


def _sign(source: Source, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
    with _signing(source):
        return source.sign_headers(body, secret, now=now, webhook_id=webhook_id)


# --- translate -----------------------------------------------------------------------------------


def _admit(request: InboundRequest, config: Settings, source: Source) -> Admitted | Handshake:
    """The receiver's admission, signature check left out; its refusals said as the CLI's one line."""
    try:
        return admit(request, registry={source.name: source}, max_body_bytes=config.max_body_bytes, secrets_for=None)
    except WebhookRejected as exc:
        if isinstance(exc, UnsupportedMediaType) or (isinstance(exc, BadRequest) and not request.content_type):
            message = (
                f"{source.name} sends {', '.join(source.content_types)}, "
                f"not {request.content_type or 'no content type'}: pass --header 'Content-Type: ...'"
            )
        elif isinstance(exc, PayloadTooLarge) and len(request.body) > config.max_body_bytes:
            message = f"the body is {len(request.body)} bytes; the receiver takes at most {config.max_body_bytes}"
        else:
            message = f"the receiver would refuse this webhook ({exc.status} {exc.reason}): {exc.message}"
        raise CliError(message) from None


def _failure(exc: TranslatorError) -> str:
    """``reason: message`` of a translation failure, naming what the mapper itself raised."""
    cause = exc.__cause__
    if isinstance(cause, WebhookRejected):
        return f"{cause.reason}: {cause.message}"
    if exc.reason == "mapper_error" and cause is not None and not isinstance(cause, TranslatorError):
        return f"mapper_error: the mapper raised {type(cause).__name__}"
    return f"{exc.reason}: {exc.message}"


def _fetch(args: argparse.Namespace) -> Fetch:
    """The fetch step for a dry run: the source's ``api_base_url`` (or ``--fetch-from URL``), the credential
    from ``--secrets FILE`` (default: the development document)."""
    import dataclasses

    from webhook_translator.fetch.client import ProviderApi
    from webhook_translator.secrets import StaticSecrets

    document = load_document(args.secrets)[0] if args.secrets else dev_document()[0]
    bound = ProviderApi(StaticSecrets(document), read_timeout=10.0).bind(1)
    base = args.fetch_from
    if base is not None and not base.startswith(("http://", "https://")):
        raise CliError(f"--fetch-from {base[:80]!r} is not an http(s) URL")

    def fetch(request: FetchRequest) -> dict[str, Any]:
        """The fetch, its JSON log lines kept off stdout (a failure is the command's one line)."""
        from webhook_translator.observability import logger

        handler, level = logger.registered_handler, logger.registered_handler.level
        handler.setLevel(logging.CRITICAL + 1)
        try:
            return bound(dataclasses.replace(request, base_url=base.rstrip("/")) if base else request)
        finally:
            handler.setLevel(level)

    return fetch


def translate(args: argparse.Namespace) -> int:
    config, translation = configured(args)
    source = find_source(args.source, translation.registry)
    now = time.time()
    webhook = load_input(source, args.file, now=now)
    headers = dict(webhook.headers)
    for text in args.header or []:
        name, value = parse_header(text)
        headers[name] = value
    headers.setdefault("content-type", webhook.content_type or source.content_types[0])
    request = InboundRequest(
        source=source.name,
        body=webhook.body,
        headers=headers,
        url=f"https://localhost/webhooks/{source.name}",
        received_at=datetime.fromtimestamp(now, UTC),
    )
    admitted = _admit(request, config, source)
    if isinstance(admitted, Handshake):
        print("[]")
        print(
            f"{source.name}: a URL-verification handshake; the receiver answers it, nothing goes to Ours",
            file=sys.stderr,
        )
        return 0
    webhook_id = admitted.envelope.webhook_id
    if args.explain:
        _explain(source, admitted.envelope, config, now_ms=int(now * 1000))
    try:
        _, result = translate_envelope(
            admitted.envelope,
            config.translator_config,
            registry={source.name: source},
            now_ms=int(now * 1000),
            stale_policy=config.stale_event_policy,
            fetch=_fetch(args) if source.fetches else None,
        )
    except TranslatorError as exc:
        raise CliError(f"cannot translate {source.name} {webhook_id}: {_failure(exc)}") from None
    failure = result.failure()  # items that failed on their own: the good ones are printed, then the failure
    if failure is not None and not result.events:
        raise CliError(f"cannot translate {source.name} {webhook_id}: {_failure(failure)}")
    bodies: list[dict[str, Any]] = [{"token": MASK, **event.to_ours()} for event in result.events]
    print(json.dumps(bodies, indent=2, ensure_ascii=False))
    if failure is not None:
        raise CliError(f"cannot translate {source.name} {webhook_id}: {_failure(failure)}")
    if result.skipped is not None:
        print(
            f"{source.name} {webhook_id}: {result.event_type} is skipped ({result.skipped}); nothing goes to Ours",
            file=sys.stderr,
        )
    return 0


def _explain(source: Source, envelope: Envelope, config: Settings, *, now_ms: int) -> None:
    """Each path of a declarative source and the value it found (personal values masked), on stderr."""
    from webhook_translator.spec import explain

    ctx = map_context(source, config.translator_config, now_ms=now_ms, stale_policy=config.stale_event_policy)
    try:
        rows = explain(source, envelope, ctx)
    except TypeError:
        print(f"{source.name} is a built-in source: --explain shows the paths of declarative sources", file=sys.stderr)
        return
    width = max((len(row.path) for row in rows), default=0)
    expr_width = min(max((len(row.expression) for row in rows), default=0), 48)
    print(f"{source.name}: what each path of the spec found (personal values masked)", file=sys.stderr)
    for row in rows:
        print(f"  {row.path.ljust(width)}  {row.expression.ljust(expr_width)}  → {row.value}", file=sys.stderr)


# --- sign ----------------------------------------------------------------------------------------


def sign(args: argparse.Namespace) -> int:
    source = find_source(args.source, configured(args)[1].registry)
    body = read_bytes(args.file)
    if is_sample(read_json(body)):
        raise CliError(
            f"{args.file} is a sample file, not a raw body: sign the exact bytes you will send, "
            f"or let `webhook-translator send {source.name} {args.file} --url URL` sign and post it"
        )
    secret = _secret(source, args.secret)
    for name, value in _sign(source, body, secret, now=time.time()).items():
        print(f"{name}: {value}")
    return 0


# --- send ----------------------------------------------------------------------------------------


def send(args: argparse.Namespace) -> int:
    import requests

    from webhook_translator_tools.local.replay import sign_sample

    source = find_source(args.source, configured(args)[1].registry)
    if not args.url.startswith(("http://", "https://")):
        raise CliError(f"--url {args.url[:80]!r} is not an http(s) URL")
    url = _target_url(args.url, source)
    secret = _secret(source, args.secret)
    now = time.time()
    raw = read_bytes(args.file)
    data = read_json(raw)
    if is_sample(data):
        sample = _sample_of(source, data, args.file)
        with _signing(source):
            signed = sign_sample(sample, source, secret, base_url=url, now=now)
        url, headers, body = signed.url, signed.headers, signed.body
    else:
        headers, body = _sign(source, raw, secret, now=now), raw
    try:
        answer = requests.post(url, data=body, headers=headers, timeout=(5, 30))
    except requests.ConnectionError:
        raise CliError(
            f"cannot connect to {url}: is the receiver running there (`webhook-translator serve`)?"
        ) from None
    except requests.Timeout:
        raise CliError(f"{url} did not answer in time") from None
    except requests.RequestException as exc:
        raise CliError(f"cannot post to {url}: {type(exc).__name__}") from None
    print(f"HTTP {answer.status_code}")
    if answer.text:
        print(answer.text)
    return 0 if 200 <= answer.status_code < 300 else 1


# --- samples refresh -----------------------------------------------------------------------------


def refresh_samples(args: argparse.Namespace) -> int:
    from webhook_translator_tools.local.lambda_events import SAMPLE_SECRET, refresh

    directory = Path(args.dir)
    if not directory.is_dir():
        raise CliError(f"{args.dir}: no such directory; run from the checkout, or pass the events folder")
    secret = SAMPLE_SECRET if args.secret is None else _secret(find_source("stripe"), args.secret)
    now = int(time.time())
    try:
        written = refresh(directory, now=now, secret=secret)
    except SampleError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write in {args.dir}: {exc.strerror or type(exc).__name__}") from None
    at = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
    for path in written:
        print(f"wrote {path}")
    signer = "--secret" if args.secret is not None else SAMPLE_SECRET
    print(f"signed and timed at {at} with {signer}: the receiver accepts them for 5 minutes, Ours for 7 days")
    return 0


# --- the parsers ---------------------------------------------------------------------------------

SAMPLE_SECRET_HELP = "whsec_sample_events_not_a_real_secret, the sample events' own"
FILE_HELP = (
    "a raw webhook body, or a sample file in the events/<source>/<name>.json shape "
    "(its body, headers and content type are used, re-timed to a few seconds ago)"
)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "translate",
        help="dry run: print the /track payloads a webhook body maps to",
        description=(
            "Map a webhook body through the source's mapper exactly as the forwarder does (no signature check, "
            "nothing sent) and print the /track payloads as JSON, token masked. A skipped event type prints [] "
            "and says why on stderr. Renames and drops from TRANSLATOR_CONFIG apply."
        ),
    )
    p.add_argument("source", metavar="SOURCE", help="a source name (see `webhook-translator sources`)")
    p.add_argument("file", metavar="FILE", help=FILE_HELP)
    p.add_argument(
        "--header",
        action="append",
        metavar='"Name: value"',
        help="a request header the provider sends (repeatable), e.g. --header 'Content-Type: application/json'",
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="also print (on stderr) each field path of a declarative source and the value it found, "
        "personal values masked: how to debug a spec",
    )
    p.add_argument(
        "--fetch-from",
        metavar="URL",
        help="sources that fetch details from their provider (facebook-leads, acuity): the provider API base URL "
        "to ask (a sandbox, or the local fake `serve` prints); default: the source's api_base_url option",
    )
    p.add_argument(
        "--secrets",
        metavar="FILE",
        help="the secret document holding the provider API credential (default: the development document)",
    )
    add_config_argument(p)
    p.set_defaults(run=translate)

    p = commands.add_parser(
        "sign",
        help="print the headers a real provider would send for a body",
        description=(
            "Print the signature headers (one 'Name: value' per line) a provider would send with FILE's exact bytes, "
            "so any client can replay it, e.g. curl -H ... --data-binary @FILE."
        ),
    )
    p.add_argument("source", metavar="SOURCE", help="a source name (see `webhook-translator sources`)")
    p.add_argument("file", metavar="FILE", help="the raw body, exactly as it will be sent")
    p.add_argument("--secret", metavar="S", help="the signing secret (default: the development secret `serve` uses)")
    add_config_argument(p)
    p.set_defaults(run=sign)

    p = commands.add_parser(
        "send",
        help="sign a body or sample and post it to a receiver",
        description=(
            "Sign FILE like the provider does and POST it to URL; print the HTTP status and the answer. "
            "Exits 1 on a non-2xx answer."
        ),
    )
    p.add_argument("source", metavar="SOURCE", help="a source name (see `webhook-translator sources`)")
    p.add_argument("file", metavar="FILE", help=FILE_HELP)
    p.add_argument(
        "--url",
        required=True,
        metavar="URL",
        help="the receiver: its base URL (http://127.0.0.1:3000, /webhooks/SOURCE is appended) or the full webhook URL",
    )
    p.add_argument("--secret", metavar="S", help="the signing secret (default: the development secret `serve` uses)")
    add_config_argument(p)
    p.set_defaults(run=send)

    p = commands.add_parser(
        "samples",
        help="remake the Lambda events in events/apigw and events/sqs at the current time",
        description="Sample files. `samples refresh` rewrites events/apigw/*.json and events/sqs/*.json from the raw "
        "samples, signed and timed now (their signatures expire in minutes, their event times after 7 days).",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = actions.add_parser(
        "refresh",
        help="rewrite events/apigw and events/sqs, signed and timed now",
        description="Rewrite the API Gateway events (events/apigw) and the SQS batch (events/sqs) from the raw "
        "samples in DIR, re-timed and signed now, for `sam local invoke -e` and the tests.",
    )
    r.add_argument("dir", metavar="DIR", nargs="?", default="events", help="the events folder (default: events)")
    r.add_argument("--secret", metavar="S", help=f"the Stripe signing secret (default: {SAMPLE_SECRET_HELP})")
    r.set_defaults(run=refresh_samples)
