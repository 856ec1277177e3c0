"""The environment of a function started in a fresh process by a test: what its init needs, nothing real."""

from __future__ import annotations

from typing import Final

#: complete for both functions (the receiver ignores DLQ_URL and OURS_API_URL); fake credentials, no tracing
FUNCTION_ENV: Final = {
    "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/q",
    "DLQ_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/d",
    "SECRET_ID": "webhook-translator",
    "OURS_API_URL": "http://127.0.0.1:9",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
