"""The two Lambda functions, run in this process through the same entry points as on AWS.

``functions/receiver/app.py`` and ``functions/forwarder/app.py`` are loaded by
path (both are called ``app.py``, so each gets its own module name) and called
with a Lambda context object, one invocation at a time per function — as one
Lambda execution environment does.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Final

__all__ = ["FUNCTIONS", "LambdaContext", "LocalFunction", "find_functions_dir", "load_handler"]

#: function folder → (module name it is loaded as, the Lambda function name shown in logs)
FUNCTIONS: Final = {
    "receiver": ("webhook_translator_local_receiver_app", "webhook-translator-receiver"),
    "forwarder": ("webhook_translator_local_forwarder_app", "webhook-translator-forwarder"),
}
ACCOUNT_ID: Final = "123456789012"

Handler = Callable[[dict[str, Any], Any], Any]


class FunctionsNotFound(FileNotFoundError):
    """The ``functions/`` folder (with ``receiver/app.py`` and ``forwarder/app.py``) is not where it should be."""


def find_functions_dir(explicit: Path | None = None) -> Path:
    """The checkout's ``functions/`` folder: ``explicit``, else found from this package's path.

    The package lives at ``<repo>/tools/webhook_translator_tools``, so the folder is
    ``<repo>/functions``.
    """
    if explicit is not None:
        candidate = explicit
    else:
        import webhook_translator_tools

        candidate = Path(webhook_translator_tools.__file__).resolve().parents[2] / "functions"
    missing = [name for name in FUNCTIONS if not (candidate / name / "app.py").is_file()]
    if missing:
        where = "--functions-dir" if explicit is not None else "next to the package"
        raise FunctionsNotFound(
            f"no {', '.join(f'{m}/app.py' for m in missing)} in {candidate} ({where}); "
            "run serve from a checkout of the repository, or pass --functions-dir"
        )
    return candidate


def load_handler(path: Path, module_name: str) -> Handler:
    """Import ``path`` as ``module_name`` and return its ``lambda_handler``."""
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    handler = getattr(module, "lambda_handler", None)
    if not callable(handler):
        raise ImportError(f"{path} has no lambda_handler")
    return handler  # type: ignore[no-any-return]


@dataclass
class LambdaContext:
    """The attributes and method of the context object the Lambda runtime passes to a handler."""

    function_name: str
    region: str = "us-east-1"
    timeout_seconds: float = 30.0
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return time.strftime("%Y/%m/%d/[$LATEST]") + "local"

    @property
    def identity(self) -> None:
        return None

    @property
    def client_context(self) -> None:
        return None

    def get_remaining_time_in_millis(self) -> int:
        left = self.timeout_seconds - (time.monotonic() - self._started)
        return max(0, int(left * 1000))


class LocalFunction:
    """One function: its handler and a lock, so invocations run one at a time (one execution environment)."""

    def __init__(self, name: str, handler: Handler, *, region: str, timeout_seconds: float) -> None:
        self.name = name
        self.handler = handler
        self.region = region
        self.timeout_seconds = timeout_seconds
        self._lock = threading.Lock()

    @classmethod
    def load(cls, functions_dir: Path, folder: str, *, region: str, timeout_seconds: float = 30.0) -> LocalFunction:
        module_name, function_name = FUNCTIONS[folder]
        handler = load_handler(functions_dir / folder / "app.py", module_name)
        return cls(function_name, handler, region=region, timeout_seconds=timeout_seconds)

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(self.name, region=self.region, timeout_seconds=self.timeout_seconds)
        with self._lock:
            return self.handler(event, context)
