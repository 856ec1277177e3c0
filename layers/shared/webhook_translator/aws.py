"""boto3 clients with timeouts that fit inside a Lambda invocation.

boto3's defaults (60 s connect and read, several retries) can outlast the
functions' 10 s and 30 s timeouts; these clients fail fast instead, so that the
typed error paths (503 to the provider, retry on the queue) run.

The sizing: an SQS or Secrets Manager call normally answers in tens of milliseconds.
Each client waits at most :data:`CONNECT_TIMEOUT` to connect and :data:`READ_TIMEOUT` for
an answer, and tries :data:`MAX_ATTEMPTS` times in all (botocore's standard mode waits
at most 50 ms between them for a non-throttling error): a hanging service costs at most
about 3 s (connect) or 3 s (read) per call. The receiver makes at most two such calls in
a row (the secret, when its cache has expired, then the queue): about 6 s in the worst
case, inside its 10 s timeout, so the provider gets the designed 503 and not a gateway error
(``tests/integration/test_receiver_hangs.py`` measures it against a hanging endpoint). boto3 is
imported here, lazily: the package imports without it (the CLI, the tests).
The clients are created in the Lambda's init phase, which runs at full CPU
whatever the memory size: each handler module calls :func:`at_init` with its
builder (``default_receiver``, ``default_forwarder``) once, at import. The
cyclic garbage collector is paused while it builds and the objects of the init
are frozen after it (see :func:`at_init`).
boto3 honours ``AWS_ENDPOINT_URL``, so the same clients talk to moto's server locally.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient


#: seconds to open a connection to SQS / Secrets Manager
CONNECT_TIMEOUT: Final = 1.0
#: seconds to wait for an answer
READ_TIMEOUT: Final = 1.5
#: tries per call, the first one included
MAX_ATTEMPTS: Final = 2


def _config() -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        # total_max_attempts counts the first try; botocore's max_attempts would not
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )


def sqs_client() -> SQSClient:
    import boto3

    return boto3.client("sqs", config=_config())


def secrets_client() -> SecretsManagerClient:
    import boto3

    return boto3.client("secretsmanager", config=_config())


def ssm_client() -> SSMClient:
    import boto3

    return boto3.client("ssm", config=_config())


def at_init(build: Callable[[], object]) -> bool:
    """Build a function's pipeline (and its boto3 clients) now, in Lambda's init phase; True when built.

    Invalid configuration — a malformed variable, a translator configuration document that
    does not validate — fails the init here, with the one-line reason (Lambda reports it as
    the init error; no webhook is taken and then dead-lettered). Where only the environment
    does not allow building yet — a test importing the handler without AWS — nothing is kept:
    the builder is cached only on success, so the first invocation calls it again and fails
    there, loudly, with the reason.

    botocore's service models are hundreds of thousands of objects, all alive for the container's
    life: without a pause, loading them sets off a full collection that walks the whole heap (the
    imports' objects too) and finds next to nothing to free. So the cyclic collector is paused while
    ``build`` runs, and what the init made is then frozen (``gc.freeze``: the later collections
    leave it alone, the first invocation's included); reference counting frees as usual throughout.
    """
    from webhook_translator.config import InvalidConfiguration

    collecting = gc.isenabled()
    gc.disable()
    try:
        build()
    except InvalidConfiguration:
        raise
    except Exception:  # deferred to the first invocation, which raises it
        return False
    finally:
        if collecting:
            gc.freeze()
            gc.enable()
    return True
