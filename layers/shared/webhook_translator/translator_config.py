"""The translator configuration document: read, validated whole, and turned into the sources in force.

One document (DESIGN.md, "The translator configuration") holds per-source renames, drops,
options and declarative specs::

    {"sources": {
        "stripe": {"rename": {"invoice.paid": "Subscription Payment"}, "drop": ["charge.refunded"]},
        "acme":   {"spec": {"verifier": {...}, "events": {...}, "identity": {...}}}}}

It comes from exactly one of ``TRANSLATOR_CONFIG`` (inline JSON), ``TRANSLATOR_CONFIG_FILE``
(a path deployed with the functions) or ``TRANSLATOR_CONFIG_PARAMETER`` (an SSM parameter,
read once per container). :func:`load` validates all of it — JSON syntax, duplicate keys,
unknown keys, unknown sources, each source's options, each spec — and raises
:class:`ConfigInvalid` listing every fault, one line each; the functions call it in their init
phase, so a bad document fails the deployment's first cold start, not the first webhook.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from webhook_translator.config import InvalidConfiguration, Settings, TranslatorConfig, loads_unique
from webhook_translator.fields import EXTRA, Invalid

if TYPE_CHECKING:
    from webhook_translator.sources.base import Source

#: built-in sources that take a ``spec`` (their payload mapping); a spec elsewhere needs its own name
SPEC_HOSTS = frozenset({"standard-webhooks"})


class ConfigInvalid(InvalidConfiguration):
    """A translator configuration that cannot be used: every fault, one line each, and where it came from."""

    def __init__(self, origin: str, faults: list[str]) -> None:
        self.origin = origin
        where = f" ({origin})" if origin else ""
        super().__init__(f"invalid translator configuration{where}: " + "; ".join(faults), tuple(faults))


class Translation(NamedTuple):
    """The configuration in force and the registry it makes (built-in sources plus declarative ones)."""

    config: TranslatorConfig
    registry: Mapping[str, Source]
    origin: str = "defaults"


# --- reading ----------------------------------------------------------------------------------------


def _where(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(document)"


def parse(text: str | bytes, origin: str) -> TranslatorConfig:
    """The document's JSON, its keys unique and its shape valid; :class:`ConfigInvalid` otherwise."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigInvalid(origin, ["not UTF-8 text"]) from None
    try:
        data = loads_unique(text or "{}")
    except ValueError as exc:
        raise ConfigInvalid(origin, [str(exc)]) from None
    try:
        return TranslatorConfig.model_validate(data)
    except Invalid as exc:
        faults = [f"{_where(e.loc)}: {'unknown key' if e.msg == EXTRA else e.msg}" for e in exc.errors]
        raise ConfigInvalid(origin, faults) from None


def read(settings: Settings, *, ssm_get: Callable[[str], str] | None = None) -> tuple[str, TranslatorConfig]:
    """(origin, document) from whichever of the three places ``settings`` names."""
    if settings.translator_config_file:
        path = settings.translator_config_file
        origin = f"TRANSLATOR_CONFIG_FILE={path}"
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise ConfigInvalid(origin, [f"cannot read the file ({exc.strerror or type(exc).__name__})"]) from None
        return origin, parse(raw, origin)
    if settings.translator_config_parameter:
        name = settings.translator_config_parameter
        origin = f"TRANSLATOR_CONFIG_PARAMETER={name}"
        getter = ssm_get or ssm_parameter
        try:
            raw_text = getter(name)
        except Exception as exc:  # the parameter store's own error names only the parameter
            raise ConfigInvalid(origin, [f"cannot read the SSM parameter ({type(exc).__name__})"]) from None
        return origin, parse(raw_text, origin)
    if settings.translator_config != TranslatorConfig():
        return "TRANSLATOR_CONFIG", settings.translator_config
    return "defaults", settings.translator_config


def ssm_parameter(name: str) -> str:
    """An SSM parameter's value (a SecureString decrypted), read once, by the init, with short timeouts."""
    from webhook_translator.aws import ssm_client

    return ssm_client().get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


# --- the sources in force -----------------------------------------------------------------------------


class ConfiguredRegistry(Mapping[str, "Source"]):
    """The built-in sources with the configuration's declarative ones over them (looked up first)."""

    def __init__(self, base: Mapping[str, Source], specs: Mapping[str, Source]) -> None:
        self._base = base
        self._specs = dict(specs)

    def __getitem__(self, name: str) -> Source:
        made = self._specs.get(name)
        return made if made is not None else self._base[name]

    def __contains__(self, name: object) -> bool:
        return name in self._specs or name in self._base

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield from (name for name in self._specs if name not in self._base)

    def __len__(self) -> int:
        return len(self._base) + sum(1 for name in self._specs if name not in self._base)


def _compile_specs(config: TranslatorConfig, base: Mapping[str, Source], faults: list[str]) -> dict[str, Source]:
    specs = {name: entry.spec for name, entry in config.sources.items() if entry.spec is not None}
    if not specs:
        return {}
    from webhook_translator.spec import SpecError, compile_spec  # only a document with specs pays for it

    made: dict[str, Source] = {}
    for name, raw in sorted(specs.items()):
        if name in base and name not in SPEC_HOSTS:
            faults.append(f"sources.{name}.spec: {name!r} is a built-in source; give the declarative one its own name")
            continue
        try:
            made[name] = compile_spec(name, raw)
        except SpecError as exc:
            faults.append(f"sources.{name}.spec.{exc}")
    return made


def _check_options(config: TranslatorConfig, registry: Mapping[str, Source], faults: list[str]) -> None:
    for name, entry in sorted(config.sources.items()):
        source = registry.get(name)
        if source is None:
            if entry.spec is None:
                faults.append(f"sources.{name[:64]}: unknown source (known: {', '.join(sorted(registry))})")
            continue
        if not entry.options:
            continue  # every options model takes {} (its defaults): neither it nor pydantic is imported
        from pydantic import ValidationError

        try:
            source.options_model.model_validate(entry.options)
        except ValidationError as exc:
            fields = sorted({_where(e["loc"]) if e["loc"] else "options" for e in exc.errors()})
            faults.append(f"sources.{name}.options: invalid ({', '.join(fields)})")


def check(config: TranslatorConfig, registry: Mapping[str, Source], origin: str = "") -> None:
    """Every source ``config`` names is in ``registry`` (its specs compiled into it) with valid options."""
    faults = [
        f"sources.{name}.spec: not compiled into this registry (load the document with translator_config.load)"
        for name, entry in sorted(config.sources.items())
        if entry.spec is not None and name not in registry
    ]
    _check_options(config, registry, faults)
    if faults:
        raise ConfigInvalid(origin, faults)


def resolve(config: TranslatorConfig, base: Mapping[str, Source], origin: str = "defaults") -> Translation:
    """The registry ``config`` makes over ``base``, every source and option checked; :class:`ConfigInvalid`."""
    faults: list[str] = []
    specs = _compile_specs(config, base, faults)
    registry: Mapping[str, Source] = ConfiguredRegistry(base, specs) if specs else base
    _check_options(config, registry, faults)
    if faults:
        raise ConfigInvalid(origin, faults)
    return Translation(config=config, registry=registry, origin=origin)


def load(
    settings: Settings,
    *,
    base: Mapping[str, Source] | None = None,
    ssm_get: Callable[[str], str] | None = None,
) -> Translation:
    """Read and validate the configured document and make its registry (the functions' init calls this)."""
    if base is None:
        from webhook_translator.sources.registry import REGISTRY

        base = REGISTRY
    origin, config = read(settings, ssm_get=ssm_get)
    return resolve(config, base, origin)
