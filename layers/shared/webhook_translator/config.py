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

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar, Literal, NamedTuple, cast

from webhook_translator import fields as check
from webhook_translator.document import SourceConfig as SourceConfig
from webhook_translator.document import TranslatorConfig as TranslatorConfig
from webhook_translator.document import cls_replace
from webhook_translator.document import loads_unique as loads_unique
from webhook_translator.fields import Fault, Invalid

DEFAULT_OURS_API_URL = "https://api.oursprivacy.com/api/v1"
#: SQS takes 1 MiB (1,048,576 bytes) per message, body and attributes together; 8 KiB is kept for
#: the envelope's fields and the message attributes. A body is queued as JSON-escaped text, or
#: compressed (gzip + base64) when that would not fit: a body that fits neither is refused with 413.
DEFAULT_MAX_BODY_BYTES = 1_040_384


class InvalidConfiguration(RuntimeError):
    """Configuration a function must not start with: the message is one line naming every fault."""

    def __init__(self, message: str, faults: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.faults = faults or (message,)


class SettingField(NamedTuple):
    """One variable of :class:`Settings`: its name in the environment, its default and its parser."""

    alias: str
    default: Any
    parse: Callable[[Any, check.Loc], Any]


def _optional(value: Any, loc: check.Loc) -> str | None:
    return check.optional_text(value, loc)


def _int(default: int, *, gt: int | None = None, ge: int | None = None, le: int | None = None) -> Any:
    def parse(value: Any, loc: check.Loc) -> int:
        number = check.integer(value, loc)
        check.bounded(number, loc, gt=gt, ge=ge, le=le)
        return number

    return default, parse


def _positive_float(default: float) -> Any:
    def parse(value: Any, loc: check.Loc) -> float:
        number = check.number(value, loc)
        check.bounded(number, loc, gt=0)
        return number

    return default, parse


def _translator_config(value: Any, loc: check.Loc) -> TranslatorConfig:
    if isinstance(value, str):
        try:
            value = loads_unique(value or "{}")
        except ValueError as exc:
            raise check.fault(loc, str(exc)) from None
    return TranslatorConfig.model_validate(value, loc)


def _names(value: Any, loc: check.Loc) -> frozenset[str] | None:
    if isinstance(value, str):
        return frozenset(name for name in value.replace(",", " ").split() if name)
    return None if value is None else check.text_set(value, loc)


def _url(value: Any, loc: check.Loc) -> str:
    return check.text(value, loc).rstrip("/")


def _policy(value: Any, loc: check.Loc) -> str:
    return check.one_of(value, loc, ("dlq", "send_without_time"))


_FIELDS: dict[str, tuple[str, tuple[Any, Callable[[Any, check.Loc], Any]]]] = {
    "queue_url": ("QUEUE_URL", (None, _optional)),
    "dlq_url": ("DLQ_URL", (None, _optional)),
    "secret_id": ("SECRET_ID", (None, _optional)),
    "ours_api_url": ("OURS_API_URL", (DEFAULT_OURS_API_URL, _url)),
    "max_body_bytes": ("MAX_BODY_BYTES", _int(DEFAULT_MAX_BODY_BYTES, gt=0, le=DEFAULT_MAX_BODY_BYTES)),
    "secret_max_age": ("SECRET_MAX_AGE", _int(300, ge=0)),
    "max_receive_count": ("MAX_RECEIVE_COUNT", _int(200, ge=1, le=1000)),
    "outage_budget_seconds": ("OUTAGE_BUDGET_SECONDS", _int(86_400, ge=60, le=1_209_600)),
    "auth_grace_seconds": ("AUTH_GRACE_SECONDS", _int(900, ge=0, le=86_400)),
    "queue_retention_seconds": ("QUEUE_RETENTION_SECONDS", _int(345_600, ge=60, le=1_209_600)),
    "retry_max_delay": ("RETRY_MAX_DELAY", _int(600, ge=1, le=43_200)),
    "stale_event_policy": ("STALE_EVENT_POLICY", ("dlq", _policy)),
    "ours_connect_timeout": ("OURS_CONNECT_TIMEOUT", _positive_float(3.05)),
    "ours_read_timeout": ("OURS_READ_TIMEOUT", _positive_float(5.0)),
    "provider_connect_timeout": ("PROVIDER_CONNECT_TIMEOUT", _positive_float(3.05)),
    "provider_read_timeout": ("PROVIDER_READ_TIMEOUT", _positive_float(5.0)),
    "forward_concurrency": ("FORWARD_CONCURRENCY", _int(10, ge=1, le=64)),
    "ours_batch_rows": ("OURS_BATCH_ROWS", _int(100, ge=1, le=1000)),
    "translator_config": ("TRANSLATOR_CONFIG", (None, _translator_config)),
    "enabled_sources": ("ENABLED_SOURCES", (None, _names)),
    "translator_config_file": ("TRANSLATOR_CONFIG_FILE", (None, _optional)),
    "translator_config_parameter": ("TRANSLATOR_CONFIG_PARAMETER", (None, _optional)),
}


class Settings:
    """The environment, validated: built from the variables' names (``QUEUE_URL=…``) or the attributes'.

    Read-only once built. A plain class, not a dataclass: a dataclass's generated methods cost the
    receiver's cold start about as much as the whole module otherwise does.
    """

    queue_url: str | None
    dlq_url: str | None
    secret_id: str | None
    ours_api_url: str
    max_body_bytes: int
    secret_max_age: int
    max_receive_count: int
    outage_budget_seconds: int
    auth_grace_seconds: int
    queue_retention_seconds: int
    retry_max_delay: int
    stale_event_policy: Literal["dlq", "send_without_time"]
    ours_connect_timeout: float
    #: short enough that a 401 → re-read → resend fits the forwarder's 30 s; a timeout is retried (same distinctId)
    ours_read_timeout: float
    #: the fetch step's provider API calls (Graph, Acuity…): a timeout is retried like an Ours timeout
    provider_connect_timeout: float
    provider_read_timeout: float
    forward_concurrency: int
    ours_batch_rows: int
    translator_config: TranslatorConfig
    #: the sources the receiver answers for (comma-separated); unset: every registered source. Any other
    #: source answers 404 unknown_source before the secret is read (a scanner's probe is no 503)
    enabled_sources: frozenset[str] | None
    translator_config_file: str | None
    translator_config_parameter: str | None

    #: every setting by attribute name: its variable (``alias``), its ``default`` and its parser
    model_fields: ClassVar[Mapping[str, SettingField]] = {
        name: SettingField(alias, default, parse) for name, (alias, (default, parse)) in _FIELDS.items()
    }

    def __init__(self, **values: Any) -> None:
        """Validate ``values`` (by variable or attribute name; others ignored); :class:`InvalidConfiguration`."""
        faults: list[Fault] = []
        for name, spec in self.model_fields.items():
            given = values.get(spec.alias, values.get(name, spec.default))
            try:
                value = spec.default if given is None and spec.default is None else spec.parse(given, (spec.alias,))
            except Invalid as exc:
                faults += exc.errors
                value = spec.default
            object.__setattr__(self, name, value)
        if self.translator_config is None:
            object.__setattr__(self, "translator_config", TranslatorConfig())
        if not faults:
            faults = self._one_document()
        if faults:
            lines = tuple(f"{f.where or 'environment'}: {f.msg}" for f in faults)
            raise InvalidConfiguration(f"invalid configuration: {'; '.join(lines)}", lines)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"settings are read-only ({name})")

    def __eq__(self, other: object) -> bool:
        return vars(self) == vars(other) if isinstance(other, Settings) else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Settings({', '.join(f'{name}={value!r}' for name, value in vars(self).items())})"

    def _one_document(self) -> list[Fault]:
        given = ["TRANSLATOR_CONFIG"] if self.translator_config != TranslatorConfig() else []
        given += ["TRANSLATOR_CONFIG_FILE"] if self.translator_config_file else []
        given += ["TRANSLATOR_CONFIG_PARAMETER"] if self.translator_config_parameter else []
        if len(given) > 1:
            return [Fault((), f"set only one of {', '.join(given)} (one translator configuration document)")]
        return []

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Settings:
        """A copy with some attributes changed (unchecked: the caller's values are already valid)."""
        return cast(Settings, cls_replace(self, update))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(**{k: v for k, v in env.items() if v != ""})


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
