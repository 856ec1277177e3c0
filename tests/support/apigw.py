"""Build API Gateway HTTP API (payload 2.0) events and SQS Lambda events the way AWS does."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"


def http_event(
    source: str,
    body: bytes | str,
    headers: Mapping[str, str] | None = None,
    *,
    method: str = "POST",
    base64_body: bool = False,
    query: str = "",
) -> dict[str, Any]:
    """An HTTP API v2.0 event for ``{method} /webhooks/{source}``: lower-cased headers, raw or base64 body."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if base64_body:
        text, encoded = base64.b64encode(raw).decode("ascii"), True
    else:
        text, encoded = raw.decode("utf-8"), False
    params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/{source}",
        "rawPath": f"/webhooks/{source}",
        "rawQueryString": query,
        "headers": {k.lower(): v for k, v in (headers or {}).items()},
        **({"queryStringParameters": params} if params else {}),
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api1234567",
            "domainName": "api1234567.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "api1234567",
            "http": {
                "method": method,
                "path": f"/webhooks/{source}",
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.7",
                "userAgent": "Stripe/1.0",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "POST /webhooks/{source}",
            "stage": "$default",
            "time": "26/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795694400000,
        },
        "pathParameters": {"source": source},
        "body": text,
        "isBase64Encoded": encoded,
    }


def sqs_event(messages: list[Mapping[str, Any]]) -> dict[str, Any]:
    """A Lambda SQS event from messages as boto3's receive_message returns them."""
    records = []
    for m in messages:
        attrs = m.get("MessageAttributes") or {}
        records.append(
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {
                    "ApproximateReceiveCount": m.get("Attributes", {}).get("ApproximateReceiveCount", "1"),
                    "SentTimestamp": m.get("Attributes", {}).get("SentTimestamp", "0"),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {
                    k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType", "String")}
                    for k, v in attrs.items()
                },
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:webhooks",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def sample(path: str) -> dict[str, Any]:
    """A raw webhook sample from events/ (``{"source", "content_type", "headers", "body"|"body_text"}``)."""
    data: dict[str, Any] = json.loads((EVENTS / path).read_text())
    return data


def sample_body(data: Mapping[str, Any]) -> bytes:
    if "body_text" in data:
        return str(data["body_text"]).encode("utf-8")
    return json.dumps(data["body"], separators=(",", ":")).encode("utf-8")
