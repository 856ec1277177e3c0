"""The import-time breakdown of each function's cold start: ``python -m bench.importtime``.

The same children as :mod:`bench.bench_cold_start` (the layer as built, a Lambda-like ``sys.path``,
the environment ``template.yaml`` gives the function) under ``-X importtime``: the median self time
of each module over ``BENCH_RUNS`` runs (5), by top-level package and the top modules. ``app`` is the
handler module's own body, with its at-init boto3 clients. Prints; never fails on the figures.
"""

from __future__ import annotations

import collections
import os
import statistics
import subprocess

from bench.lambda_env import PYTHON, ROOT, built_layer, function_env, pinned, site_dir

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
FUNCTIONS = {
    "receiver": ("ReceiverFunction", "from webhook_translator.receiver import default_receiver as ready"),
    "forwarder": ("ForwarderFunction", "from webhook_translator.forwarder import default_forwarder as ready"),
}


def self_times(paths: list[str], code: str, env: dict[str, str]) -> dict[str, float]:
    """Module → median self time (µs) over RUNS fresh processes."""
    samples: dict[str, list[int]] = collections.defaultdict(list)
    child = f"import sys\nsys.path[:0] = {paths!r}\n{code}"
    for _ in range(RUNS):
        command = [PYTHON, "-I", "-S", "-B", "-X", "importtime", "-c", child]
        proc = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        for line in proc.stderr.splitlines():
            parts = line.removeprefix("import time:").split("|")
            if len(parts) == 3 and parts[0].strip().isdigit():
                samples[parts[2].strip()].append(int(parts[0]))
    return {module: statistics.median(times) for module, times in samples.items()}


def report(name: str, times: dict[str, float], top: int = 25) -> None:
    total = sum(times.values())
    packages: collections.Counter[str] = collections.Counter()
    for module, us in times.items():
        packages[module.split(".")[0]] += int(us)
    print(f"== {name}: {total / 1000:.0f} ms of import self time (median of {RUNS} runs)")
    for package, us in packages.most_common(12):
        print(f"    {us / 1000:7.1f} ms  {100 * us / total:4.1f} %  {package}")
    print("  top modules by self time:")
    for module, us in sorted(times.items(), key=lambda kv: -kv[1])[:top]:
        print(f"    {us / 1000:7.1f} ms  {module}")


def main() -> None:
    layer = str(built_layer())
    runtime = str(site_dir("boto3-runtime", pinned("boto3", "botocore")))
    for name, (logical_id, ready) in FUNCTIONS.items():
        paths = [str(ROOT / "functions" / name), layer, runtime]
        report(name, self_times(paths, f"import app\n{ready}\nready()", function_env(logical_id)))
    floor = "import boto3\nboto3.client('sqs')\nboto3.client('secretsmanager')"
    report("floor", self_times([runtime], floor, function_env("ReceiverFunction")), top=10)


if __name__ == "__main__":
    main()
