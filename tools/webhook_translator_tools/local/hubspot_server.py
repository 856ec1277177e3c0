"""A local HubSpot CRM API (the contacts of app subscriptions) on loopback, with the fault injection of
:mod:`webhook_translator_tools.local.provider_server`.

``GET /crm/v3/objects/contacts/{id}?properties=…`` answers the seeded contact (``hubspot-contacts.json``
beside this module, or the ``contacts`` given) in the CRM v3 shape (``{id, properties, createdAt,
updatedAt, archived}``), only the properties asked for (plus ``hs_object_id``, ``createdate`` and
``lastmodifieddate``, which HubSpot always adds), like the real API. A private-app token as
``Authorization: Bearer``. Errors take HubSpot's shape ``{"status": "error", "message",
"correlationId", "category"}``: 401 ``INVALID_AUTHENTICATION``, 404 ``OBJECT_NOT_FOUND``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from webhook_translator_tools.local.provider_server import Answer, LocalProviderApi, bearer_token

__all__ = ["DEFAULT_CONTACTS", "LocalHubSpot"]

DEFAULT_CONTACTS: Final = Path(__file__).with_name("hubspot-contacts.json")
_CATEGORIES: Final = {
    401: "INVALID_AUTHENTICATION",
    403: "MISSING_SCOPES",
    404: "OBJECT_NOT_FOUND",
    429: "RATE_LIMITS",
}
_ALWAYS: Final = ("hs_object_id", "createdate", "lastmodifieddate")
_CONTACTS_PATH: Final = "/crm/v3/objects/contacts/"


class LocalHubSpot(LocalProviderApi):
    prefix = ""
    name = "hubspot"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tokens: set[str] | None = None,
        contacts: Mapping[str, Any] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(host, port, echo=echo)
        self.tokens = tokens
        if contacts is None:
            contacts = json.loads(DEFAULT_CONTACTS.read_text(encoding="utf-8"))
        self.contacts = dict(contacts)

    def error(self, status: int, message: str) -> Any:
        return {
            "status": "error",
            "message": message,
            "correlationId": "00000000-0000-4000-8000-00000000f4ce",
            "category": _CATEGORIES.get(status, "INTERNAL_ERROR"),
        }

    def route(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        token = bearer_token(headers)
        if not token or (self.tokens is not None and token not in self.tokens):
            message = "Authentication credentials not found. This API supports OAuth 2.0 authentication."
            return Answer(401, self.error(401, message))
        contact_id = path.removeprefix(_CONTACTS_PATH)
        contact = self.contacts.get(contact_id) if path.startswith(_CONTACTS_PATH) else None
        if contact is None or "/" in contact_id:
            return Answer(404, self.error(404, "Object not found.  objectId are usually numeric."))
        wanted = {p for p in (query.get("properties") or "").split(",") if p} | set(_ALWAYS)
        properties = {k: v for k, v in contact["properties"].items() if k in wanted}
        body = {
            "id": contact_id,
            "properties": {**{p: None for p in wanted if p not in _ALWAYS}, **properties},
            "createdAt": contact["createdAt"],
            "updatedAt": contact["updatedAt"],
            "archived": False,
        }
        return Answer(200, body)
