"""WPForms — ``POST /webhooks/wpforms?key=<token>`` (the Webhooks addon).

WPForms does not sign: the webhook URL carries a long random token (``?key=…``, or an
``X-Webhook-Token`` request header added in the webhook's *Request Headers*), compared in
constant time with the source's ``signing_secrets`` (:mod:`.tokens`); a missing or wrong token
is a 401.

Body: JSON or form-encoded (*Request Format*), holding only the *Request Body* rows the form
owner chose — a key of their own for each field ("email", "Name", "Phone", "utm_source"…).
WPForms sends no entry or form id unless a row adds one (the ``{entry_id}`` / ``{form_id}``
smart tags under the key ``entry_id`` / ``form_id``).

Ids: ``entry_id`` is the webhook id when present, else the body hash; ``distinctId`` =
``wpforms:`` + the webhook id; ``time`` = the receive time.

Identity: every key through the shared resolver (:mod:`.identity`) as a label; options
``fields``, ``consent``, ``synonyms``, ``include``, per form under ``forms[<form_id>]``.
Properties: ``form_id``, ``entry_id`` and — minimised — the structured answers; WPForms sends
text only, so answers only when option ``include`` names them.
"""

from __future__ import annotations

from typing import Any, ClassVar

from webhook_translator.sources.common import Person
from webhook_translator.sources.flat import flat_answers
from webhook_translator.sources.flat_source import SUBMISSION, FlatFormSource
from webhook_translator.sources.identity import Answer

__all__ = ["SUBMISSION", "WPFormsSource"]

ENTRY_ID = "entry_id"
FORM_ID = "form_id"


class WPFormsSource(FlatFormSource):
    name: ClassVar[str] = "wpforms"
    title: ClassVar[str] = "WPForms"
    entry_key: ClassVar[str] = ENTRY_ID
    entry_label: ClassVar[str] = "entry_id"
    form_key: ClassVar[str] = FORM_ID

    def rows(self, fields: dict[str, Any], person: Person) -> list[Answer]:
        return flat_answers(fields, (ENTRY_ID, FORM_ID), person)
