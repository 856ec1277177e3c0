"""Ctrl-C during `serve --replay` says how many samples were sent and how many never were, and exits non-zero."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = 400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def many_samples(directory: Path) -> None:
    """``SAMPLES`` copies of an unmapped Stripe sample (skipped by the forwarder: nothing reaches Ours)."""
    sample = json.loads((ROOT / "events/stripe/customer-created-ignored.json").read_text())
    (directory / "stripe").mkdir()
    for n in range(SAMPLES):
        sample["body"]["id"] = f"evt_interrupt{n:04d}"
        (directory / "stripe" / f"sample-{n:04d}.json").write_text(json.dumps(sample))


def test_ctrl_c_during_the_replay_reports_what_was_never_sent(tmp_path: Path) -> None:
    # Given serve replaying many samples
    many_samples(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "TRANSLATOR_CONFIG"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "webhook_translator_tools.cli",
            "serve",
            "--port",
            str(free_port()),
            "--aws-port",
            str(free_port()),
            "--replay",
            str(tmp_path),
        ],
        cwd=ROOT,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    printed: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + 60
        while not any(re.search(r"Replaying \d+ samples", line) for line in printed):
            assert time.monotonic() < deadline, "\n".join(printed)
            try:
                printed.append(lines.get(timeout=0.2))
            except queue.Empty:
                assert process.poll() is None, "\n".join(printed)

        # When the user presses Ctrl-C while samples are being sent
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    time.sleep(0.2)
    while not lines.empty():
        printed.append(lines.get())
    text = "\n".join(printed)

    # Then the summary counts what was sent and what never was, adding up to every sample
    match = re.search(r"replay: interrupted: (\d+) sent, (\d+) accepted, (\d+) not sent", text)
    assert match, text
    sent, accepted, not_sent = map(int, match.groups())
    assert sent + not_sent == SAMPLES
    assert not_sent > 0
    assert accepted == sent
    # and serve stops cleanly, with the status of an interrupted command (130), not success
    assert code == 130, text
    assert printed[-1] == "Stopped."
    assert "Traceback" not in text
