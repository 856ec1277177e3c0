"""Cold start and peak memory of each function, as whole fresh processes, against the boto3 floor.

Every figure is a ratio measured in this run: each candidate is a fresh ``python3.11 -I -S -B`` process
with a Lambda-like ``sys.path`` — the function's directory, then the layer as built
(:func:`bench.lambda_env.built_layer`), then a boto3 "runtime" directory, as Lambda orders
``/var/task``, ``/opt/python`` and ``/var/runtime`` — and the environment ``template.yaml`` gives the
function (tracing off), a fake region and credentials. "Ready" is the handler module imported and
the boto3 clients it needs created; nothing is sent. The time is the process's wall clock from spawn
to ready (interpreter start included, exit excluded), the median of ``BENCH_RUNS`` runs, candidates
interleaved in a shuffled order each round so that drift cancels. Beside it, the CPU time (user +
system) of the whole child process, which other work on a shared machine inflates far less.

* floor: ``import boto3`` + an SQS and a Secrets Manager client;
* aws-sample: what AWS's Stripe webhook sample loads — the stripe SDK + boto3 + those clients;
* naive-powertools: Logger + Metrics + Tracer + APIGatewayHttpResolver + the stripe SDK + the clients.

Every directory holds bytecode (the alternatives' too, so they are compared at their best). Peak RSS
is ``ru_maxrss`` after ready and after one invocation of the real handler (a signed Stripe sample for
the receiver; one queued Stripe webhook delivered to a local Ours for the forwarder; AWS answered
in-process). The same invocation, timed in-process in ``BENCH_INVOKE_RUNS`` (5) fresh processes, gives
the first invocation's cost — what a function leaves undone at init is paid there, at the CPU share
the function's memory size buys — beside the floor's first bare ``send_message`` of the same body.
Run with ``make bench``; prints figures, never fails on them.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.lambda_env import FAKE_AWS, PYTHON, ROOT, built_layer, function_env, pinned, site_dir

from webhook_translator.envelope import Envelope
from webhook_translator.sources.registry import REGISTRY
from webhook_translator_tools.local.ours_server import LocalOurs
from webhook_translator_tools.local.samples import Sample

RUNS = int(os.environ.get("BENCH_RUNS", "15"))
GOALS = {"receiver": 1.3, "forwarder": 1.5}
RSS_GOAL_MB = 80
SECRET = "whsec_bench_0123456789abcdef"
QUEUE_URL = "https://sqs.xx-bench-1.amazonaws.com/123456789012/bench"
#: fresh processes per function for the first-invocation figures
INVOKE_RUNS = int(os.environ.get("BENCH_INVOKE_RUNS", "5"))
TOKEN = "bench-ours-token-0123456789"

FLOOR = """
import boto3
sqs = boto3.client("sqs")
secrets = boto3.client("secretsmanager")
"""
AWS_SAMPLE = """
import json
import boto3
import stripe
sqs = boto3.client("sqs")
secrets = boto3.client("secretsmanager")
"""
NAIVE_POWERTOOLS = """
import json
import boto3
import stripe
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
logger = Logger()
metrics = Metrics()
tracer = Tracer()
app = APIGatewayHttpResolver()
sqs = boto3.client("sqs")
secrets = boto3.client("secretsmanager")

@app.post("/webhooks/<source>")
def webhook(source):
    return {"received": True}
"""
# The functions: the handler module as Lambda imports it, then what the first invocation would
# otherwise build (a cached no-op once the module builds it at init).
RECEIVER = """
import app
from webhook_translator.receiver import default_receiver
default_receiver()
"""
FORWARDER = """
import app
from webhook_translator.forwarder import default_forwarder
default_forwarder()
"""

# The first invocation: the real handler, or (the floor) one bare send_message of the same body.
HANDLER_CALL = 'result = app.lambda_handler(job["event"], Context())'
FLOOR_CALL = """
sqs.send_message(QueueUrl=job["queue_url"], MessageBody=job["event"]["body"])
result = {"statusCode": 200}
"""

CHILD = """
import sys, time
t0 = time.perf_counter()
sys.path[:0] = {paths!r}
{ready}
t1 = time.perf_counter()
import json, os, resource
out = {{"ready_ms": (t1 - t0) * 1000, "rss_ready_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "xray": "aws_xray_sdk" in sys.modules, "modules": len(sys.modules)}}
if len(sys.argv) > 1:
    with open(sys.argv[1]) as f:
        job = json.load(f)
{fake_aws}
    fake_aws(job["aws"])
    class Context:
        function_name = "bench"
        function_version = "$LATEST"
        invoked_function_arn = "arn:aws:lambda:xx-bench-1:123456789012:function:bench"
        memory_limit_in_mb = 256
        aws_request_id = "bench-request-1"
        log_group_name = "/aws/lambda/bench"
        log_stream_name = "bench"
        def get_remaining_time_in_millis(self):
            return 30000
    import contextlib, io
    t2 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
{first}
    out["invoke_ms"] = (time.perf_counter() - t2) * 1000
    out["result"] = result.get("statusCode", result.get("batchItemFailures"))
    out["rss_invoked_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
os.write(1, ("BENCH " + json.dumps(out) + "\\n").encode())
os._exit(0)
"""


@dataclass
class Candidate:
    name: str
    paths: list[str]
    ready: str
    env: dict[str, str]
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    ready_ms: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    xray: bool = False
    #: the first invocation, after ready (``job`` is the JSON of :func:`receiver_job` or :func:`forwarder_job`)
    first: str = HANDLER_CALL

    def code(self) -> str:
        first = _indent(self.first, "        ")
        return CHILD.format(paths=self.paths, ready=self.ready, fake_aws=_indent(FAKE_AWS), first=first)

    def run(self, *args: str, env: Mapping[str, str] | None = None) -> dict[str, Any]:
        command = [PYTHON, "-I", "-S", "-B", "-c", self.code(), *args]
        before = _children_cpu_ms()
        t0 = time.perf_counter()
        proc = subprocess.run(command, env=dict(env or self.env), capture_output=True, text=True, check=False)
        wall = (time.perf_counter() - t0) * 1000
        cpu = _children_cpu_ms() - before
        lines = [line for line in proc.stdout.splitlines() if line.startswith("BENCH ")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"{self.name}: the child failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        out: dict[str, Any] = json.loads(lines[-1].removeprefix("BENCH "))
        out["wall_ms"] = wall
        out["cpu_ms"] = cpu
        return out

    def sample(self) -> None:
        out = self.run()
        self.wall_ms.append(out["wall_ms"])
        self.cpu_ms.append(out["cpu_ms"])
        self.ready_ms.append(out["ready_ms"])
        self.rss_kb.append(out["rss_ready_kb"])
        self.xray = out["xray"]

    def import_breakdown(self, top: int = 6) -> str:
        """The packages whose own import time (``-X importtime`` self time) is the largest, in ms."""
        command = [PYTHON, "-I", "-S", "-B", "-X", "importtime", "-c", self.code()]
        proc = subprocess.run(command, env=self.env, capture_output=True, text=True, check=True)
        totals: dict[str, int] = {}
        for line in proc.stderr.splitlines():
            parts = line.removeprefix("import time:").split("|")
            if len(parts) != 3 or not parts[0].strip().isdigit():
                continue
            package = parts[2].strip().split(".")[0]
            totals[package] = totals.get(package, 0) + int(parts[0])
        ranked = sorted(totals.items(), key=lambda kv: -kv[1])
        whole = sum(totals.values()) / 1000
        shown = "  ".join(f"{name} {us / 1000:.0f}" for name, us in ranked[:top])
        return f"{whole:.0f} ms of imports: {shown}  (ms, self time under -X importtime)"

    @property
    def wall(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpu_ms)


def _children_cpu_ms() -> float:
    """User + system CPU time of this process's finished children, in ms (what a loaded machine's
    other work does not add to, unlike the wall clock)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _indent(code: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else "" for line in code.strip("\n").splitlines())


def _mb(kb: float) -> float:
    return kb / 1024


def candidates() -> list[Candidate]:
    layer = str(built_layer())
    runtime = str(site_dir("boto3-runtime", pinned("boto3", "botocore")))
    sample = str(site_dir("aws-sample", pinned("stripe")))
    naive = str(site_dir("naive-powertools", pinned("stripe", "aws-lambda-powertools", "aws-xray-sdk", "botocore")))
    receiver_env = function_env("ReceiverFunction")
    forwarder_env = function_env("ForwarderFunction")
    fn = ROOT / "functions"
    return [
        Candidate("floor", [runtime], FLOOR, receiver_env, first=FLOOR_CALL),
        Candidate("receiver", [str(fn / "receiver"), layer, runtime], RECEIVER, receiver_env),
        Candidate("forwarder", [str(fn / "forwarder"), layer, runtime], FORWARDER, forwarder_env),
        Candidate("aws-sample", [sample, runtime], AWS_SAMPLE, receiver_env),
        Candidate("naive-powertools", [naive, runtime], NAIVE_POWERTOOLS, receiver_env),
    ]


# --- one invocation each, for the peak RSS --------------------------------------------------------


def _stripe_sample(now: float) -> Sample:
    return Sample.load(ROOT / "events" / "stripe" / "checkout-session-completed.json").retimed(now)


def receiver_job(now: float) -> dict[str, Any]:
    sample = _stripe_sample(now)
    body = sample.raw_body()
    signed = REGISTRY["stripe"].sign_headers(body, SECRET, now=now)
    headers = {k.lower(): v for k, v in sample.request_headers(signed).items()}
    event = {
        "version": "2.0",
        "routeKey": "POST /webhooks/{source}",
        "rawPath": "/webhooks/stripe",
        "rawQueryString": "",
        "headers": headers,
        "pathParameters": {"source": "stripe"},
        "requestContext": {"http": {"method": "POST", "path": "/webhooks/stripe"}, "domainName": "bench.invalid"},
        "body": body.decode(),
        "isBase64Encoded": False,
    }
    document = {"sources": {"stripe": {"signing_secrets": [SECRET]}}}
    return {"event": event, "aws": _aws_answers(document), "queue_url": QUEUE_URL}


def forwarder_job(now: float) -> dict[str, Any]:
    sample = _stripe_sample(now)
    envelope = Envelope.wrap(
        source="stripe",
        webhook_id="evt_bench",
        received_at=datetime.fromtimestamp(now, UTC),
        content_type=sample.content_type,
        body=sample.raw_body(),
        headers={},
    )
    record = {
        "messageId": "m-1",
        "receiptHandle": "r-1",
        "body": envelope.to_message(),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": str(int(now * 1000))},
        "messageAttributes": {},
        "eventSource": "aws:sqs",
    }
    return {"event": {"Records": [record]}, "aws": _aws_answers({"ours_token": TOKEN, "sources": {}})}


def _aws_answers(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        "SendMessage": {"MessageId": "bench-1"},
        "ChangeMessageVisibility": {},
        "GetSecretValue": {"Name": "bench", "ARN": "arn:bench", "SecretString": json.dumps(document)},
    }


def invoked_run(candidate: Candidate, job: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(job, f)
    try:
        return candidate.run(f.name, env=env)
    finally:
        Path(f.name).unlink()


# --- report ---------------------------------------------------------------------------------------


def main() -> None:
    print(f"cold start as fresh processes (python3.11 -I -S -B, Lambda-like sys.path), median of {RUNS} runs")
    runs = candidates()
    by_name = {c.name: c for c in runs}
    for c in runs:  # warm the page cache; not counted
        c.run()
    rng = random.Random(8)
    for _ in range(RUNS):
        order = runs[:]
        rng.shuffle(order)
        for c in order:
            c.sample()
    floor = by_name["floor"]
    print(f"  floor (import boto3 + SQS and Secrets Manager clients): {floor.wall:.0f} ms = 1.00x")
    alternatives = "   ".join(f"{n} {by_name[n].wall / floor.wall:.2f}x" for n in ("aws-sample", "naive-powertools"))
    for name, goal in GOALS.items():
        c = by_name[name]
        print(f"  {name:<9} ready  {c.wall / floor.wall:.2f}x floor (goal <= {goal}x)   {alternatives}")
    cpu_alternatives = "   ".join(f"{n} {by_name[n].cpu / floor.cpu:.2f}x" for n in ("aws-sample", "naive-powertools"))
    for name in GOALS:
        c = by_name[name]
        print(f"  {name:<9} CPU    {c.cpu / floor.cpu:.2f}x floor's CPU time (whole process)   {cpu_alternatives}")
    for c in runs:
        spread = f"{min(c.wall_ms):.0f}-{max(c.wall_ms):.0f}"
        in_process = statistics.median(c.ready_ms)
        print(
            f"    {c.name:<17} {c.wall:6.1f} ms wall ({spread})  {c.cpu:6.1f} ms CPU"
            f"  {in_process:6.1f} ms import+clients in-process"
            f"  {c.wall / floor.wall:5.2f}x  x-ray SDK loaded: {'yes' if c.xray else 'no'}"
        )
    print("import-time breakdown (one run each; `app` is the handler module's own body: its at-init boto3 clients)")
    for name in ("floor", "receiver", "forwarder"):
        print(f"    {name:<9} {by_name[name].import_breakdown()}")
    print(f"peak RSS (ru_maxrss; goal <= {RSS_GOAL_MB} MB per function) and the first invocation")
    now = time.time()
    with LocalOurs(tokens={TOKEN}) as ours:
        jobs = {
            "floor": (receiver_job(now), floor.env),
            "receiver": (receiver_job(now), by_name["receiver"].env),
            "forwarder": (forwarder_job(now), {**by_name["forwarder"].env, "OURS_API_URL": ours.url}),
        }
        invoked = {
            name: [invoked_run(by_name[name], job, env) for _ in range(INVOKE_RUNS)]
            for name, (job, env) in jobs.items()
        }
        delivered = len(ours.accepted)
    for name in GOALS:
        out = invoked[name][-1]
        ready = _mb(statistics.median(by_name[name].rss_kb))
        print(
            f"  {name:<9} {_mb(out['rss_invoked_kb']):5.1f} MB after one invocation (result {out['result']})"
            f"   {ready:5.1f} MB ready (goal <= {RSS_GOAL_MB} MB)"
        )
    print(f"    (the forwarder's {INVOKE_RUNS} first invocations delivered {delivered} event(s) to the local Ours)")
    first = {name: statistics.median(o["invoke_ms"] for o in outs) for name, outs in invoked.items()}
    whole = {name: by_name[name].wall + first[name] for name in invoked}
    print(
        f"  first invocation after ready (median of {INVOKE_RUNS} fresh processes): floor (one bare send_message)"
        f" {first['floor']:.1f} ms"
    )
    for name in GOALS:
        print(
            f"  {name:<9} first invocation {first[name]:6.1f} ms   ready + first invocation"
            f" {whole[name] / whole['floor']:.2f}x the floor's"
        )
    for name in ("floor", "aws-sample", "naive-powertools"):
        print(f"    {name:<17} {_mb(statistics.median(by_name[name].rss_kb)):5.1f} MB ready")


if __name__ == "__main__":
    main()
