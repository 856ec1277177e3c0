"""``ours allowlist``: the Ours event names the configured sources can emit that the Ours allowlist lacks.

Ours stores and silently drops an event whose name is not on its allowlist, so
a ``/track`` 200 proves nothing until every name is there. The names are the ones
``webhook-translator sources`` lists for the current configuration; the allowlist
comes from the Ours Platform API (``OURS_PLATFORM_URL``, ``OURS_API_KEY``)::

    GET  /rest/v1/allowed-events        the allowlist as edited (the draft)
    GET  /rest/v1/versions/draft/diff   what is in the draft but not published yet
    POST /rest/v1/allowed-events        add one name to the draft (409: it is there already)
    POST /rest/v1/versions              publish the draft (409 while another publish runs)

Names match case-insensitively, as Ours matches them. ``--apply`` adds the
missing names and publishes once; a second run finds nothing to do.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import requests

from webhook_translator.translator_config import Translation
from webhook_translator_tools.cli.common import EXIT_ERROR, CliError, add_config_argument, configured
from webhook_translator_tools.cli.sources import ANY_LABEL, allowlist_names, source_rows

__all__ = ["DEFAULT_PLATFORM_URL", "PlatformClient", "register"]

DEFAULT_PLATFORM_URL: Final = "https://app.oursprivacy.com"
ALLOWED_EVENTS: Final = "/rest/v1/allowed-events"
DRAFT_DIFF: Final = "/rest/v1/versions/draft/diff"
VERSIONS: Final = "/rest/v1/versions"
#: (connect, read) seconds per Platform API call
TIMEOUT: Final = (5.0, 20.0)
SCOPES: Final = "allowedEvent:list, allowedEvent:create, version:publish (and version:find)"


class PublishRefused(CliError):
    """Ours would not publish now (another publish runs): the names wait in the draft."""


@dataclass
class Answer:
    status: int
    body: Any
    #: Ours's ``error`` (and ``details``), printable and cut — never a header or the key
    reason: str


def _printable(text: str, limit: int = 160) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PlatformClient:
    """The few Platform API calls the allowlist needs; every failure the user can fix is one :class:`CliError`."""

    def __init__(self, base_url: str, api_key: str, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._key = api_key
        self._session = session or requests.Session()

    def _call(self, method: str, path: str, body: Any = None, *, ok: Sequence[int] = (200, 201)) -> Answer:
        what = f"{method} {path}"
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {self._key}", "Accept": "application/json"},
                timeout=TIMEOUT,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise CliError(
                f"the Ours Platform API at {self.base_url} did not answer {what} in time; "
                "try again, or check OURS_PLATFORM_URL"
            ) from None
        except requests.RequestException as exc:
            cause = "connection refused" if "refused" in str(exc).lower() else type(exc).__name__
            raise CliError(
                f"cannot reach the Ours Platform API at {self.base_url} ({cause}); check OURS_PLATFORM_URL "
                "and your network"
            ) from None
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        reason = ""
        if isinstance(payload, dict):
            parts = [str(payload[k]) for k in ("error", "details") if isinstance(payload.get(k), str | int)]
            reason = _printable(": ".join(parts).replace(self._key, "****"))
        status = response.status_code
        if status in ok or status == 409:
            return Answer(status, payload, reason)
        if status == 401:
            raise CliError("Ours refused the API key (401): check OURS_API_KEY (an Ours Privacy API key)")
        if status == 403:
            raise CliError(f"the Ours API key may not do {what} (403): give it the scopes {SCOPES}")
        return Answer(status, payload, reason)

    def _unexpected(self, what: str, answer: Answer) -> CliError:
        detail = f": {answer.reason}" if answer.reason else ""
        hint = "try again later" if answer.status >= 500 or answer.status == 429 else "check OURS_PLATFORM_URL"
        return CliError(f"the Ours Platform API answered {answer.status} to {what}{detail}; {hint}")

    def allowed_events(self) -> dict[str, str]:
        """The allowlist as edited: lower-cased name → the entity's id ("" when Ours gives none)."""
        answer = self._call("GET", ALLOWED_EVENTS)
        if answer.status != 200:
            raise self._unexpected(f"GET {ALLOWED_EVENTS}", answer)
        items = _entities(answer.body)
        if items is None:
            raise CliError(
                f"the answer to GET {ALLOWED_EVENTS} from {self.base_url} is not an allowlist; check OURS_PLATFORM_URL"
            )
        names: dict[str, str] = {}
        for item in items:
            if isinstance(item, str):
                names.setdefault(item.strip().lower(), "")
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                names.setdefault(item["name"].strip().lower(), str(item.get("id") or ""))
        return names

    def draft_additions(self) -> set[str] | None:
        """Ids of allowed events added in the draft and not published yet; ``None`` when Ours does not say."""
        answer = self._call("GET", DRAFT_DIFF, ok=(200, 403, 404, 405))
        if answer.status != 200 or not isinstance(answer.body, dict):
            return None
        differences = answer.body.get("differences")
        collection = differences.get("allowedEvents") if isinstance(differences, dict) else None
        added = collection.get("added") if isinstance(collection, dict) else None
        if not isinstance(added, list):
            return set() if isinstance(differences, dict) else None
        return {str(item["id"]) for item in added if isinstance(item, dict) and item.get("id")}

    def add(self, name: str) -> tuple[str, str]:
        """Add one name to the draft: ("added", id), ("present", ""), or ("refused", Ours's reason)."""
        answer = self._call("POST", ALLOWED_EVENTS, {"name": name})
        if answer.status in (200, 201):
            data = _entity(answer.body)
            return "added", str(data.get("id") or "")
        if answer.status == 409:
            reason = answer.reason.lower()
            if any(word in reason for word in ("long", "reserved", "empty", "system")):
                return "refused", answer.reason
            return "present", ""
        raise self._unexpected(f"POST {ALLOWED_EVENTS} ({name!r})", answer)

    def publish(self, waiting: int) -> str:
        """Publish the draft once; a one-line description of what happened."""
        answer = self._call("POST", VERSIONS, {})
        if answer.status in (200, 201):
            data = _entity(answer.body)
            number = data.get("versionNumber")
            return f"published the Ours draft as version {number}" if number is not None else "published the draft"
        reason = answer.reason.lower()
        if answer.status == 409 and any(w in reason for w in ("no draft", "nothing to publish", "no changes")):
            return "nothing left to publish: the draft had been published already"
        if answer.status in (409, 423):
            detail = f" ({answer.reason})" if answer.reason else ""
            raise PublishRefused(
                f"Ours refused to publish{detail}: another publish is probably running. {waiting} event name(s) "
                "wait in the Ours draft; run `webhook-translator ours allowlist --apply` again in a minute"
            )
        raise self._unexpected(f"POST {VERSIONS}", answer)


def _entity(body: Any) -> dict[str, Any]:
    """The one entity in an answer: the object itself, or the one under ``data`` (tolerant)."""
    if not isinstance(body, dict):
        return {}
    inner = body.get("data")
    return inner if isinstance(inner, dict) else body


def _entities(body: Any) -> list[Any] | None:
    """The list of allowed events in an answer: a list, or one under ``entities`` / ``data`` (tolerant)."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        for key in ("entities", "data", "items", "allowedEvents"):
            inner = body.get(key)
            if isinstance(inner, list):
                return inner
            if isinstance(inner, dict):
                return _entities(inner)
    return None


@dataclass
class Comparison:
    platform_url: str
    names: list[str]
    generic_sources: list[str]
    missing: list[str]
    #: on the allowlist in the draft, not published: Ours still drops them
    unpublished: list[str]
    #: None: Ours did not say what is unpublished
    draft_known: bool
    added: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    published: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "platform_url": self.platform_url,
            "names": self.names,
            "missing": self.missing,
            "unpublished": self.unpublished if self.draft_known else None,
            "generic_sources": self.generic_sources,
            "added": self.added,
            "already_present": self.present,
            "refused": self.refused,
            "published": self.published,
        }


def _platform() -> PlatformClient:
    key = (os.environ.get("OURS_API_KEY") or "").strip()
    if not key:
        raise CliError(
            f"OURS_API_KEY is not set: export an Ours Privacy API key with the scopes {SCOPES} "
            "(`webhook-translator serve` prints one for its local Platform API)"
        )
    url = (os.environ.get("OURS_PLATFORM_URL") or "").strip() or DEFAULT_PLATFORM_URL
    if not url.startswith(("http://", "https://")):
        raise CliError(f"OURS_PLATFORM_URL={url[:80]!r} is not an http(s) URL")
    return PlatformClient(url, key)


def compare(client: PlatformClient, translation: Translation) -> Comparison:
    rows = source_rows(translation.registry, translation.config)
    names = list({name.lower(): name for name in reversed(allowlist_names(rows))}.values())[::-1]
    generic = [name for name, event_type, _ in rows if event_type == ANY_LABEL]
    allowlist = client.allowed_events()
    missing = [n for n in names if n.lower() not in allowlist]
    pending = client.draft_additions()
    unpublished = [] if pending is None else [n for n in names if allowlist.get(n.lower()) in pending]
    return Comparison(client.base_url, names, generic, missing, unpublished, pending is not None)


def _confirm(question: str) -> bool:
    """Ask on the terminal (the prompt on stderr, so that --json output stays clean)."""
    if not sys.stdin.isatty():
        raise CliError("not changing the Ours allowlist without confirmation: stdin is not a terminal; pass --yes")
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def _apply(client: PlatformClient, result: Comparison, args: argparse.Namespace, say: Any) -> int:
    if not result.missing and not result.unpublished:
        say(f"Nothing to change: all {len(result.names)} event names are on the Ours allowlist and published.")
        return 0
    if result.missing:
        question = f"Add {len(result.missing)} event names and publish?"
    else:
        question = f"Publish the Ours draft ({len(result.unpublished)} event names wait in it)?"
    if not args.yes and not _confirm(question):
        say("Nothing changed.")
        return EXIT_ERROR
    for name in result.missing:
        outcome, detail = client.add(name)
        if outcome == "added":
            result.added.append(name)
            say(f"added    {name}")
        elif outcome == "present":
            result.present.append(name)
            say(f"present  {name} (already on the allowlist)")
        else:
            result.refused[name] = detail
            say(f"refused  {name}: {detail or 'Ours gave no reason'}")
    waiting = len(result.added) + len(result.unpublished)
    if waiting:
        result.published = client.publish(waiting)
        say(f"{result.published} ({waiting} event name(s) now live)")
    if result.added:
        say("New allowed events route to no destination until you choose their destinations in Ours (Allowed Events).")
    if result.refused:
        say(f"{len(result.refused)} name(s) refused by Ours: rename them with TRANSLATOR_CONFIG")
        return EXIT_ERROR
    return 0


def allowlist(args: argparse.Namespace) -> int:
    if args.apply and not args.yes and not sys.stdin.isatty():
        raise CliError("not changing the Ours allowlist without confirmation: stdin is not a terminal; pass --yes")
    translation = configured(args)[1]  # a bad document is the error before any Platform API call
    client = _platform()
    result = compare(client, translation)
    # with --json, the human lines go to stderr and one JSON document to stdout
    out = sys.stderr if args.json else sys.stdout

    def say(line: str = "") -> None:
        print(line, file=out)

    if not args.json:
        for name in result.missing:
            print(name)
    status = 0
    summary = f"{len(result.missing)} of {len(result.names)} event names missing from the Ours allowlist"
    if result.unpublished:
        summary += f"; {len(result.unpublished)} in the draft, not published: {', '.join(result.unpublished)}"
    say(f"{summary} ({result.platform_url}).")
    if not result.draft_known:
        say("(Ours did not say which allowlist changes are unpublished.)")
    if result.generic_sources:
        say(f"…and the event types your own senders name when they post to: {', '.join(result.generic_sources)}")
    try:
        if args.apply:
            status = _apply(client, result, args, say)
        elif result.missing or result.unpublished:
            say("Add them and publish with `webhook-translator ours allowlist --apply`.")
    finally:
        if args.json:
            print(json.dumps(result.as_json(), indent=2))
    return status


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ours = commands.add_parser(
        "ours",
        help="the Ours side: the event allowlist",
        description="Work with the Ours Privacy Platform API (OURS_PLATFORM_URL, OURS_API_KEY).",
    )
    sub = ours.add_subparsers(dest="ours_command", metavar="COMMAND", required=True)
    p = sub.add_parser(
        "allowlist",
        help="the Ours event names the sources can emit that the Ours allowlist lacks (--apply adds them)",
        description=(
            "Compare the Ours event names the configured sources can emit (what `webhook-translator sources` "
            "lists, TRANSLATOR_CONFIG applied) with the Ours allowlist, case-insensitively, and print the "
            "missing names, one per line. Ours stores and silently drops events whose name is not allowed. "
            f"Needs OURS_API_KEY; OURS_PLATFORM_URL defaults to {DEFAULT_PLATFORM_URL}."
        ),
    )
    p.add_argument("--apply", action="store_true", help="add the missing names and publish the Ours draft once")
    p.add_argument("--yes", action="store_true", help="with --apply: do not ask first")
    p.add_argument("--json", action="store_true", help="print one JSON document (human lines go to stderr)")
    add_config_argument(p)
    p.set_defaults(run=allowlist)
