"""A local Acuity Scheduling API on loopback, with the fault injection of
:mod:`webhook_translator_tools.local.provider_server`.

``GET /api/v1/appointments/{id}`` answers the seeded appointment (``acuity-appointments.json`` beside
this module, or the ``appointments`` given), intake forms and notes included — as the real API
does, so a test can prove they are never forwarded. Basic auth ``user id : API key``; errors in
Acuity's shape ``{"status_code", "message", "error"}``: 401 ``unauthorized``, 404 ``not_found``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from webhook_translator_tools.local.provider_server import Answer, LocalProviderApi

__all__ = ["DEFAULT_APPOINTMENTS", "LocalAcuity"]

DEFAULT_APPOINTMENTS: Final = Path(__file__).with_name("acuity-appointments.json")
_ERRORS: Final = {401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "too_many_requests"}


class LocalAcuity(LocalProviderApi):
    prefix = "/api/v1"
    name = "acuity"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credentials: set[tuple[str, str]] | None = None,
        appointments: Mapping[str, Any] | None = None,
        echo: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(host, port, echo=echo)
        self.credentials = credentials
        if appointments is None:
            appointments = json.loads(DEFAULT_APPOINTMENTS.read_text(encoding="utf-8"))
        self.appointments = dict(appointments)

    def error(self, status: int, message: str) -> Any:
        return {"status_code": status, "message": message, "error": _ERRORS.get(status, "error")}

    def _authorised(self, headers: Mapping[str, str]) -> bool:
        auth = headers.get("authorization") or ""
        if not auth.startswith("Basic "):
            return False
        try:
            user, sep, key = base64.b64decode(auth[6:], validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError):
            return False
        return bool(sep and user and key) and (self.credentials is None or (user, key) in self.credentials)

    def route(self, path: str, query: Mapping[str, str], headers: Mapping[str, str]) -> Answer:
        if not self._authorised(headers):
            return Answer(401, self.error(401, "Unauthorized"))
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "appointments":
            return Answer(404, self.error(404, "Not found."))
        appointment = self.appointments.get(parts[1])
        if appointment is None:
            return Answer(404, self.error(404, "Appointment not found."))
        return Answer(200, {"id": int(parts[1]), **appointment})
