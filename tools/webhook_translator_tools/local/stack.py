"""The whole pipeline on this machine (``webhook-translator serve``).

::

    HTTP  ──▶ ReceiverServer (payload-2.0 events) ──▶ functions/receiver/app.py
                                                            │ SQS (moto server)
    SqsPoller (Lambda's event source mapping) ◀─────────────┘
          │
          └──▶ functions/forwarder/app.py ──▶ Ours (LocalOurs, or --ours-url) / the DLQ (moto)

moto's server runs in this process on ``127.0.0.1:<aws port>`` and holds the
queue, its DLQ (the template's redrive policy) and the secret. The two
functions are the real Lambda entry points; they reach moto the way they reach
AWS — boto3 honours ``AWS_ENDPOINT_URL`` — so their environment is set before
they are imported. Everything is started by :meth:`LocalStack.start` and stopped
by :meth:`LocalStack.stop`.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shlex
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from webhook_translator.config import Settings
from webhook_translator.secrets import SecretDocument
from webhook_translator_tools.local.apigw import ReceiverServer
from webhook_translator_tools.local.console import Console, PipelineLogHandler
from webhook_translator_tools.local.functions import LocalFunction
from webhook_translator_tools.local.pipeline_log import LOG_ENV, JsonRecordHandler, PipelineLog
from webhook_translator_tools.local.poller import BATCH_SIZE, BATCHING_WINDOW, SqsPoller
from webhook_translator_tools.local.threads import ServerThread

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from webhook_translator_tools.local.ours_server import LocalOurs
    from webhook_translator_tools.local.platform_server import LocalPlatform
    from webhook_translator_tools.local.provider_server import LocalProviderApi

__all__ = [
    "DEFAULT_AWS_PORT",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEV_SECRETS",
    "FAKE_AWS",
    "LocalStack",
    "PortInUse",
    "StackOptions",
]

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 3000
DEFAULT_AWS_PORT: Final = 5001
AWS_HOST: Final = "127.0.0.1"
QUEUE_NAME: Final = "webhook-translator-webhooks"
DLQ_NAME: Final = "webhook-translator-webhooks-dlq"
SECRET_NAME: Final = "webhook-translator/local"
#: the template's queue hides a message for 180 s (6 x the function timeout); locally a message whose
#: visibility the forwarder did not set (a crash) comes back within seconds instead
LOCAL_VISIBILITY_TIMEOUT: Final = 15
#: the template's default redrive maxReceiveCount (MAX_RECEIVE_COUNT overrides it, as the parameter does):
#: the poison-message backstop, sized above the outage budget like the forwarder's own default
DEFAULT_MAX_RECEIVE_COUNT: Final = int(Settings.model_fields["max_receive_count"].default)
#: moto accepts any credentials; these make boto3 sign requests without an AWS account
FAKE_AWS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
#: environment that would send boto3 elsewhere than moto (a profile, a session, per-service endpoints)
_CLEARED_ENV: Final = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL_SQS",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
)
DEV_SECRETS: Final = Path(__file__).with_name("dev-secrets.json")


class PortInUse(Exception):
    """A port ``serve`` needs is taken (the message names it and what to do)."""


@dataclass(frozen=True)
class StackOptions:
    functions_dir: Path
    #: the secret document's text, stored in Secrets Manager as it is
    secret_text: str
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    aws_port: int = DEFAULT_AWS_PORT
    #: an Ours to deliver to; None starts the local one
    ours_url: str | None = None
    max_receive_count: int = DEFAULT_MAX_RECEIVE_COUNT
    visibility_timeout: int = LOCAL_VISIBILITY_TIMEOUT
    #: the event source mapping's BatchSize and MaximumBatchingWindowInSeconds (the template's defaults)
    batch_size: int = BATCH_SIZE
    batching_window: float = BATCHING_WINDOW
    region: str = FAKE_AWS["AWS_DEFAULT_REGION"]
    #: where the pipeline log goes (``pipeline-<port>.jsonl``, for ``status`` and ``find``); None: no log
    state_dir: Path | None = None


#: the ``make run`` variable behind each of serve's port flags
MAKE_VARIABLES: Final = {"--port": "PORT", "--aws-port": "AWS_PORT"}


def _bind_error(exc: OSError, host: str, port: int, what: str, flag: str) -> PortInUse:
    make = f"make run {MAKE_VARIABLES[flag]}=N"
    if exc.errno == errno.EADDRINUSE:
        return PortInUse(
            f"port {port} on {host} is already in use ({what}): stop what uses it or pass {flag} N ({make})"
        )
    if exc.errno == errno.EACCES:
        return PortInUse(f"port {port} on {host} needs privileges ({what}): pass {flag} N with N >= 1024 ({make})")
    detail = exc.strerror or type(exc).__name__
    return PortInUse(f"cannot listen on {host}:{port} ({what}): {detail}; check --host and {flag}")


class _MotoServer:
    """moto's server, run the way ``moto.server.ThreadedMotoServer`` runs it (moto's WSGI app behind
    werkzeug, in a thread), except that the socket is bound here, in the caller's thread.

    (``ThreadedMotoServer.start`` binds inside its thread and waits forever when the port is taken, and
    werkzeug's own bind prints to stderr and calls ``sys.exit(1)``: a busy port must be a clean error.)
    """

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import BaseWSGIServer, make_server

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(128)
            app = DomainDispatcherApplication(create_backend_app)
            self._server: BaseWSGIServer = make_server(
                host, port, app, True, request_handler=MotoRequestHandler, fd=sock.fileno()
            )
        finally:
            sock.close()  # the server holds its own duplicate of the socket
        self._runner = ServerThread(self._server, "moto")

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._runner.start()

    def stop(self) -> None:
        self._runner.stop()


class LocalStack:
    """Receiver HTTP server + moto (SQS, DLQ, Secrets Manager) + the forwarder's poller + a local Ours."""

    def __init__(self, options: StackOptions, console: Console | None = None) -> None:
        self.options = options
        self.console = console or Console()
        self.document = SecretDocument.parse(options.secret_text)
        self.queue_url = ""
        self.dlq_url = ""
        self.queue_arn = ""
        self.ours_url = options.ours_url or ""
        self.ours: LocalOurs | None = None
        #: the local Ours Platform API (allowlist, publishing) beside the local Ours; None with --ours-url
        self.platform: LocalPlatform | None = None
        #: the local provider API fakes of the fetch step, by source (the Graph API, Acuity)
        self.providers: dict[str, LocalProviderApi] = {}
        #: the api_base_url each fetching source uses under this stack (its fake's, or the configuration's)
        self.fetch_urls: dict[str, str] = {}
        self._receiver_server: ReceiverServer | None = None
        self._moto: _MotoServer | None = None
        self._receiver: LocalFunction | None = None
        self._forwarder: LocalFunction | None = None
        self._poller: SqsPoller | None = None
        self._sqs: SQSClient | None = None
        self._log_handler: PipelineLogHandler | None = None
        #: the functions' JSON log records and EMF metrics, as CloudWatch Logs would hold them
        self.pipeline_log: PipelineLog | None = None
        self._json_handler: logging.Handler | None = None

    # --- addresses -----------------------------------------------------------------------------

    @property
    def aws_endpoint(self) -> str:
        assert self._moto is not None
        return f"http://{AWS_HOST}:{self._moto.port}"

    @property
    def receiver_url(self) -> str:
        """The receiver's base URL as bound (``http://H:P``)."""
        assert self._receiver_server is not None
        return self._receiver_server.url

    @property
    def local_receiver_url(self) -> str:
        """The receiver's base URL as reachable from this machine (a wildcard host becomes loopback)."""
        assert self._receiver_server is not None
        host = self.options.host
        if host in ("", "0.0.0.0", "::"):  # noqa: S104 - a check, not a bind
            host = "127.0.0.1"
        host = host if ":" not in host else f"[{host}]"
        return f"http://{host}:{self._receiver_server.port}"

    def exports(self) -> str:
        """The shell line that points ``webhook-translator dlq`` (and the AWS CLI) at this stack."""
        values = {
            "QUEUE_URL": self.queue_url,
            "DLQ_URL": self.dlq_url,
            "AWS_ENDPOINT_URL": self.aws_endpoint,
            **FAKE_AWS,
        }
        values["AWS_DEFAULT_REGION"] = self.options.region
        if self.pipeline_log is not None:
            values[LOG_ENV] = str(self.pipeline_log.path)
        return "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in values.items())

    def platform_exports(self) -> str | None:
        """The shell line that points ``webhook-translator ours allowlist`` at the local Platform API."""
        if self.platform is None:
            return None
        from webhook_translator_tools.local.platform_server import DEV_API_KEY

        values = {"OURS_PLATFORM_URL": self.platform.url, "OURS_API_KEY": DEV_API_KEY}
        return "export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in values.items())

    # --- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start everything; on any failure, stop what was started and raise."""
        try:
            self._bind()
            self._start_aws()
            self._start_ours()
            self._start_providers()
            self._set_environment()
            self._point_at_providers()
            self._load_functions()
            self._start_serving()
        except BaseException:
            self.stop()
            raise

    def _bind(self) -> None:
        """Take both ports first, so that a busy port fails before anything else happens."""
        o = self.options
        try:
            self._receiver_server = ReceiverServer(o.host, o.port, self._invoke_receiver, console=self.console)
        except OSError as exc:
            raise _bind_error(exc, o.host, o.port, "the receiver", "--port") from None
        try:
            self._moto = _MotoServer(AWS_HOST, o.aws_port)
        except OSError as exc:
            raise _bind_error(exc, AWS_HOST, o.aws_port, "moto's AWS endpoint", "--aws-port") from None

    def _client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.aws_endpoint,
            region_name=self.options.region,
            aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
        )

    def _start_aws(self) -> None:
        assert self._moto is not None
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._moto.start()
        sqs: SQSClient = self._client("sqs")
        self.dlq_url = sqs.create_queue(QueueName=DLQ_NAME, Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)})[
            "QueueUrl"
        ]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=self.dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(self.options.max_receive_count)}
        self.queue_url = sqs.create_queue(
            QueueName=QUEUE_NAME,
            Attributes={
                "VisibilityTimeout": str(self.options.visibility_timeout),
                "MessageRetentionPeriod": str(4 * 24 * 3600),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]
        self.queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self._client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=self.options.secret_text)
        self._sqs = sqs

    def _start_ours(self) -> None:
        if self.options.ours_url:
            return
        from webhook_translator_tools.local.ours_server import LocalOurs

        tokens = {t for t in [self.document.ours_token, *(s.ours_token for s in self.document.sources.values())] if t}
        self.ours = LocalOurs("127.0.0.1", 0, tokens=tokens or None, echo=self.console.ours)
        self.ours.start()
        self.ours_url = self.ours.url
        from webhook_translator_tools.local.platform_server import LocalPlatform

        self.platform = LocalPlatform("127.0.0.1", 0, echo=self.console.ours).start()

    def _start_providers(self) -> None:
        """The fetch step's provider APIs on loopback, accepting the secret document's credentials."""
        from webhook_translator_tools.local.acuity_server import LocalAcuity
        from webhook_translator_tools.local.graph_server import LocalGraph

        meta, acuity = self.document.entry("facebook-leads"), self.document.entry("acuity")
        graph = LocalGraph(tokens={meta.api_token} if meta.api_token else None, echo=self.console.ours)
        pair = {(acuity.api_user, acuity.api_token)} if acuity.api_user and acuity.api_token else None
        local_acuity = LocalAcuity(credentials=pair, echo=self.console.ours)
        self.providers = {"facebook-leads": graph.start(), "acuity": local_acuity.start()}
        self._start_thin_providers()

    def _start_thin_providers(self) -> None:
        """HubSpot's CRM API (app subscriptions' contacts) and Stripe's API (thin events' objects)."""
        from webhook_translator_tools.local.hubspot_server import LocalHubSpot
        from webhook_translator_tools.local.stripe_server import LocalStripe

        hubspot, stripe = self.document.entry("hubspot").api_token, self.document.entry("stripe").api_token
        echo = self.console.ours
        self.providers["hubspot"] = LocalHubSpot(tokens={hubspot} if hubspot else None, echo=echo).start()
        self.providers["stripe"] = LocalStripe(keys={stripe} if stripe else None, echo=echo).start()

    def _point_at_providers(self) -> None:
        """Give each fetching source the local fake as its ``api_base_url`` unless the translator
        configuration sets one (``serve --config`` can point it elsewhere): the document the
        functions read becomes inline ``TRANSLATOR_CONFIG``, with only those options added."""
        from webhook_translator import translator_config
        from webhook_translator.config import Settings

        settings = Settings.from_env()
        if settings.translator_config_parameter:
            return  # read from the parameter store by the functions themselves: left as it is
        config = translator_config.read(settings)[1]
        for name, fake in self.providers.items():
            entry = config.source(name)
            if "api_base_url" not in entry.options:
                config.sources[name] = entry.model_copy(update={"options": {**entry.options, "api_base_url": fake.url}})
            self.fetch_urls[name] = str(config.source(name).options["api_base_url"])
        os.environ.pop("TRANSLATOR_CONFIG_FILE", None)
        os.environ["TRANSLATOR_CONFIG"] = config.model_dump_json(exclude_defaults=True)

    def _set_environment(self) -> None:
        """The functions' environment, as the template sets it, pointed at this stack. Before they are imported."""
        for name in _CLEARED_ENV:
            os.environ.pop(name, None)
        os.environ.update(
            {
                "QUEUE_URL": self.queue_url,
                "DLQ_URL": self.dlq_url,
                "SECRET_ID": SECRET_NAME,
                "OURS_API_URL": self.ours_url,
                "MAX_RECEIVE_COUNT": str(self.options.max_receive_count),
                "AWS_ENDPOINT_URL": self.aws_endpoint,
                "AWS_ACCESS_KEY_ID": FAKE_AWS["AWS_ACCESS_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
                "AWS_DEFAULT_REGION": self.options.region,
                "AWS_REGION": self.options.region,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
        )
        from webhook_translator.config import Telemetry

        # the names the functions' telemetry defaults to (the template sets the same)
        os.environ.setdefault("POWERTOOLS_SERVICE_NAME", Telemetry.service)
        os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", Telemetry.namespace)
        # a secret edited in moto is picked up within seconds
        os.environ.setdefault("SECRET_MAX_AGE", "5")

    def _load_functions(self) -> None:
        self._quiet_powertools()
        o = self.options
        self._receiver = LocalFunction.load(o.functions_dir, "receiver", region=o.region)
        self._forwarder = LocalFunction.load(o.functions_dir, "forwarder", region=o.region)

    def _quiet_powertools(self) -> None:
        """Print the pipeline's records as lines; Powertools' own JSON only at a level the user asked for."""
        from webhook_translator.observability import SERVICE, logger

        wanted = os.environ.get("POWERTOOLS_LOG_LEVEL") or os.environ.get("LOG_LEVEL")
        json_level = logging.getLevelName(wanted.upper()) if wanted else None
        if not isinstance(json_level, int):
            json_level = logging.CRITICAL + 1  # off
        logger.registered_handler.setLevel(json_level)
        pipeline = logging.getLogger(SERVICE)
        pipeline.setLevel(min(logging.INFO, json_level))
        self._log_handler = PipelineLogHandler(self.console)
        pipeline.addHandler(self._log_handler)
        self._open_pipeline_log(logger.registered_formatter)

    def _open_pipeline_log(self, formatter: logging.Formatter) -> None:
        """The functions' records and metrics into ``<state dir>/pipeline-<port>.jsonl`` (see :mod:`.pipeline_log`)."""
        if self.options.state_dir is None or self._receiver_server is None:
            return
        from webhook_translator.observability import SERVICE, metrics

        self.pipeline_log = PipelineLog(self.options.state_dir / f"pipeline-{self._receiver_server.port}.jsonl")
        self._json_handler = JsonRecordHandler(self.pipeline_log, formatter)
        logging.getLogger(SERVICE).addHandler(self._json_handler)
        metrics.sink = self.pipeline_log.write

    def _start_serving(self) -> None:
        assert self._receiver_server is not None
        assert self._forwarder is not None
        assert self._sqs is not None
        self._receiver_server.start()
        self._poller = SqsPoller(
            self._sqs,
            self.queue_url,
            self.queue_arn,
            self._forwarder.invoke,
            region=self.options.region,
            console=self.console,
            batch_size=self.options.batch_size,
            batching_window=self.options.batching_window,
        )
        self._poller.start()

    def _invoke_receiver(self, event: dict[str, Any]) -> Any:
        if self._receiver is None:
            raise RuntimeError("the receiver is not loaded yet")
        return self._receiver.invoke(event)

    def stop(self) -> None:
        """Stop whatever runs, in the order data flows (nothing new comes in, then the rest). Idempotent."""
        if self._receiver_server is not None:
            self._receiver_server.stop()
            self._receiver_server = None
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        if self.ours is not None:
            self.ours.stop()
        if self.platform is not None:
            self.platform.stop()
        for fake in self.providers.values():
            fake.stop()
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._log_handler is not None:
            from webhook_translator.observability import SERVICE

            logging.getLogger(SERVICE).removeHandler(self._log_handler)
            self._log_handler = None
        self._close_pipeline_log()

    def _close_pipeline_log(self) -> None:
        if self.pipeline_log is None:
            return
        from webhook_translator.observability import SERVICE, metrics

        if self._json_handler is not None:
            logging.getLogger(SERVICE).removeHandler(self._json_handler)
            self._json_handler = None
        metrics.flush()
        metrics.sink = None
        self.pipeline_log.close()
