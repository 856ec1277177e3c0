"""Gravity Forms — ``POST /webhooks/gravityforms?key=<token>`` (the Webhooks add-on).

Gravity Forms does not sign: the webhook URL carries a long random token (``?key=…``, or an
``X-Webhook-Token`` request header set in the feed), compared in constant time with the
source's ``signing_secrets`` (:mod:`.tokens`); a missing or wrong token is a 401.

Body: JSON (the default) or form-encoded. With *Request Body: All Fields* it is the entry:
``id``, ``form_id``, ``date_created`` (UTC), ``ip``, ``source_url``… and the answers keyed by
field id — ``2`` (a single input), ``1.3`` / ``1.6`` (a name's first and last name),
``5.1``, ``5.2``… (a checkbox's choices, an address's parts: one answer ``5``, the list of its
values). With *Select Fields* the keys are the names chosen in the feed ("email", "First Name",
"utm_source"…).

Ids: the entry ``id`` is the webhook id (a *Select Fields* body without one: the body hash);
``distinctId`` = ``gravityforms:`` + the webhook id; ``time`` = ``date_created``, else the
receive time.

Identity: a name field's ``.3`` / ``.6`` inputs as first / last name; every other answer by its
key through the shared resolver (:mod:`.identity`: chosen names as labels; for field ids, the
lone e-mail address, or option ``fields`` — ``{"3": "phone_number"}``); options
``fields``, ``consent``, ``synonyms``, ``include``, per form under ``forms[<form_id>]``. The ``ip``
goes to ``defaultProperties.ip``. Properties: ``form_id``, ``entry_id`` and — minimised — the
structured answers; text and multi-input fields (checkboxes, addresses) only when option
``include`` names them.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.sources.common import Person, clean, iso_to_ms
from webhook_translator.sources.flat import flat_answers
from webhook_translator.sources.flat_source import FlatFormSource
from webhook_translator.sources.identity import Answer

#: the entry's own properties (never answers)
_ENTRY = frozenset(
    {
        "id", "form_id", "post_id", "date_created", "date_updated", "is_starred", "is_read", "ip", "source_url",
        "user_agent", "currency", "payment_status", "payment_date", "payment_amount", "payment_method",
        "transaction_id", "is_fulfilled", "created_by", "transaction_type", "status", "source_id", "is_approved",
    }
)  # fmt: skip
_INPUT = re.compile(r"^(\d+)\.(\d+)$")
#: a name field's inputs: prefix, first, middle, last, suffix (a checkbox's always include ``.1``)
_NAME_INPUTS = frozenset({"2", "3", "4", "6", "8"})


def _grouped(fields: dict[str, Any], person: Person) -> tuple[dict[str, Any], list[Answer]]:
    """(the single-input fields, the other multi-input fields as answers): each ``N.k`` group is one field —
    a name's first / last offered to ``person``; another (checkbox choices, an address: indistinguishable
    without the form) the list of its non-empty values under ``N``, never structured (``include`` opts it in)."""
    groups: dict[str, dict[str, Any]] = {}
    single: dict[str, Any] = {}
    for key, value in fields.items():
        match = _INPUT.match(key)
        if match is None:
            single[key] = value
        else:
            groups.setdefault(match.group(1), {})[match.group(2)] = value
    rows: list[Answer] = []
    for field, inputs in groups.items():
        if set(inputs) <= _NAME_INPUTS and ("3" in inputs or "6" in inputs):
            person.offer("first_name", inputs.get("3"))
            person.offer("last_name", inputs.get("6"))
            continue
        values = [v for v in inputs.values() if v not in (None, "")]
        if values and field not in single:
            rows.append(Answer(key=field, label=field, kind="other", value=values))
    return single, rows


class GravityFormsSource(FlatFormSource):
    name: ClassVar[str] = "gravityforms"
    title: ClassVar[str] = "Gravity Forms"
    entry_key: ClassVar[str] = "id"
    entry_label: ClassVar[str] = "entry id"

    def rows(self, fields: dict[str, Any], person: Person) -> list[Answer]:
        single, grouped = _grouped(fields, person)
        return [*flat_answers(single, _ENTRY, person), *grouped]

    def time_ms(self, fields: dict[str, Any], envelope: Envelope) -> int:
        created = clean(fields.get("date_created"))
        return iso_to_ms(created) if created else envelope.received_at_ms

    def default_properties(self, fields: dict[str, Any]) -> dict[str, Any] | None:
        ip = clean(fields.get("ip"))
        return {"ip": ip} if ip else None
