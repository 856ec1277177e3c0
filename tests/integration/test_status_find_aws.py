"""``status`` and ``find`` on their AWS paths, against moto: CloudWatch metrics + SQS, and CloudWatch Logs.

The metrics are the EMF documents the real receiver and the observability constants produce, put
into moto's CloudWatch the way CloudWatch ingests EMF (one datum per metric and dimension set).
moto's Logs Insights does not run ``filter``; ``find`` filters the records it gets back by
``webhook_id`` itself, so the journey is right either way, and the query is checked as a string.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import stripe
from moto import mock_aws

from support.apigw import http_event
from support.aws import Queues, make_queues
from webhook_translator import log_events, observability
from webhook_translator.config import Settings
from webhook_translator.observability import metrics
from webhook_translator.receiver import Receiver
from webhook_translator.secrets import StaticSecrets
from webhook_translator_tools.cli import main
from webhook_translator_tools.cli.find import insights_query

SECRET = "whsec_status_aws_test_0123456789"


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Queues]:
    monkeypatch.delenv("WEBHOOK_TRANSLATOR_LOG", raising=False)
    monkeypatch.delenv("WEBHOOK_TRANSLATOR_LOG_GROUPS", raising=False)
    with mock_aws():
        queues = make_queues(boto3.client("sqs", region_name="us-east-1"))
        monkeypatch.setenv("QUEUE_URL", queues.queue_url)
        monkeypatch.setenv("DLQ_URL", queues.dlq_url)
        yield queues


def ingest(documents: list[dict[str, Any]]) -> None:
    """What CloudWatch does with EMF documents: one metric datum per metric of each document."""
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    for doc in documents:
        for directive in doc["_aws"]["CloudWatchMetrics"]:
            dims = [{"Name": n, "Value": doc[n]} for n in directive["Dimensions"][0]]
            data = [
                {
                    "MetricName": m["Name"],
                    "Dimensions": dims,
                    "Values": doc[m["Name"]],
                    "Unit": m["Unit"],
                    "Timestamp": datetime.fromtimestamp(doc["_aws"]["Timestamp"] / 1000, UTC),
                }
                for m in directive["Metrics"]
            ]
            cloudwatch.put_metric_data(Namespace=directive["Namespace"], MetricData=data)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_status_reads_the_functions_metrics_from_cloudwatch_and_the_queues_from_sqs(
    aws: Queues, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the receiver handled a genuine Stripe webhook and one whose body a proxy re-serialised
    metrics.documents()
    receiver = Receiver(
        Settings(QUEUE_URL=aws.queue_url),
        StaticSecrets({"sources": {"stripe": {"signing_secrets": [SECRET]}}}),
        sqs=aws.sqs,
    )
    body = json.dumps({"id": "evt_status_1", "type": "invoice.paid", "created": int(time.time())}, indent=2)
    header = stripe.WebhookSignature.generate_signature_header(body, SECRET)
    headers = {"Content-Type": "application/json", "Stripe-Signature": header}
    assert receiver.handle(http_event("stripe", body, headers))["statusCode"] == 200
    refused = receiver.handle(http_event("stripe", json.dumps(json.loads(body)), headers))
    assert json.loads(refused["body"])["reason"] == "body_modified"
    # and the forwarder delivered it once after Ours answered 503 once, and dead-lettered another
    metrics.add(observability.RETRIED, Source="stripe", Reason="ours_unavailable")
    metrics.add(observability.DELIVERED, Source="stripe")
    metrics.add(observability.DEAD_LETTERED, Source="stripe", Reason="ours_rejected")
    metrics.add(observability.OURS_LATENCY, 20, observability.MetricUnit.Milliseconds, Source="stripe")
    metrics.add(observability.OURS_LATENCY, 40, observability.MetricUnit.Milliseconds, Source="stripe")
    metrics.add(observability.OURS_RESPONSES, Source="stripe", Status="200")
    metrics.add(observability.OURS_RESPONSES, Source="stripe", Status="503")
    ingest(metrics.documents())
    aws.sqs.send_message(QueueUrl=aws.dlq_url, MessageBody="{}")
    # When status runs against AWS (no local log)
    code, out = run(capsys, "status", "--since", "1h")
    # Then the table, the reasons, Ours and the queues are CloudWatch's and SQS's figures
    assert code == 0, out
    header_row, stripe_row = out.splitlines()[:2]
    assert header_row.split() == [
        "SOURCE",
        "RECEIVED",
        "REFUSED",
        "QUEUED",
        "DELIVERED",
        "SKIPPED",
        "RETRIED",
        "DEAD-LETTERED",
    ]
    assert stripe_row.split() == ["stripe", "2", "1", "1", "1", "0", "1", "1"]
    assert "refused by reason: stripe body_modified 1" in out
    assert "retried by reason: stripe ours_unavailable 1" in out
    assert "dead-lettered by reason: stripe ours_rejected 1" in out
    assert "Ours: 2 calls (200: 1, 503: 1), latency 30 ms average, 40 ms max" in out
    assert "queue: 1 waiting, 0 in flight" in out
    assert "DLQ: 1 message" in out
    assert "CloudWatch namespace WebhookTranslator" in out


def test_status_as_json_holds_the_same_figures(aws: Queues, capsys: pytest.CaptureFixture[str]) -> None:
    metrics.documents()
    metrics.add(observability.REFUSED, Source="typeform", Reason="no_matching_secret")
    metrics.add(observability.RECEIVED, Source="typeform")
    ingest(metrics.documents())
    code, out = run(capsys, "status", "--json")
    figures = json.loads(out)
    assert code == 0
    assert figures["sources"]["typeform"]["REFUSED"] == 1
    assert figures["refused_by_reason"] == {"typeform": {"no_matching_secret": 1}}
    assert figures["dlq"] == {"messages": 0}


def record(message: str, webhook_id: str, **fields: Any) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S,%f")[:-3] + "+0000"
    return json.dumps(
        {
            "level": "INFO",
            "message": message,
            "timestamp": stamp,
            "service": "webhook-translator",
            "webhook_id": webhook_id,
            **fields,
        }
    )


def test_find_follows_one_webhook_through_both_log_groups(
    aws: Queues, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the functions' log groups, holding one webhook retried then delivered, and another webhook
    logs = boto3.client("logs", region_name="us-east-1")
    lines = {
        "/aws/lambda/receiver": [
            record(
                log_events.WEBHOOK_QUEUED, "evt_find_1", source="stripe", received_at="2026-12-02T01:00:00.000+00:00"
            ),
            record(log_events.WEBHOOK_QUEUED, "evt_other", source="stripe"),
        ],
        "/aws/lambda/forwarder": [
            "REPORT RequestId: 1 Duration: 10 ms",
            record(
                log_events.WEBHOOK_RETRIED,
                "evt_find_1",
                source="stripe",
                event_type="invoice.paid",
                outcome="retry",
                attempt=1,
                reason="ours_unavailable",
                ours_status=503,
                delay=2.0,
                distinct_id="stripe:evt_find_1",
                error="never printed",
            ),
            record(
                log_events.WEBHOOK_DELIVERED,
                "evt_find_1",
                source="stripe",
                event_type="invoice.paid",
                attempt=2,
                events=1,
            ),
            record(log_events.WEBHOOK_DEAD_LETTERED, "evt_other", source="stripe", reason="ours_rejected", attempt=1),
        ],
    }
    for group, messages in lines.items():
        logs.create_log_group(logGroupName=group)
        logs.create_log_stream(logGroupName=group, logStreamName="s")
        events = [{"timestamp": int(time.time() * 1000) + i, "message": m} for i, m in enumerate(messages)]
        logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=events)
    monkeypatch.setenv("WEBHOOK_TRANSLATOR_LOG_GROUPS", ",".join(lines))
    # When find runs on AWS
    code, out = run(capsys, "find", "evt_find_1")
    # Then it prints that webhook's journey only, in order, ending delivered
    assert code == 0, out
    journey = [line.split("  ")[-1] for line in out.splitlines()[1:-2]]
    assert out.splitlines()[0] == "stripe evt_find_1 invoice.paid"
    assert journey == [
        "received",
        "queued",
        "attempt 1: will be retried in 2 s (ours_unavailable, Ours answered 503)",
        "attempt 2: delivered to Ours (1 event)",
    ]
    assert out.splitlines()[-2] == "delivered"
    for hidden in ("evt_other", "never printed", "stripe:evt_find_1"):
        assert hidden not in out
    # and an id nobody logged is "not found", exit 1
    code, out = run(capsys, "find", "evt_nobody")
    assert code == 1
    assert "evt_nobody: not found" in out


def test_find_without_log_groups_or_a_local_log_is_one_line(aws: Queues, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "find", "evt_1")
    assert code == 1
    assert len(out.strip().splitlines()) == 1
    assert "WEBHOOK_TRANSLATOR_LOG_GROUPS" in out


def test_the_insights_query_filters_on_the_id_as_a_quoted_literal() -> None:
    assert insights_query("evt_1") == (
        'fields @timestamp, @message | filter webhook_id = "evt_1" | sort @timestamp asc | limit 500'
    )
    assert 'filter webhook_id = "a\\"b\\\\c"' in insights_query('a"b\\c')
