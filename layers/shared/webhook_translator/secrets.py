"""The secret document: signing secrets per source and the Ours token(s).

One JSON document in Secrets Manager (its name or ARN is ``Settings.secret_id``)::

    {"ours_token": "<Ours token>",
     "sources": {"stripe":   {"signing_secrets": ["whsec_..."], "ours_token": "<optional per-source token>"},
                 "typeform": {"signing_secrets": ["..."]}}}

:class:`SecretStore` reads it through Powertools' ``SecretsProvider`` and caches it
for ``max_age`` seconds; ``force=True`` re-reads it (the forwarder does so once
when Ours answers 401, in case the token was rotated). :class:`StaticSecrets`
serves an in-memory document (the CLI's ``translate``/``sign``, unit tests).

Every failure to read or parse the document is a :class:`ConfigurationError`
whose message names the problem (which secret, which key, which rule) and never
carries secret material: not the document, not a value, not the AWS error text.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from webhook_translator import fields as check
from webhook_translator.errors import ConfigurationError
from webhook_translator.fields import Invalid

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_secretsmanager import SecretsManagerClient

    from webhook_translator.config import Settings

__all__ = ["SecretDocument", "SecretSource", "SecretStore", "SourceSecrets", "StaticSecrets"]


def _clean_secret(value: Any, loc: check.Loc) -> str:
    """Secrets are pasted by hand: a trailing newline is a typo, an empty string a mistake."""
    stripped = check.text(value, loc).strip()
    if not stripped:
        raise check.fault(loc, "Value error, must not be empty")
    return stripped


def _optional_secret(value: Any, loc: check.Loc) -> str | None:
    return None if value is None else _clean_secret(value, loc)


def _secret_list(value: Any, loc: check.Loc) -> list[str]:
    if not isinstance(value, list):
        raise check.fault(loc, "Input should be a valid list")
    return check.each(enumerate(value), loc, _clean_secret)


@dataclass(frozen=True)
class SourceSecrets:
    """One source's entry: the signing secrets (any one may match, for rotation), an optional Ours token,
    and for a source that fetches from its provider (the fetch step) its API credential
    (``api_token``, with ``api_user`` for Basic auth) and Meta's GET-handshake ``verify_token``."""

    signing_secrets: list[str] = field(default_factory=list)
    ours_token: str | None = None
    api_token: str | None = None
    api_user: str | None = None
    verify_token: str | None = None

    @classmethod
    def model_validate(cls, data: Any, loc: check.Loc = ()) -> SourceSecrets:
        return cls(**check.object_fields(data, loc, "SourceSecrets", _ENTRY))


_ENTRY: Mapping[str, check.Parser] = {
    "signing_secrets": _secret_list,
    "ours_token": _optional_secret,
    "api_token": _optional_secret,
    "api_user": _optional_secret,
    "verify_token": _optional_secret,
}


def _entries(value: Any, loc: check.Loc) -> dict[str, SourceSecrets]:
    if not isinstance(value, dict):
        raise check.fault(loc, "Input should be a valid dictionary")
    return dict(zip(value, check.each(value.items(), loc, SourceSecrets.model_validate), strict=True))


_DOCUMENT: Mapping[str, check.Parser] = {"ours_token": _optional_secret, "sources": _entries}


@dataclass(frozen=True)
class SecretDocument:
    """The whole secret: a default Ours token and the per-source entries."""

    ours_token: str | None = None
    sources: dict[str, SourceSecrets] = field(default_factory=dict)

    @classmethod
    def model_validate(cls, data: Any) -> SecretDocument:
        """The document from parsed JSON; :class:`~webhook_translator.fields.Invalid` names every fault."""
        return cls(**check.object_fields(data, (), "SecretDocument", _DOCUMENT))

    @classmethod
    def parse(cls, text: str | bytes | Mapping[str, Any], *, name: str = "the secret") -> SecretDocument:
        """Parse and validate a document; :class:`ConfigurationError` names what is wrong, never a value."""
        data: Any
        if isinstance(text, Mapping):
            data = dict(text)
        else:
            try:
                data = json.loads(text)
            except UnicodeDecodeError:
                raise ConfigurationError(f"{name} is not UTF-8 text") from None
            except json.JSONDecodeError as exc:
                # position only: the decoder's message never quotes the document
                raise ConfigurationError(f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno})") from None
        if not isinstance(data, dict):
            raise ConfigurationError(f"{name} must be a JSON object, not {_json_kind(data)}")
        try:
            return cls.model_validate(data)
        except Invalid as exc:
            problems = "; ".join(f"{err.where or '(document)'}: {err.msg}" for err in exc.errors)
            raise ConfigurationError(f"{name} is invalid: {problems}") from None

    def signing_secrets_for(self, source: str) -> list[str]:
        """The source's signing secrets; ``[]`` if it has none."""
        entry = self.sources.get(source)
        return list(entry.signing_secrets) if entry else []

    def entry(self, source: str) -> SourceSecrets:
        """The source's entry (an empty one when the document has none)."""
        return self.sources.get(source) or SourceSecrets()

    def token_for(self, source: str) -> str:
        """The source's own token if it has one, else the default; :class:`ConfigurationError` if neither."""
        entry = self.sources.get(source)
        token = (entry.ours_token if entry else None) or self.ours_token
        if token is None:
            raise ConfigurationError(
                f"no Ours token for source {source!r}: set 'ours_token' in the secret "
                f"(top level, or under sources.{source})"
            )
        return token


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else kinds.get(type(value), "another JSON value")


class SecretSource(Protocol):
    """What the receiver, the forwarder and the Ours client need from the secret."""

    def document(self, *, force: bool = False) -> SecretDocument: ...

    def signing_secrets(self, source: str) -> list[str]: ...

    def ours_token(self, source: str, *, force: bool = False) -> str: ...


class SecretStore:
    """The secret document from Secrets Manager, cached for ``max_age`` seconds.

    Nothing talks to AWS until the first read: the Powertools provider (and its
    boto3 client) is created then, so importing or constructing this costs no
    cold-start time. Pass ``client`` (a boto3 Secrets Manager client) or
    ``provider`` to control where it reads from.
    """

    def __init__(
        self,
        secret_id: str,
        *,
        provider: SecretsProvider | None = None,
        max_age: int = 300,
        client: SecretsManagerClient | None = None,
    ) -> None:
        if not secret_id or not secret_id.strip():
            raise ConfigurationError("no secret id configured (SECRET_ID)")
        if max_age < 0:
            raise ValueError("max_age must be >= 0")
        self.secret_id = secret_id
        self.max_age = max_age
        self._provider = provider
        self._client = client
        self._lock = threading.Lock()
        self._raw: str | bytes | None = None
        self._document: SecretDocument | None = None
        #: monotonic time at which the last forced read started (to coalesce concurrent re-reads)
        self._forced_at: float | None = None

    def _get_provider(self) -> SecretsProvider:
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._provider = SecretsProvider(boto3_client=self._client)
        return self._provider

    def _fetch(self, *, force: bool) -> str | bytes:
        from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

        try:
            value = self._get_provider().get(self.secret_id, max_age=self.max_age, force_fetch=force)
        except GetParameterError as exc:
            raise ConfigurationError(f"cannot read secret {self.secret_id!r} ({_aws_error_code(exc)})") from None
        except Exception as exc:  # botocore's own errors (no credentials, no region…) before the call
            raise ConfigurationError(f"cannot read secret {self.secret_id!r} ({type(exc).__name__})") from None
        if not isinstance(value, str | bytes):
            raise ConfigurationError(f"secret {self.secret_id!r} has no string or binary value")
        return value

    def document(self, *, force: bool = False) -> SecretDocument:
        """The parsed document; ``force=True`` re-reads it from Secrets Manager (after a rotation)."""
        asked = time.monotonic()
        with self._lock:
            if force and self._forced_at is not None and self._forced_at >= asked:
                # another thread re-read it while this one waited: that read is fresh enough
                force = False
            if force:
                self._forced_at = time.monotonic()
            raw = self._fetch(force=force)
            if self._document is None or (raw is not self._raw and raw != self._raw):
                self._document = SecretDocument.parse(raw, name=f"secret {self.secret_id!r}")
                self._raw = raw
            return self._document

    def signing_secrets(self, source: str) -> list[str]:
        """The source's signing secrets (any one may match); ``[]`` if the source has none."""
        return self.document().signing_secrets_for(source)

    def verify_token(self, source: str) -> str | None:
        """The source's GET-handshake verify token (Meta's ``hub.verify_token``); None if it has none."""
        return self.document().entry(source).verify_token

    def ours_token(self, source: str, *, force: bool = False) -> str:
        """The Ours token for ``source``: its own if set, else the default. ``force`` re-reads the secret."""
        return self.document(force=force).token_for(source)

    def clear_cache(self) -> None:
        """Forget the cached document (tests; Powertools' ``clear_caches()`` for the provider's own cache)."""
        with self._lock:
            self._raw = None
            self._document = None
            if self._provider is not None:
                self._provider.clear_cache()  # type: ignore[no-untyped-call]


def _aws_error_code(exc: BaseException) -> str:
    """The AWS error code behind a Powertools error (``ResourceNotFoundException``…), never its message."""
    cause = exc.__cause__ or exc.__context__
    response = getattr(cause, "response", None)
    if isinstance(response, Mapping):
        code = response.get("Error", {}).get("Code")
        if isinstance(code, str) and code:
            return code
    return type(cause).__name__ if cause is not None else "unknown error"


class StaticSecrets:
    """The same interface over an in-memory document (the CLI's ``translate``/``sign``, unit tests)."""

    def __init__(self, document: SecretDocument | Mapping[str, Any] | str | bytes | None = None) -> None:
        if document is None:
            document = SecretDocument()
        elif not isinstance(document, SecretDocument):
            document = SecretDocument.parse(document)
        self._document = document

    def document(self, *, force: bool = False) -> SecretDocument:
        return self._document

    def signing_secrets(self, source: str) -> list[str]:
        return self._document.signing_secrets_for(source)

    def verify_token(self, source: str) -> str | None:
        return self._document.entry(source).verify_token

    def ours_token(self, source: str, *, force: bool = False) -> str:
        return self._document.token_for(source)


def store_from_settings(config: Settings) -> SecretStore:
    """The Lambda functions' secret store: ``SECRET_ID``, cached ``SECRET_MAX_AGE`` seconds, a client with timeouts."""
    from webhook_translator.aws import secrets_client

    if not config.secret_id:
        raise RuntimeError("SECRET_ID is not set")
    return SecretStore(config.secret_id, max_age=config.secret_max_age, client=secrets_client())
