"""The Lambda events in ``events/apigw`` and ``events/sqs``, made from the raw samples at a given time.

``webhook-translator samples refresh`` writes them at "now", so that ``sam local invoke
-e`` finds a signature inside the receiver's window (Stripe: 5 minutes) and event times
inside Ours's 7 days. Each is built the way the pipeline builds it: the sample re-timed
(:meth:`Sample.retimed`), signed as the provider signs (:meth:`Source.sign_headers`),
wrapped in a payload-2.0 event by the local API Gateway (:func:`build_event`), and, for
the SQS batch, queued as the receiver queues it (:func:`~webhook_translator.admission.wrap`).
Everything but the time is fixed, so a refresh at the same time writes the same files.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from webhook_translator.admission import wrap
from webhook_translator.dlq_attributes import QueuedAttributes
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.sources.request import InboundRequest
from webhook_translator_tools.local.apigw import build_event
from webhook_translator_tools.local.poller import lambda_attribute
from webhook_translator_tools.local.samples import Sample

__all__ = ["APIGW_EVENTS", "SAMPLE_SECRET", "SQS_BATCHES", "apigw_event", "refresh", "signed_at", "sqs_batch"]

#: the secret the committed API Gateway events are signed with (not a real one: tests and `sam local` only)
SAMPLE_SECRET: Final = "whsec_sample_events_not_a_real_secret"


@dataclass(frozen=True)
class ApigwSpec:
    sample: str
    #: deliver the body base64-encoded, as API Gateway does for binary media types
    base64_body: bool = False


#: events/apigw/<name> ← the raw sample it is made from
APIGW_EVENTS: Final = {
    "stripe-checkout-session-completed.json": ApigwSpec("stripe/checkout-session-completed.json"),
    "stripe-invoice-paid-base64.json": ApigwSpec("stripe/invoice-paid.json", base64_body=True),
}
#: events/sqs/<name> ← the raw samples of its records, in order (two mapped Stripe events and one skipped)
SQS_BATCHES: Final = {
    "stripe-batch.json": (
        "stripe/checkout-session-completed.json",
        "stripe/invoice-paid.json",
        "stripe/customer-created-ignored.json",
    ),
}
API_DOMAIN: Final = "api1234567.execute-api.us-east-1.amazonaws.com"
SOURCE_IP: Final = "198.51.100.7"
QUEUE_ARN: Final = "arn:aws:sqs:us-east-1:123456789012:webhook-translator-webhooks"
#: how long before the delivery the provider's event happened
EVENT_LAG_SECONDS: Final = 30.0


def _fixed_id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "webhook-translator/events/" + "/".join(parts)))


def apigw_event(sample: Sample, spec: ApigwSpec, *, secret: str, now: float, name: str) -> dict[str, Any]:
    """The payload-2.0 event API Gateway would hand the receiver for ``sample`` delivered at ``now``."""
    source = REGISTRY[sample.source]
    timed = sample.retimed(now, lag=EVENT_LAG_SECONDS)
    body = timed.raw_body()
    headers = timed.request_headers(source.sign_headers(body, secret, now=now))
    event = build_event(
        method="POST",
        target=f"/webhooks/{source.name}",
        headers=[("host", API_DOMAIN), *headers.items()],
        body=body,
        source_ip=SOURCE_IP,
        source=source.name,
        now=now,
    )
    event["requestContext"].update(apiId=API_DOMAIN.split(".", 1)[0], requestId=_fixed_id("apigw", name))
    if spec.base64_body:
        event.update(body=base64.b64encode(body).decode("ascii"), isBase64Encoded=True)
    return event


def sqs_batch(samples: list[Sample], *, now: float, name: str) -> dict[str, Any]:
    """The SQS event the event source mapping would hand the forwarder: each sample queued by the receiver
    at ``now`` (its envelope exactly as :func:`wrap` makes it), received once."""
    received_at = datetime.fromtimestamp(int(now), UTC)
    sent_ms = int(now) * 1000
    records = []
    for index, sample in enumerate(samples):
        source = REGISTRY[sample.source]
        timed = sample.retimed(now, lag=EVENT_LAG_SECONDS)
        request = InboundRequest(
            source=source.name,
            body=timed.raw_body(),
            headers={"content-type": timed.content_type, **{k.lower(): v for k, v in timed.headers.items()}},
            url=f"https://{API_DOMAIN}/webhooks/{source.name}",
            received_at=received_at,
        )
        admitted = wrap(source, request)
        # the attributes the receiver sends with it (QueuedAttributes), as Lambda hands them over
        attributes = QueuedAttributes(source=admitted.envelope.source, webhook_id=admitted.envelope.webhook_id).to_sqs()
        records.append(
            {
                "messageId": _fixed_id("sqs", name, str(index)),
                "receiptHandle": base64.b64encode(f"sample-{name}-{index}".encode()).decode("ascii"),
                "body": admitted.message,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(sent_ms),
                    "SenderId": "AROAEXAMPLE:receiver",
                    "ApproximateFirstReceiveTimestamp": str(sent_ms + 20),
                },
                "messageAttributes": {name: lambda_attribute(value) for name, value in attributes.items()},
                "md5OfBody": hashlib.md5(admitted.message.encode(), usedforsecurity=False).hexdigest(),
                "md5OfMessageAttributes": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": QUEUE_ARN,
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def build_all(events_dir: Path, *, now: float, secret: str = SAMPLE_SECRET) -> dict[Path, dict[str, Any]]:
    """Every Lambda event, by the path it is written to, made from the samples in ``events_dir``."""

    def load(relative: str) -> Sample:
        return Sample.load(events_dir / relative)

    built: dict[Path, dict[str, Any]] = {}
    for name, spec in APIGW_EVENTS.items():
        built[events_dir / "apigw" / name] = apigw_event(load(spec.sample), spec, secret=secret, now=now, name=name)
    for name, members in SQS_BATCHES.items():
        built[events_dir / "sqs" / name] = sqs_batch([load(m) for m in members], now=now, name=name)
    return built


def refresh(events_dir: Path, *, now: float, secret: str = SAMPLE_SECRET) -> list[Path]:
    """Write every Lambda event made at ``now``; the paths written."""
    built = build_all(events_dir, now=now, secret=secret)
    for path, event in built.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(event, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return list(built)


def signed_at(event: Mapping[str, Any]) -> float:
    """The time a written event was made at: an API Gateway event's ``timeEpoch``, an SQS batch's ``SentTimestamp``."""
    if "Records" in event:
        return int(event["Records"][0]["attributes"]["SentTimestamp"]) / 1000
    return int(event["requestContext"]["timeEpoch"]) / 1000
