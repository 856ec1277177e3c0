"""Formstack — ``POST /webhooks/formstack``.

Verification, never none: with HMAC turned on in the webhook's settings, ``X-FS-Signature:
sha256=<hex>`` is the HMAC-SHA256 of the raw body keyed with the webhook's secret, and must match
one of the source's ``signing_secrets``. Without that header, a token must: ``?key=<token>`` in the
URL, an ``X-Webhook-Token`` header, or the webhook's *Handshake Key* (the ``HandshakeKey`` field
of the body), compared in constant time (:mod:`.tokens`). A present but wrong signature is never
let through by a token.

Body: form-encoded (the default) or JSON, keyed by field labels, field ids or API-friendly
keys (the webhook's setting; duplicate labels collapse to the last one), plus ``FormID`` and
``UniqueID``. A name or address is an object in JSON and ``first = Ann`` lines in a form post.
``HandshakeKey`` is a shared secret: it is never mapped, forwarded or logged.

Ids: ``UniqueID`` (the submission) is the webhook id; ``distinctId`` = ``formstack:{UniqueID}``;
``time`` = the receive time (Formstack sends none).

Identity: names and addresses by their parts (city, state, zip, country — never the street),
then every other field by its key through the shared resolver (:mod:`.identity`; options
``fields``, ``consent``, ``synonyms``, ``include``, per form under ``forms[<FormID>]``).
Properties: ``form_id`` and — minimised — the structured answers (``answers``); Formstack sends
no field types, so text answers only when option ``include`` names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from webhook_translator.envelope import Envelope
from webhook_translator.errors import BadRequest, MappingError
from webhook_translator.sources.base import ModelRef, Source, require_id
from webhook_translator.sources.common import Person, clean, fit_properties
from webhook_translator.sources.context import MapContext, MapResult
from webhook_translator.sources.flat import JSON, fields_or_none, flat_answers, media_type
from webhook_translator.sources.forms import form_policy
from webhook_translator.sources.multipart import URLENCODED
from webhook_translator.sources.request import InboundRequest
from webhook_translator.sources.signing import HmacScheme
from webhook_translator.sources.tokens import check_token, presented_token

SUBMISSION = "submission"
HANDSHAKE_KEY = "HandshakeKey"
#: Formstack's own fields (never answers)
_OWN = frozenset({"FormID", "UniqueID", HANDSHAKE_KEY})
_NO_TOKEN = "set HMAC on the webhook, or add ?key=<token> to its URL (or its Handshake Key)"


class FormstackSource(Source):
    name: ClassVar[str] = "formstack"
    options_model = ModelRef("webhook_translator.sources.forms_models:FormOptions")
    title: ClassVar[str] = "Formstack"
    content_types: ClassVar[tuple[str, ...]] = (URLENCODED, JSON)
    scheme: ClassVar[HmacScheme] = HmacScheme(
        header="x-fs-signature", display_header="X-FS-Signature", prefix="sha256="
    )
    events: ClassVar[dict[str, str]] = {SUBMISSION: "Form Submitted"}

    def verify(self, request: InboundRequest, secrets: Sequence[str]) -> None:
        if request.header(self.scheme.header) is not None:
            self.scheme.verify(request, secrets)  # signed: the signature decides, a token never overrides it
            return
        token = presented_token(request)
        if token is None:
            fields = fields_or_none(request.header("content-type") or "", request.body) or {}
            handshake = fields.get(HANDSHAKE_KEY)
            token = handshake if isinstance(handshake, str) and handshake else None
        check_token(token, secrets, request.source, where=_NO_TOKEN)

    def sign_headers(self, body: bytes, secret: str, *, now: float, webhook_id: str | None = None) -> dict[str, str]:
        return {"Content-Type": media_type(body), "X-FS-Signature": self.scheme.sign(body, secret)}

    def webhook_id(self, request: InboundRequest) -> str:
        fields = fields_or_none(request.header("content-type") or "", request.body)
        if fields is None:
            raise BadRequest("not a Formstack webhook: the body is neither a form post nor a JSON object")
        return require_id(fields.get("UniqueID"), "not a Formstack webhook: missing UniqueID")

    def map(self, envelope: Envelope, ctx: MapContext) -> MapResult:
        if ctx.dropped(SUBMISSION):
            return ctx.skip(SUBMISSION, "dropped_by_config")
        fields = fields_or_none(envelope.content_type, envelope.raw_body)
        if fields is None:
            raise MappingError("Formstack webhook is neither a form post nor a JSON object")
        unique = clean(fields.get("UniqueID"))
        if unique is None:
            raise MappingError("Formstack webhook does not match the expected shape (UniqueID)")
        form_id = clean(fields.get("FormID"))
        person = Person()
        rows = flat_answers(fields, _OWN, person)  # HandshakeKey is skipped: never an answer
        policy = form_policy(ctx, form_id)
        resolution = policy.resolve(rows, person)
        answers, _ = policy.properties(rows, resolution)
        track = ctx.track(
            SUBMISSION,
            distinct_id=f"formstack:{unique}",
            time=envelope.received_at_ms,
            event_properties=fit_properties({"form_id": form_id, "answers": answers or None}),
            **resolution.track_fields(),
        )
        return MapResult(event_type=SUBMISSION, events=(track,))
