"""The hot paths, in-process, each a ratio against its floor measured in the same run.

* translate: the forwarder's translation of a queued webhook (envelope → mapped, validated
  ``TrackEvent`` → the ``/track`` JSON it posts) vs ``json.loads`` of the body + ``json.dumps`` of the
  same ``/track`` bodies (for Jotform's multipart body: of its ``rawRequest`` JSON field). Stripe's
  figure is of a delivery as Stripe sends it (the corpus's whole Checkout Session object, pretty-printed);
  the trimmed ``events/`` sample is printed beside it;
* spec: a declarative source (``bench/stripe_checkout_spec.json``, JMESPath) vs the hand-written
  Stripe source translating the same checkout.session.completed into the same ``/track`` body;
* receiver: verify + envelope + enqueue, through a real boto3 SQS client answered in-process
  (parameters validated and serialised, nothing sent) vs a bare ``send_message`` of the same message
  on the same client;
* forwarder: a batch of 10 records delivered to the local Ours (with and without 50 ms of latency)
  vs 10 bare ``requests`` posts of the same bodies at the same concurrency (a pooled session, no
  environment scan: what the Ours client's session does).

Floor and candidate alternate in short rounds; the figure is each one's best round (a batch: the
median of alternating calls). Run with ``make bench``;
prints figures, never fails on them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import boto3
import requests
from bench.lambda_env import REGION, ROOT, fake_aws

from webhook_translator.config import Settings
from webhook_translator.envelope import Envelope
from webhook_translator.forwarder import Forwarder
from webhook_translator.observability import logger
from webhook_translator.ours.client import OursClient, body_json
from webhook_translator.ours.models import track_body
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets
from webhook_translator.sources.base import Source
from webhook_translator.sources.registry import REGISTRY
from webhook_translator.sources.request import InboundRequest
from webhook_translator.translation import translate as pipeline_translate
from webhook_translator_tools.local.ours_server import Fault, LocalOurs
from webhook_translator_tools.local.samples import Sample

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "7"))
ROUND_SECONDS = float(os.environ.get("BENCH_ROUND_SECONDS", "0.15"))
SECRET = "whsec_bench_0123456789abcdef"
TOKEN = "bench-ours-token-0123456789"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/123456789012/bench"
TRANSLATE = {  # sample (under events/, or a corpus payload under tests/corpus/), goal (x the json floor)
    # as Stripe delivers it: the whole object, pretty-printed
    "stripe checkout.session.completed": ("tests/corpus/stripe/checkout_completed_full_object_2024_06_20.json", 3.0),
    "  the same, trimmed (events/ sample)": ("stripe/checkout-session-completed.json", None),
    "typeform form_response": ("typeform/form_response.json", 5.0),
    "jotform submission": ("jotform/submission.json", None),
}
SETTINGS = Settings(QUEUE_URL=QUEUE_URL, DLQ_URL=QUEUE_URL + "-dlq")


def dumps(payload: dict[str, Any]) -> str:
    """The floor's serialisation of a ``/track`` body: ``json.dumps`` with the Ours client's settings."""
    return json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def translate(source: Source, message: str, now_ms: int) -> list[str]:
    """The forwarder's translation of one queued webhook (the pipeline's own step,
    :func:`webhook_translator.translation.translate`): the ``/track`` bodies it would post."""
    envelope = Envelope.from_message(message)
    _, result = pipeline_translate(
        envelope,
        SETTINGS.translator_config,
        registry={source.name: source},
        now_ms=now_ms,
        stale_policy=SETTINGS.stale_event_policy,
    )
    return [body_json(track_body(event, TOKEN)) for event in result.events]  # as the Ours client posts it


def rate(fn: Callable[[], object]) -> float:
    """Calls per second of ``fn`` over one round of about ``ROUND_SECONDS``."""
    n, t0 = 0, time.perf_counter()
    deadline = t0 + ROUND_SECONDS
    while True:
        for _ in range(16):
            fn()
        n += 16
        now = time.perf_counter()
        if now >= deadline:
            return n / (now - t0)


def compare(candidate: Callable[[], object], floor: Callable[[], object]) -> tuple[float, float]:
    """(candidate calls/s, floor calls/s): the best of ``ROUNDS`` alternating rounds each (as ``timeit``
    advises: the other rounds measure what else the machine was doing)."""
    ours, floors = [], []
    for _ in range(ROUNDS):
        ours.append(rate(candidate))
        floors.append(rate(floor))
    return max(ours), max(floors)


def sample(name: str, now: float) -> Sample:
    """An ``events/`` sample, or a corpus payload (``tests/corpus/…``: a sample and where it is documented)."""
    if not name.startswith("tests/"):
        return Sample.load(ROOT / "events" / name).retimed(now)
    path = ROOT / name
    document = json.loads(path.read_text(encoding="utf-8"))
    return Sample.from_json({k: v for k, v in document.items() if k not in ("documented", "config")}, path).retimed(now)


def queued(source: Source, smp: Sample, now: float) -> str:
    """The SQS message the receiver queues for ``smp``."""
    return Envelope.wrap(
        source=source.name,
        webhook_id="bench",
        received_at=datetime.fromtimestamp(now, UTC),
        content_type=smp.content_type,
        body=smp.raw_body(),
        headers={},
    ).to_message()


def json_part(smp: Sample) -> str:
    """The JSON a floor parses: the body, or a multipart body's ``rawRequest`` field."""
    body = smp.raw_body().decode()
    if not smp.content_type.startswith("multipart/"):
        return body
    match = re.search(r'name="rawRequest"\r\n\r\n(.*?)\r\n--', body, re.DOTALL)
    if match is None:
        raise RuntimeError("no rawRequest field in the multipart sample")
    return match.group(1)


def bench_translate(now: float) -> None:
    print("translate: the forwarder's translation vs json.loads(body) + json.dumps(/track bodies)")
    now_ms = int(now * 1000)
    for label, (path, goal) in TRANSLATE.items():
        smp = sample(path, now)
        source = REGISTRY[smp.source]
        message = queued(source, smp, now)
        bodies = translate(source, message, now_ms)
        payloads = [json.loads(b) for b in bodies]
        raw = json_part(smp)

        def floor(raw: str = raw, payloads: list[dict[str, Any]] = payloads) -> None:
            json.loads(raw)
            for payload in payloads:
                dumps(payload)

        def candidate(source: Source = source, message: str = message) -> None:
            translate(source, message, now_ms)

        ours, base = compare(candidate, floor)
        goal_text = f"(goal <= {goal:g}x)" if goal else ""
        print(
            f"  {label:<36} {base / ours:5.2f}x json floor {goal_text:<14} {ours:9,.0f} events/s"
            f"  (floor {base:,.0f}/s, {len(bodies)} /track body, {len(raw):,} B of JSON)"
        )


SPEC_GOAL = 2.0  # x the hand-written source


def bench_spec(now: float) -> None:
    """A spec source vs the hand-written source of the same payload, timed in the same run."""
    from webhook_translator.spec import compile_spec

    smp = sample("stripe/checkout-session-completed.json", now)
    built_in = REGISTRY["stripe"]
    spec_source = compile_spec("stripe", json.loads((ROOT / "bench" / "stripe_checkout_spec.json").read_text()))
    message = queued(built_in, smp, now)
    # the webhook id the receiver gives it (the event's id, for both): the same distinctId
    envelope = Envelope.from_message(message)
    request = InboundRequest("stripe", smp.raw_body(), {"content-type": smp.content_type})
    message = envelope.model_copy(update={"webhook_id": spec_source.webhook_id(request)}).to_message()
    now_ms = int(now * 1000)
    mine, theirs = (translate(s, message, now_ms) for s in (spec_source, built_in))
    same = [json.loads(b) for b in mine] == [json.loads(b) for b in theirs]
    ours, base = compare(lambda: translate(spec_source, message, now_ms), lambda: translate(built_in, message, now_ms))
    print("spec: a declarative source (JMESPath) vs the hand-written source, the same payload")
    print(
        f"  stripe checkout.session.completed  {base / ours:5.2f}x hand-written (goal <= {SPEC_GOAL:g}x)"
        f" {ours:9,.0f} events/s  (hand-written {base:,.0f}/s; same /track body: {'yes' if same else 'NO'})"
    )


def sqs_client() -> Any:
    client = boto3.client(
        "sqs",
        region_name=REGION,
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="AKIABENCHFAKE0000000",
        aws_secret_access_key="bench-fake-secret-key",
    )
    fake_aws({"SendMessage": {"MessageId": "bench-1"}, "ChangeMessageVisibility": {}})
    return client


def bench_receiver(now: float) -> None:
    smp = sample("stripe/checkout-session-completed.json", now)
    source = REGISTRY["stripe"]
    body = smp.raw_body()
    headers = smp.request_headers(source.sign_headers(body, SECRET, now=now))
    event = {
        "version": "2.0",
        "rawPath": "/webhooks/stripe",
        "headers": {k.lower(): v for k, v in headers.items()},
        "pathParameters": {"source": "stripe"},
        "requestContext": {"http": {"method": "POST"}, "domainName": "bench.invalid"},
        "body": body.decode(),
        "isBase64Encoded": False,
    }
    sqs = sqs_client()
    secrets = StaticSecrets({"sources": {"stripe": {"signing_secrets": ["whsec_rotated_out_0000", SECRET]}}})
    receiver = Receiver(SETTINGS, secrets, sqs=sqs)
    answer = receiver.handle(event)
    if answer["statusCode"] != 200:
        raise RuntimeError(f"the receiver answered {answer['statusCode']}: {answer['body']}")
    message = queued(source, smp, now)
    attributes = {k: {"DataType": "String", "StringValue": "bench"} for k in ("source", "webhook_id")}

    def bare() -> None:
        sqs.send_message(QueueUrl=QUEUE_URL, MessageBody=message, MessageAttributes=attributes)

    with contextlib.redirect_stdout(io.StringIO()):  # the EMF metric lines Powertools prints
        ours, base = compare(lambda: receiver.handle(event), bare)
    print("receiver hot path: verify (2 secrets) + envelope + enqueue vs a bare send_message (boto3, no network)")
    print(
        f"  stripe checkout.session.completed  {base / ours:5.2f}x send_message   {1e6 / ours:7.1f} µs"
        f" vs {1e6 / base:.1f} µs   ({len(body):,} B body)"
    )


def bench_forwarder(now: float) -> None:
    smp = sample("stripe/checkout-session-completed.json", now)
    source = REGISTRY["stripe"]
    message = queued(source, smp, now)
    bodies = translate(source, message, int(now * 1000))
    batch = {
        "Records": [
            {
                "messageId": str(i),
                "receiptHandle": str(i),
                "body": message,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
            }
            for i in range(10)
        ]
    }
    print("forwarder: a batch of 10 records to the local Ours vs 10 bare requests posts of the same bodies")
    sqs = sqs_client()
    with LocalOurs(tokens={TOKEN}) as ours, contextlib.redirect_stdout(io.StringIO()) as quiet:
        lines = []
        for latency in (0.0, 0.05):
            ours.clear_faults()
            if latency:
                ours.inject(Fault(kind="slow", delay=latency))
            for workers in (1, 10):
                config = Settings(QUEUE_URL=QUEUE_URL, DLQ_URL=QUEUE_URL + "-dlq", FORWARD_CONCURRENCY=workers)
                forwarder = Forwarder(config, OursClient(ours.url, StaticSecrets({"ours_token": TOKEN})), sqs=sqs)
                session = requests.Session()
                session.trust_env = False  # as the Ours client's session: no environment or .netrc per call
                url = ours.url.rstrip("/") + "/track"

                def post(data: str, session: requests.Session = session, url: str = url) -> None:
                    response = session.post(url, data=data.encode(), headers={"Content-Type": "application/json"})
                    response.raise_for_status()

                def bare(workers: int = workers, post: Callable[[str], None] = post) -> None:
                    if workers == 1:
                        for data in bodies * 10:
                            post(data)
                        return
                    with ThreadPoolExecutor(max_workers=workers) as pool:
                        list(pool.map(post, bodies * 10))

                def handled(forwarder: Forwarder = forwarder) -> None:
                    if forwarder.handle(batch)["batchItemFailures"]:
                        raise RuntimeError("the forwarder failed records")

                ours_s, base_s = _alternating(handled, bare, 3 if latency and workers == 1 else 15)
                lines.append(
                    f"  Ours +{latency * 1000:2.0f} ms, {workers:>2} worker(s)   {ours_s / base_s:5.2f}x bare posts"
                    f"   {ours_s * 1000:7.1f} ms vs {base_s * 1000:.1f} ms per batch"
                )
        accepted = len(ours.accepted)
    del quiet
    print("\n".join(lines))
    print(f"  (the local Ours accepted {accepted} events)")


def _alternating(candidate: Callable[[], object], floor: Callable[[], object], n: int) -> tuple[float, float]:
    """Median seconds per call of each, called in turn ``n`` times (after one warm-up call each)."""
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(n + 1):
        for fn, out in ((candidate, times[0]), (floor, times[1])):
            t0 = time.perf_counter()
            fn()
            if i:
                out.append(time.perf_counter() - t0)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    logger.setLevel("WARNING")
    now = time.time()
    bench_translate(now)
    bench_spec(now)
    bench_receiver(now)
    bench_forwarder(now)


if __name__ == "__main__":
    main()
