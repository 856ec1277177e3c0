"""What the commands share: the one-line error, reading files, finding sources, the secret documents."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from webhook_translator import translator_config
from webhook_translator.config import InvalidConfiguration, Settings
from webhook_translator.errors import ConfigurationError
from webhook_translator.secrets import SecretDocument
from webhook_translator.sources.base import Source
from webhook_translator.sources.registry import REGISTRY

__all__ = [
    "CONFIG_VARIABLES",
    "EXIT_ERROR",
    "EXIT_USAGE",
    "CliError",
    "add_config_argument",
    "configured",
    "dev_document",
    "env_settings",
    "find_source",
    "load_document",
    "parse_header",
    "read_bytes",
]

EXIT_ERROR: Final = 1
EXIT_USAGE: Final = 2


class CliError(Exception):
    """A failure the user can fix: printed as one line (what is wrong, what to do), then exit ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def find_source(name: str, registry: Mapping[str, Source] = REGISTRY) -> Source:
    source = registry.get(name)
    if source is None:
        known = ", ".join(sorted(registry)) or "none"
        raise CliError(f"unknown source {name[:64]!r}; known sources: {known} (see `webhook-translator sources`)")
    return source


def read_bytes(path: str | Path, what: str = "FILE") -> bytes:
    try:
        return Path(path).read_bytes()
    except IsADirectoryError:
        raise CliError(f"cannot read {what} {path}: it is a directory") from None
    except OSError as exc:
        raise CliError(f"cannot read {what} {path}: {exc.strerror or type(exc).__name__}") from None


def read_json(data: bytes) -> Any:
    """``data`` parsed as JSON, or ``None`` when it is not JSON (a raw body may be anything)."""
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None


def load_document(path: str | Path) -> tuple[SecretDocument, str]:
    """A secret document file, validated: (the document, its text as it will be stored)."""
    raw = read_bytes(path, "--secrets")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"--secrets {path} is not UTF-8 text") from None
    try:
        return SecretDocument.parse(text, name=f"--secrets {path}"), text
    except ConfigurationError as exc:
        raise CliError(f"{exc.message}; see the secret format in docs/cli.md") from None


def dev_document() -> tuple[SecretDocument, str]:
    """The development secret document shipped with the package (what ``serve`` uses by default)."""
    from webhook_translator_tools.local.stack import DEV_SECRETS

    return load_document(DEV_SECRETS)


#: where the functions read the translator configuration document from (one of them)
CONFIG_VARIABLES: Final = ("TRANSLATOR_CONFIG", "TRANSLATOR_CONFIG_FILE", "TRANSLATOR_CONFIG_PARAMETER")


def config_environ(config_file: str | None) -> dict[str, str]:
    """The environment the functions would see; with ``--config FILE``, that file is the document."""
    env = dict(os.environ)
    if config_file:
        for name in CONFIG_VARIABLES:
            env.pop(name, None)
        env["TRANSLATOR_CONFIG_FILE"] = str(Path(config_file).resolve())
    return env


def env_settings(config_file: str | None = None) -> Settings:
    """The configuration from the environment (``TRANSLATOR_CONFIG``…), as the functions read it."""
    try:
        return Settings.from_env(config_environ(config_file))
    except RuntimeError as exc:
        raise CliError(f"{exc}; fix the environment variable") from None


def add_config_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="the translator configuration document (renames, drops, options, declarative sources); "
        "default: TRANSLATOR_CONFIG, TRANSLATOR_CONFIG_FILE or TRANSLATOR_CONFIG_PARAMETER, as the functions read it",
    )


def configured(args: argparse.Namespace) -> tuple[Settings, translator_config.Translation]:
    """The settings and the sources in force for a command: ``--config FILE`` or the environment, validated
    exactly as the functions' init validates them (an invalid document is the command's one-line error)."""
    config_file = getattr(args, "config", None)
    if config_file and not Path(config_file).is_file():
        raise CliError(f"--config {config_file}: no such file")
    settings = env_settings(config_file)
    try:
        translation = translator_config.load(settings)
    except InvalidConfiguration as exc:
        hint = "run `webhook-translator config check FILE` for every fault" if config_file else "fix the document"
        raise CliError(f"{exc}; {hint}") from None
    return settings.model_copy(update={"translator_config": translation.config}), translation


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` → ``("name", "value")``."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
        raise CliError(f"--header {text[:60]!r} is not 'Name: value'", EXIT_USAGE)
    return name.strip().lower(), value.strip()
