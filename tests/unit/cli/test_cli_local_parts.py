"""The pieces of the local stack, each at its own level: the API Gateway event, the SQS poller,
the console lines, and the samples' re-timing."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from moto import mock_aws

from webhook_translator.receiver import request_from_apigw
from webhook_translator_tools.local.apigw import build_event
from webhook_translator_tools.local.console import Console, PipelineLogHandler
from webhook_translator_tools.local.poller import SqsPoller, lambda_record
from webhook_translator_tools.local.samples import Sample, SampleError, TimeField

NOW = 1_795_000_000.0

# --- the API Gateway event ------------------------------------------------------------------------


def event_for(body: bytes, content_type: str, **kwargs: Any) -> dict[str, Any]:
    headers = [("Host", "127.0.0.1:3000"), ("Content-Type", content_type), ("User-Agent", "Stripe/1.0")]
    return build_event(
        method="POST",
        target=kwargs.pop("target", "/webhooks/stripe"),
        headers=headers + kwargs.pop("extra", []),
        body=body,
        source_ip="127.0.0.1",
        source="stripe",
        now=NOW,
    )


def test_a_json_request_becomes_a_payload_2_0_event_with_a_text_body() -> None:
    # Given a JSON POST with a query string and a repeated header
    body = b'{"id":"evt_1"}'
    event = event_for(
        body, "application/json", target="/webhooks/stripe?a=1&a=2&b=", extra=[("X-Tag", "x"), ("x-tag", "y")]
    )

    # Then the event has API Gateway's shape: version, route, raw path and query, lower-cased joined headers
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /webhooks/{source}"
    assert event["rawPath"] == "/webhooks/stripe"
    assert event["rawQueryString"] == "a=1&a=2&b="
    assert event["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert event["pathParameters"] == {"source": "stripe"}
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-tag"] == "x,y"
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/webhooks/stripe",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "Stripe/1.0",
    }
    assert context["domainName"] == "127.0.0.1"
    assert context["timeEpoch"] == NOW * 1000
    assert context["requestId"]
    # And the body is the raw text, not base64
    assert (event["body"], event["isBase64Encoded"]) == ('{"id":"evt_1"}', False)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [(b"\xff\xfe not utf-8", "application/json"), (b"--b\r\nfield\r\n--b--", "multipart/form-data; boundary=b")],
    ids=["not-utf8", "multipart"],
)
def test_binary_bodies_are_base64_encoded_and_the_receiver_gets_the_exact_bytes(body: bytes, content_type: str) -> None:
    # Given a body API Gateway would base64-encode
    event = event_for(body, content_type)

    # Then it is base64 with isBase64Encoded, and the receiver decodes the exact bytes back
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    _, source, request = request_from_apigw(event, datetime.now(UTC))
    assert (source, request.body) == ("stripe", body)


def test_cookies_are_apart_from_the_headers() -> None:
    event = event_for(b"{}", "application/json", extra=[("Cookie", "a=1; b=2")])
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]


# --- the SQS poller (Lambda's event source mapping) ----------------------------------------------


@pytest.fixture
def sqs(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name="us-east-1")


def send(sqs: Any, url: str, n: int) -> None:
    for i in range(n):
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps({"n": i}),
            MessageAttributes={"source": {"DataType": "String", "StringValue": "stripe"}},
        )


def counts(sqs: Any, url: str) -> tuple[int, int]:
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"]), int(a["ApproximateNumberOfMessagesNotVisible"])


def test_the_poller_builds_lambdas_sqs_event_and_deletes_only_the_successes(sqs: Any) -> None:
    # Given three queued messages and a forwarder that fails the second
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    send(sqs, url, 3)
    seen: list[dict[str, Any]] = []

    def forwarder(event: dict[str, Any]) -> dict[str, Any]:
        seen.append(event)
        second = next(r for r in event["Records"] if json.loads(r["body"])["n"] == 1)
        return {"batchItemFailures": [{"itemIdentifier": second["messageId"]}]}

    poller = SqsPoller(sqs, url, "arn:aws:sqs:us-east-1:123456789012:q", forwarder, region="us-east-1", wait_seconds=0)

    # When it polls once
    assert poller.poll_once() == 3

    # Then the forwarder got one event in Lambda's shape, which Powertools parses as the forwarder does
    [event] = seen
    record = SQSRecord(event["Records"][0])
    assert record.event_source == "aws:sqs"
    assert record.event_source_arn == "arn:aws:sqs:us-east-1:123456789012:q"
    assert record.attributes.approximate_receive_count == "1"
    assert record.attributes.sent_timestamp
    source = record.message_attributes["source"]
    assert source is not None
    assert (source.string_value, source.data_type) == ("stripe", "String")
    # And only the failed record is left, in flight until its visibility ends
    assert counts(sqs, url) == (0, 1)


@pytest.mark.parametrize(
    "answer",
    [RuntimeError("boom"), {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]}],
    ids=["handler-raises", "unknown-identifier"],
)
def test_a_failed_invocation_leaves_the_whole_batch(sqs: Any, answer: Any) -> None:
    # Given a forwarder that raises, or names a record that is not in the batch
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    send(sqs, url, 2)
    lines: list[str] = []

    def forwarder(event: dict[str, Any]) -> Any:
        if isinstance(answer, Exception):
            raise answer
        return answer

    class Lines(Console):
        def line(self, text: str) -> None:
            lines.append(text)

    console = Lines()
    poller = SqsPoller(sqs, url, "arn:q", forwarder, region="us-east-1", console=console, wait_seconds=0)

    # When it polls / Then nothing is deleted, as on Lambda, and the console says why
    poller.poll_once()
    assert counts(sqs, url) == (0, 2)
    assert len(lines) == 1
    assert lines[0].startswith("error: ")


def test_message_attributes_take_lambdas_shape() -> None:
    record = lambda_record(
        {
            "MessageId": "m",
            "ReceiptHandle": "r",
            "Body": "{}",
            "Attributes": {"ApproximateReceiveCount": "3", "SentTimestamp": "1"},
            "MessageAttributes": {"b": {"DataType": "Binary", "BinaryValue": b"\x00"}},
        },
        queue_arn="arn",
        region="us-east-1",
    )
    assert record["attributes"]["ApproximateReceiveCount"] == "3"
    assert record["messageAttributes"]["b"] == {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "Binary",
        "binaryValue": "AA==",
    }


# --- the console lines --------------------------------------------------------------------------------


def line_for(message: str, level: int = logging.INFO, **extra: Any) -> str | None:
    record = logging.LogRecord("webhook-translator", level, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return PipelineLogHandler(Console()).format_record(record)


@pytest.mark.parametrize(
    ("message", "extra", "line"),
    [
        ("webhook queued", {"source": "stripe", "webhook_id": "evt_1"}, "stripe evt_1 → queued"),
        (
            "webhook delivered",
            {"source": "stripe", "webhook_id": "evt_1", "event_type": "invoice.paid", "events": 1},
            "stripe evt_1 invoice.paid → delivered (1 event)",
        ),
        (
            "webhook skipped",
            {"source": "stripe", "webhook_id": "evt_2", "event_type": "customer.created", "reason": "ignored_type"},
            "stripe evt_2 customer.created → skipped (ignored_type): nothing sent to Ours",
        ),
        (
            "webhook will be retried",
            {
                "source": "tally",
                "webhook_id": "s1",
                "event_type": "FORM_RESPONSE",
                "reason": "rate_limited",
                "delay": 1,
            },
            "tally s1 FORM_RESPONSE → will be retried in 1 s (rate_limited)",
        ),
        (
            "webhook dead-lettered",
            {"source": "stripe", "webhook_id": "evt_3", "event_type": "-", "reason": "invalid_envelope"},
            "stripe evt_3 → dead-lettered (invalid_envelope)",
        ),
        (
            "webhook refused",
            {"source": "stripe", "status": 401, "reason": "bad_signature"},
            "stripe → refused 401 (bad_signature)",
        ),
    ],
    ids=["queued", "delivered", "skipped", "retried", "dead-lettered", "refused"],
)
def test_pipeline_records_become_one_readable_line(message: str, extra: dict[str, Any], line: str) -> None:
    assert line_for(message, **extra) == line


def test_other_warnings_show_only_safe_fields_and_debug_noise_is_dropped() -> None:
    # Given a warning carrying a field that is not on the safe list
    text = line_for("could not set the retry delay", logging.WARNING, error="ClientError", email="jane@example.com")
    # Then only the safe field is shown
    assert text == "warning: could not set the retry delay (error=ClientError)"
    # And routine records nobody formats are dropped
    assert line_for("Ours answered", logging.WARNING, status=503) is None
    assert line_for("cold start", logging.INFO) is None


# --- samples --------------------------------------------------------------------------------------------


def sample(body: Any, *fields: list[Any], text: bool = False) -> Sample:
    data: dict[str, Any] = {
        "source": "x",
        "content_type": "application/json",
        "headers": {},
        "time_fields": list(fields),
    }
    data["body_text" if text else "body"] = json.dumps(body) if text else body
    return Sample.from_json(data)


def test_retiming_sets_each_field_in_its_unit_to_a_few_seconds_ago() -> None:
    # Given a sample with times in seconds, milliseconds and ISO 8601, one inside a list
    body = {
        "created": 1,
        "meta": {"ms": 2},
        "items": [{"at": "2020-01-01T00:00:00.000Z"}],
        "plain": "2020-01-01T00:00:00Z",
    }
    original = sample(body, ["created", "s"], ["meta", "ms", "ms"], ["items", 0, "at", "iso"], ["plain", "iso"])

    # When it is re-timed
    timed = original.retimed(NOW, lag=5)

    # Then every field is "now - 5 s" in its own unit and format, and the original is unchanged
    assert timed.body["created"] == NOW - 5
    assert timed.body["meta"]["ms"] == (NOW - 5) * 1000
    moment = datetime.fromtimestamp(NOW - 5, UTC)
    assert timed.body["items"][0]["at"] == moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert timed.body["plain"] == moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert original.body["created"] == 1


def test_retiming_a_json_body_text_keeps_it_text() -> None:
    timed = sample({"t": 1}, ["t", "s"], text=True).retimed(NOW, lag=0)
    assert timed.raw_body() == b'{"t":1795000000}'


def test_retiming_an_indented_body_text_keeps_its_layout() -> None:
    # Given a body laid out as Stripe sends its events (two-space indent) with a non-ASCII name
    text = '{\n  "created": 1,\n  "name": "Haruto Satō",\n  "data": {\n    "n": null\n  }\n}'
    original = Sample.from_json(
        {
            "source": "stripe",
            "content_type": "application/json",
            "headers": {},
            "body_text": text,
            "time_fields": [["created", "s"]],
        }
    )

    # When it is re-timed, then only the time changed: the same indent, the name as it was
    timed = original.retimed(NOW, lag=0)
    assert timed.raw_body().decode() == text.replace('"created": 1', f'"created": {int(NOW)}')


def test_a_time_field_missing_from_the_body_is_named() -> None:
    with pytest.raises(SampleError, match=r"time field data.created \(s\) is not in the body"):
        sample({"data": {}}, ["data", "created", "s"]).retimed(NOW)


@pytest.mark.parametrize(
    "bad", [["created"], ["created", "minutes"], [["nested"], "s"], "created"], ids=["no-unit", "unit", "path", "str"]
)
def test_a_malformed_time_field_is_refused(bad: Any) -> None:
    with pytest.raises(SampleError, match="time_fields"):
        TimeField.parse(bad, "sample")


def test_request_headers_keep_the_sample_content_type_and_let_the_signature_win() -> None:
    # Given a multipart sample with a stale signature header
    s = Sample.from_json(
        {
            "source": "x",
            "content_type": "multipart/form-data; boundary=b",
            "headers": {"User-Agent": "JotForm", "X-Sig": "stale"},
            "body_text": "--b--",
        }
    )
    # When signature headers are added
    headers = s.request_headers({"Content-Type": "multipart/form-data", "x-sig": "fresh"})
    # Then the fresh signature replaces the stale one and the boundary survives
    assert headers == {"User-Agent": "JotForm", "x-sig": "fresh", "Content-Type": "multipart/form-data; boundary=b"}
