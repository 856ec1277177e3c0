"""Configuration: the environment, read once into one validated model.

The rest of the package never reads ``os.environ``: it takes a :class:`Settings`
(production code calls :func:`settings`, tests build their own).

=========================  ========================================================  ==========
variable                   meaning                                                   default
=========================  ========================================================  ==========
``QUEUE_URL``              the webhook queue (receiver sends, forwarder re-times)    required*
``DLQ_URL``                the dead-letter queue (forwarder sends permanent ones)    required*
``SECRET_ID``              name or ARN of the secret document                        required
``OURS_API_URL``           Ours ingest base URL                                      Ours prod
``MAX_BODY_BYTES``         largest webhook body accepted (413 above)                 1040384
``SECRET_MAX_AGE``         seconds the secret document is cached                     300
``MAX_RECEIVE_COUNT``      the queue's ``maxReceiveCount``: poison-message backstop  200
``OUTAGE_BUDGET_SECONDS``  how long a retryable failure is retried (from 1st queue)  86400
``AUTH_GRACE_SECONDS``     how long a token Ours refuses (after a re-read) is retried 900
``QUEUE_RETENTION_SECONDS`` the queue's retention: no retry is planned past it       345600
``RETRY_MAX_DELAY``        cap of the retry backoff, seconds                         600
``STALE_EVENT_POLICY``     ``dlq`` or ``send_without_time`` for events > 7 days old  ``dlq``
``OURS_CONNECT_TIMEOUT``   seconds                                                   3.05
``OURS_READ_TIMEOUT``      seconds                                                   5
``PROVIDER_CONNECT_TIMEOUT`` the fetch step's provider API calls, seconds           3.05
``PROVIDER_READ_TIMEOUT``  (idem)                                                    5
``FORWARD_CONCURRENCY``    parallel Ours calls per batch                             10
``OURS_BATCH_ROWS``        most events in one ``/batch`` call (a 413 splits further)   100
``TRANSLATOR_CONFIG``      the translator configuration document, inline JSON        ``{}``
``TRANSLATOR_CONFIG_FILE`` … or a path to it (deployed with the functions)           unset
``TRANSLATOR_CONFIG_PARAMETER`` … or the SSM parameter holding it (read at init)     unset
=========================  ========================================================  ==========

(*) each function needs the queue URLs it uses. At most one of the three ``TRANSLATOR_CONFIG*``
variables may be set; :mod:`webhook_translator.translator_config` reads and validates the document.

Delivery (the forwarder): a retryable failure is retried until ``OUTAGE_BUDGET_SECONDS`` have
passed since the webhook was first queued (or last re-driven), with a backoff growing to
``RETRY_MAX_DELAY``; ``MAX_RECEIVE_COUNT`` only stops a poison message and must leave room for the
whole budget at the cap (``MAX_RECEIVE_COUNT x RETRY_MAX_DELAY >= OUTAGE_BUDGET_SECONDS``, checked
when the forwarder starts). The budget must end before the queue's retention does.

Logging, metrics and tracing (:class:`Telemetry`, read apart from :class:`Settings` so that a
misconfigured function still logs why): ``POWERTOOLS_SERVICE_NAME`` (``webhook-translator``),
``POWERTOOLS_METRICS_NAMESPACE`` (``WebhookTranslator``), ``POWERTOOLS_TRACE_DISABLED``
(tracing only when explicitly ``false``/``0``). Powertools reads its other variables itself.

The Ours client reads no proxy, ``.netrc`` or CA-bundle variables (its session has
``trust_env`` off: no per-call environment scan); Ours is reached directly.

``TRANSLATOR_CONFIG`` — change behaviour without code::

    {"sources": {
        "stripe":   {"rename": {"invoice.paid": "Subscription Payment"},
                     "drop": ["charge.refunded"],
                     "options": {"external_id_metadata_key": "user_id"}},
        "webflow":  {"options": {"synonyms": {"email": ["work email"]},
                                 "forms": {"<formId>": {"synonyms": {"first_name": ["vorname"]}}}}}}}

``rename`` maps a provider event type (or the Ours event name) to another Ours
event name; ``drop`` lists provider event types to acknowledge and skip;
``options`` is handed to the source's mapper; ``spec`` describes a declarative source
(docs/custom-sources.md). Keys must be unique in every object of the document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

DEFAULT_OURS_API_URL = "https://api.oursprivacy.com/api/v1"
#: SQS takes 1 MiB (1,048,576 bytes) per message, body and attributes together; 8 KiB is kept for
#: the envelope's fields and the message attributes. A body is queued as JSON-escaped text, or
#: compressed (gzip + base64) when that would not fit: a body that fits neither is refused with 413.
DEFAULT_MAX_BODY_BYTES = 1_040_384


class SourceConfig(BaseModel):
    """Per-source behaviour that can change without code."""

    model_config = ConfigDict(extra="forbid")

    rename: dict[str, str] = Field(default_factory=dict)
    drop: frozenset[str] = frozenset()
    options: dict[str, Any] = Field(default_factory=dict)
    #: a declarative source (its name is the entry's), or the payload mapping of ``standard-webhooks``
    spec: dict[str, Any] | None = None


class InvalidConfiguration(RuntimeError):
    """Configuration a function must not start with: the message is one line naming every fault."""

    def __init__(self, message: str, faults: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.faults = faults or (message,)


class _DuplicateKey(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(f"the key {key[:64]!r} appears twice in one object")
        seen[key] = value
    return seen


def loads_unique(text: str) -> Any:
    """JSON whose objects have unique keys (``json.loads`` keeps the last of two silently); ValueError."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKey:
        raise
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None


class TranslatorConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: dict[str, SourceConfig] = Field(default_factory=dict)

    def source(self, name: str) -> SourceConfig:
        return self.sources.get(name) or SourceConfig()


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    queue_url: str | None = Field(default=None, alias="QUEUE_URL")
    dlq_url: str | None = Field(default=None, alias="DLQ_URL")
    secret_id: str | None = Field(default=None, alias="SECRET_ID")
    ours_api_url: str = Field(default=DEFAULT_OURS_API_URL, alias="OURS_API_URL")
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, alias="MAX_BODY_BYTES", gt=0, le=DEFAULT_MAX_BODY_BYTES)
    secret_max_age: int = Field(default=300, alias="SECRET_MAX_AGE", ge=0)
    max_receive_count: int = Field(default=200, alias="MAX_RECEIVE_COUNT", ge=1, le=1000)
    outage_budget_seconds: int = Field(default=86_400, alias="OUTAGE_BUDGET_SECONDS", ge=60, le=1_209_600)
    auth_grace_seconds: int = Field(default=900, alias="AUTH_GRACE_SECONDS", ge=0, le=86_400)
    queue_retention_seconds: int = Field(default=345_600, alias="QUEUE_RETENTION_SECONDS", ge=60, le=1_209_600)
    retry_max_delay: int = Field(default=600, alias="RETRY_MAX_DELAY", ge=1, le=43_200)
    stale_event_policy: Literal["dlq", "send_without_time"] = Field(default="dlq", alias="STALE_EVENT_POLICY")
    ours_connect_timeout: float = Field(default=3.05, alias="OURS_CONNECT_TIMEOUT", gt=0)
    #: short enough that a 401 → re-read → resend fits the forwarder's 30 s; a timeout is retried (same distinctId)
    ours_read_timeout: float = Field(default=5.0, alias="OURS_READ_TIMEOUT", gt=0)
    #: the fetch step's provider API calls (Graph, Acuity…): a timeout is retried like an Ours timeout
    provider_connect_timeout: float = Field(default=3.05, alias="PROVIDER_CONNECT_TIMEOUT", gt=0)
    provider_read_timeout: float = Field(default=5.0, alias="PROVIDER_READ_TIMEOUT", gt=0)
    forward_concurrency: int = Field(default=10, alias="FORWARD_CONCURRENCY", ge=1, le=64)
    ours_batch_rows: int = Field(default=100, alias="OURS_BATCH_ROWS", ge=1, le=1000)
    translator_config: TranslatorConfig = Field(default_factory=TranslatorConfig, alias="TRANSLATOR_CONFIG")
    #: the sources the receiver answers for (comma-separated); unset: every registered source. Any other
    #: source answers 404 unknown_source before the secret is read (a scanner's probe is no 503)
    enabled_sources: frozenset[str] | None = Field(default=None, alias="ENABLED_SOURCES")

    @field_validator("enabled_sources", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(name for name in value.replace(",", " ").split() if name)
        return value

    translator_config_file: str | None = Field(default=None, alias="TRANSLATOR_CONFIG_FILE")
    translator_config_parameter: str | None = Field(default=None, alias="TRANSLATOR_CONFIG_PARAMETER")

    @field_validator("translator_config", mode="before")
    @classmethod
    def _parse_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            return loads_unique(value or "{}")
        return value

    @model_validator(mode="after")
    def _one_document(self) -> Settings:
        given = ["TRANSLATOR_CONFIG"] if self.translator_config != TranslatorConfig() else []
        given += ["TRANSLATOR_CONFIG_FILE"] if self.translator_config_file else []
        given += ["TRANSLATOR_CONFIG_PARAMETER"] if self.translator_config_parameter else []
        if len(given) > 1:
            raise ValueError(f"set only one of {', '.join(given)} (one translator configuration document)")
        return self

    @field_validator("ours_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        try:
            return cls.model_validate({k: v for k, v in env.items() if v != ""})
        except ValidationError as exc:
            faults = tuple(
                f"{'.'.join(str(p) for p in e['loc']) or 'environment'}: {e['msg'].removeprefix('Value error, ')}"
                for e in exc.errors(include_input=False)
            )
            raise InvalidConfiguration(f"invalid configuration: {'; '.join(faults)}", faults) from None


@lru_cache(maxsize=1)
def settings() -> Settings:
    """The process's settings, read from the environment once."""
    return Settings.from_env()


@dataclass(frozen=True)
class Telemetry:
    """The names logs and metrics go under, and whether tracing is on (no validation: never fails)."""

    service: str = "webhook-translator"
    namespace: str = "WebhookTranslator"
    tracing: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Telemetry:
        env = os.environ if environ is None else environ
        return cls(
            service=env.get("POWERTOOLS_SERVICE_NAME", cls.service),
            namespace=env.get("POWERTOOLS_METRICS_NAMESPACE", cls.namespace),
            tracing=env.get("POWERTOOLS_TRACE_DISABLED", "true").lower() in ("false", "0"),
        )


@lru_cache(maxsize=1)
def telemetry() -> Telemetry:
    """The process's telemetry names, read from the environment once."""
    return Telemetry.from_env()
