"""Cold start: how long a fresh Python process takes to import each Lambda handler (and what it pulls in).

Each figure is the median of several fresh interpreters, so it includes every
module the handler imports at load time (Powertools, pydantic, the package;
boto3 is imported lazily, on the first AWS call). Run with ``make bench``.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUNS = int(os.environ.get("BENCH_RUNS", "7"))

PROBE = """
import sys, time
sys.path[:0] = [{layer!r}, {function!r}]
t0 = time.perf_counter()
import app  # the handler module, as Lambda loads it
t1 = time.perf_counter()
mods = set(sys.modules)
print(f"{{(t1 - t0) * 1000:.1f}} {{int('boto3' in mods)}} {{int('aws_xray_sdk' in mods)}}")
"""

BASELINE = """
import time
t0 = time.perf_counter()
import {module}
print(f"{{(time.perf_counter() - t0) * 1000:.1f}} 0 0")
"""


def measure(code: str) -> tuple[float, float, bool, bool]:
    env = {
        **os.environ,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/q",
        "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/1/d",
        "SECRET_ID": "s",
    }
    samples = []
    boto = xray = False
    for _ in range(RUNS):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        ms, b, x = out.stdout.split()
        samples.append(float(ms))
        boto, xray = b == "1", x == "1"
    return statistics.median(samples), min(samples), boto, xray


def main() -> None:
    layer = str(ROOT / "layers" / "shared")
    print(f"cold-start imports, median / min of {RUNS} fresh interpreters (python {sys.version.split()[0]})")
    for name in ("receiver", "forwarder"):
        code = PROBE.format(layer=layer, function=str(ROOT / "functions" / name))
        median, low, boto, xray = measure(code)
        print(
            f"  {name:<10} handler import  {median:7.1f} ms  (min {low:.1f})"
            f"  boto3 at import: {'yes' if boto else 'no'}  x-ray at import: {'yes' if xray else 'no'}"
        )
    for module in ("boto3", "aws_lambda_powertools.tracing"):
        median, low, _, _ = measure(BASELINE.format(module=module))
        print(f"  for scale: import {module:<30} {median:7.1f} ms  (min {low:.1f})")


if __name__ == "__main__":
    main()
