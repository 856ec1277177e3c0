"""A local Graph API (Facebook Lead Ads' lead retrieval) on loopback, with the fault injection of
:mod:`webhook_translator_tools.local.provider_server`.

``GET /v21.0/{leadgen_id}?fields=…`` answers the seeded lead (``graph-leads.json`` beside this module,
or the ``leads`` given), only the fields asked for, like the real API. Errors take the Graph API's
own shapes (Meta's "Handling Errors" reference): an unknown or invalid token is 400 with
``error.code`` 190 (``OAuthException``); an id that does not exist is 400 with code 100 and
``error_subcode`` 33. The token is a Page access token, sent as ``Authorization: Bearer`` (or
``access_token=``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from webhook_translator_tools.local.provider_server import Answer, LocalProviderApi, bearer_token

__all__ = ["DEFAULT_LEADS", "LocalGraph"]

GRAPH_VERSION: Final = "v21.0"
DEFAULT_LEADS: Final = Path(__file__).with_name("graph-leads.json")


def _graph_error(message: str, code: int, subcode: int | None = None, kind: str = "GraphMethodException") -> Any:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "AlocalFakeTrace"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


class LocalGraph(LocalProviderApi):
    prefix = f"/{GRAPH_VERSION}"
    name = "graph"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens: set[str] | None = None,
        leads: Mapping[str, Any] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(host, port, echo=echo)
        self.tokens = tokens
        self.leads = dict(leads) if leads is not None else json.loads(DEFAULT_LEADS.read_text(encoding="utf-8"))

    def error(self, status: int, message: str) -> Any:
        return _graph_error(message, 0, kind="FaultInjection")

    def route(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        bearer = (headers.get("authorization") or "").startswith("Bearer ")
        token = bearer_token(headers) if bearer else query.get("access_token", "")
        if not token or (self.tokens is not None and token not in self.tokens):
            return Answer(
                400, _graph_error("Invalid OAuth access token - Cannot parse access token", 190, None, "OAuthException")
            )
        lead_id = path.strip("/")
        lead = self.leads.get(lead_id)
        if "/" in lead_id or lead is None:
            message = (
                f"Unsupported get request. Object with ID '{lead_id[:40]}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation."
            )
            return Answer(400, _graph_error(message, 100, 33))
        wanted = [f for f in (query.get("fields") or "").split(",") if f]
        body = {"id": lead_id, **{k: v for k, v in lead.items() if not wanted or k in wanted}}
        return Answer(200, body)
