"""A local Stripe API (the related objects of v2 thin events) on loopback, with the fault injection of
:mod:`webhook_translator_tools.local.provider_server`.

``GET /v1/{resource}/{id}`` answers the seeded object at that path (``stripe-objects.json`` beside this
module — the objects of the ``events/stripe`` samples — or the ``objects`` given), as a thin event's
``related_object.url`` names it. A secret or restricted key as ``Authorization: Bearer``. Errors take
Stripe's shape ``{"error": {"type", "code", "message"}}``: 401 for an unknown key, 404
``resource_missing`` for an unknown object.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from webhook_translator_tools.local.provider_server import Answer, LocalProviderApi, bearer_token

__all__ = ["DEFAULT_OBJECTS", "LocalStripe"]

DEFAULT_OBJECTS: Final = Path(__file__).with_name("stripe-objects.json")
_TYPES: Final = {401: "invalid_request_error", 404: "invalid_request_error", 429: "rate_limit_error"}


class LocalStripe(LocalProviderApi):
    prefix = ""
    name = "stripe"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        keys: set[str] | None = None,
        objects: Mapping[str, Any] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(host, port, echo=echo)
        self.keys = keys
        self.objects = dict(objects) if objects is not None else json.loads(DEFAULT_OBJECTS.read_text("utf-8"))

    def error(self, status: int, message: str) -> Any:
        return {"error": {"type": _TYPES.get(status, "api_error"), "message": message}}

    def route(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        key = bearer_token(headers)
        if not key or (self.keys is not None and key not in self.keys):
            return Answer(401, self.error(401, "Invalid API Key provided: rk_test_****"))
        found = self.objects.get(path)
        if found is None:
            ident = path.rsplit("/", 1)[-1][:40]
            body = self.error(404, f"No such object: '{ident}'")
            body["error"] |= {"code": "resource_missing", "param": "id"}
            return Answer(404, body)
        return Answer(200, found)
