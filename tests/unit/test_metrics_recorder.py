"""The metrics recorder: EMF documents per dimension set, thread-safe, flushed once per invocation."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from webhook_translator import observability
from webhook_translator.observability import MetricsRecorder, MetricUnit
from webhook_translator.sources.rewrites import undo_rewrites


def test_one_document_per_dimension_set_in_the_namespace_without_a_service_dimension() -> None:
    # Given values recorded under two dimension sets
    recorder = MetricsRecorder("Ns")
    recorder.add(observability.REFUSED, Source="stripe", Reason="body_modified")
    recorder.add(observability.RECEIVED, Source="stripe")
    recorder.add(observability.OURS_LATENCY, 12.5, MetricUnit.Milliseconds, Source="stripe")
    # When they are serialised
    documents = recorder.documents()
    # Then each dimension set is one EMF document holding its metrics, and nothing is left
    by_dims = {tuple(d["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0]): d for d in documents}
    assert set(by_dims) == {("Reason", "Source"), ("Source",)}
    pair = by_dims[("Reason", "Source")]
    assert (pair["Reason"], pair["Source"], pair["WebhooksRefused"]) == ("body_modified", "stripe", [1.0])
    single = by_dims[("Source",)]
    assert single["WebhooksReceived"] == [1.0]
    assert single["OursLatency"] == [12.5]
    units = {m["Name"]: m["Unit"] for m in single["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {"WebhooksReceived": "Count", "OursLatency": "Milliseconds"}
    assert all(d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Ns" for d in documents)
    assert all("service" not in d for d in documents)
    assert recorder.documents() == []


def test_more_than_100_values_are_split_across_documents_never_printed_behind_the_sink() -> None:
    written: list[str] = []
    recorder = MetricsRecorder("Ns", sink=written.append)
    for _ in range(250):
        recorder.add(observability.DELIVERED, Source="stripe")
    recorder.flush()
    counts = [len(json.loads(line)["WebhooksDelivered"]) for line in written]
    assert counts == [99, 99, 52]


def test_concurrent_workers_lose_no_value() -> None:
    recorder = MetricsRecorder("Ns")

    def work() -> None:
        for _ in range(500):
            recorder.add(observability.OURS_RESPONSES, Source="stripe", Status="200")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(len(d["OursResponses"]) for d in recorder.documents())
    assert total == 4000


def test_disabled_metrics_write_nothing_unless_a_sink_is_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    recorder = MetricsRecorder("Ns")
    recorder.add(observability.QUEUED, Source="stripe")
    recorder.flush()
    assert capsys.readouterr().out == ""
    written: list[str] = []
    recorder.sink = written.append
    recorder.add(observability.QUEUED, Source="stripe")
    recorder.flush()
    assert len(written) == 1


def test_log_metrics_flushes_to_stdout_when_the_handler_returns_or_raises(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    recorder = MetricsRecorder("Ns")

    @recorder.log_metrics
    def handler(event: dict[str, Any], context: Any) -> str:
        recorder.add(observability.QUEUED, Source="stripe")
        if event.get("fail"):
            raise RuntimeError("boom")
        return "ok"

    assert handler({}, None) == "ok"
    with pytest.raises(RuntimeError):
        handler({"fail": True}, None)
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["WebhooksQueued"] for line in lines] == [[1.0], [1.0]]


# --- the rewrites tried on the refusal path ------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "received", "what"),
    [
        (b'{"a": 1, "b": [1, 2]}', b'{"a":1,"b":[1,2]}', "spaces after separators"),
        (b'{"a":1,"b":"\xc3\xa9"}', json.dumps({"a": 1, "b": "é"}, indent=2).encode(), "compact"),
        (json.dumps({"b": 1, "a": 2}, indent=2).encode(), b'{"b":1,"a":2}', "indented by 2"),
        (b'{"a":1}\n', b'{"a":1}', "trailing newline removed"),
        (b"line1\nline2", b"line1\r\nline2", "the provider sent LF"),
        (b"line1\r\nline2", b"line1\nline2", "the provider sent CRLF"),
        (b'{"a":1}', b"eyJhIjoxfQ==", "base64"),
    ],
    ids=["compact->spaced", "indent->compact", "compact->indent (key order kept)", "newline", "LF", "CRLF", "base64"],
)
def test_each_common_rewrite_is_undone(original: bytes, received: bytes, what: str) -> None:
    candidates = {body: label for label, body in undo_rewrites(received)}
    assert original in candidates
    assert what in candidates[original]


def test_the_received_body_itself_is_never_a_candidate() -> None:
    body = b'{"a":1}'
    assert body not in [candidate for _, candidate in undo_rewrites(body)]
