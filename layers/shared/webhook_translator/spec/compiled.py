"""A validated spec with every expression compiled once: what a spec source runs on each webhook."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from webhook_translator.spec.errors import SpecError
from webhook_translator.spec.model import SourceSpec, parse_spec
from webhook_translator.spec.paths import Path, compile_path
from webhook_translator.spec.verifiers import SpecVerifier, make_verifier

NAME: Final = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
STANDARD_WEBHOOKS: Final = "standard-webhooks"
#: identity keys of a spec → TrackEvent fields (phone_number goes to userProperties)
IDENTITY: Final = {"userId": "user_id", "externalId": "external_id", "email": "email", "phone_number": "phone_number"}
#: userProperties keys a spec may not set there (consent has its own section; identities theirs)
_NOT_USER_KEYS: Final = frozenset({"consent", "phone_number"})
DEFAULT_NUMBERS: Final = frozenset(
    {"activeDuration", "duration", "page_hash", "screen_height", "screen_width", "sessionCount"}
)
DEFAULT_BOOLEANS: Final = frozenset({"fv", "iframe", "new_s", "webview"})


@dataclass(frozen=True)
class Compiled:
    name: str
    spec: SourceSpec
    verifier: SpecVerifier
    event_type: Path | None
    id_path: Path | None = None
    batch: Path | None = None
    item_id: Path | None = None
    time: Path | None = None
    handshake_when: Path | None = None
    handshake_body: Mapping[str, Path] = field(default_factory=dict)
    identity: Mapping[str, Path] = field(default_factory=dict)
    user_properties: Mapping[str, Path] = field(default_factory=dict)
    event_properties: Mapping[str, Path] = field(default_factory=dict)
    default_properties: Mapping[str, Path] = field(default_factory=dict)
    consent: Mapping[str, Path] = field(default_factory=dict)
    filters: tuple[tuple[Path, str], ...] = ()

    @property
    def events(self) -> dict[str, str]:
        """Provider type → Ours event name, for the types that are mapped (the rest are skipped)."""
        return {kind: name for kind, name in self.spec.events.items() if name is not None and kind != "*"}

    def item_paths(self) -> Iterator[Path]:
        """The paths read from each item, in the order ``explain`` shows them."""
        for path in (self.item_id, self.event_type, self.time):
            if path is not None:
                yield path
        for path, _ in self.filters:
            yield path
        for group in (self.identity, self.user_properties, self.consent, self.event_properties):
            yield from group.values()
        yield from self.default_properties.values()


def _paths(where: str, table: Mapping[str, str]) -> dict[str, Path]:
    return {key: compile_path(f"{where}.{key}", text) for key, text in table.items()}


def _check_keys(where: str, keys: Mapping[str, Any], allowed: frozenset[str], hint: str) -> None:
    for key in keys:
        if key not in allowed:
            known = ", ".join(sorted(allowed)[:12])
            raise SpecError(f"{where}.{key}", f"not a {where} key Ours knows ({hint}; known: {known}, …)")


def _allowed_keys() -> tuple[frozenset[str], frozenset[str]]:
    from webhook_translator.ours.properties import DefaultProperties, UserProperties

    user = frozenset(UserProperties.field_names()) - _NOT_USER_KEYS
    default = frozenset(DefaultProperties.field_names())
    return user, default


def _with_standard_verifier(name: str, raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """Under ``standard-webhooks`` the verifier is, and must be, the Standard Webhooks scheme."""
    if name != STANDARD_WEBHOOKS:
        return raw
    verifier = raw.get("verifier")
    if verifier is None:
        return {**raw, "verifier": {"type": STANDARD_WEBHOOKS}}
    if not isinstance(verifier, Mapping) or verifier.get("type") != STANDARD_WEBHOOKS:
        raise SpecError("verifier", "the standard-webhooks source verifies with the Standard Webhooks scheme only")
    return raw


def compile_spec_data(name: str, raw: Mapping[str, Any]) -> Compiled:
    """Validate ``raw`` and compile each of its expressions; :class:`SpecError` for the first fault."""
    if not isinstance(name, str) or not NAME.match(name):
        raise SpecError("name", "a source name is 1-64 lower-case letters, digits, '-' or '_'")
    if not isinstance(raw, Mapping):
        raise SpecError("spec", "must be an object")
    spec = parse_spec(_with_standard_verifier(name, raw))
    if spec.item_id is not None and spec.batch is None:
        raise SpecError("item_id", "only a batch spec has per-item ids (set batch)")
    user_keys, default_keys = _allowed_keys()
    _check_keys("userProperties", spec.userProperties, user_keys, "identities go under identity, consent under consent")
    _check_keys("defaultProperties", spec.defaultProperties, default_keys, "received_at is Ours's own")
    ident = spec.id
    handshake = spec.handshake
    identity = {IDENTITY[k]: compile_path(f"identity.{k}", v) for k, v in spec.identity if v is not None}
    return Compiled(
        name=name,
        spec=spec,
        verifier=make_verifier(spec.verifier),
        event_type=compile_path("event_type.path", spec.event_type.path) if spec.event_type.path else None,
        id_path=compile_path("id.path", ident.path) if ident and ident.path else None,
        batch=compile_path("batch", spec.batch) if spec.batch is not None else None,
        item_id=compile_path("item_id", spec.item_id) if spec.item_id is not None else None,
        time=compile_path("time.path", spec.time.path) if spec.time else None,
        handshake_when=compile_path("handshake.when", handshake.when) if handshake else None,
        handshake_body=_paths("handshake.body", handshake.body) if handshake else {},
        identity=identity,
        user_properties=_paths("userProperties", spec.userProperties),
        event_properties=_paths("eventProperties", spec.eventProperties),
        default_properties=_paths("defaultProperties", spec.defaultProperties),
        consent=_paths("consent", spec.consent),
        filters=tuple((compile_path(f"filters[{i}].when", f.when), f.reason) for i, f in enumerate(spec.filters)),
    )
